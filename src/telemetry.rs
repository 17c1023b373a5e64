//! Logging: JSON lines in production, readable text locally; always on stderr, so that stdout
//! stays for command output. `RUST_LOG` sets the filter (default `info`).

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::settings::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    // Every line of a request carries its request id, however deep the span.
                    .with_span_list(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
    // Tests may initialise twice; the first subscriber stays.
    let _ = result;
}

/// The span of each HTTP request. Unlike tracing-actix-web's default it records the matched
/// route pattern instead of the raw target, so query strings (a cancel link's token) and path
/// values never reach the logs.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "http_request",
            http.method = %request.method(),
            http.route = %request.match_pattern().unwrap_or_else(|| "unmatched".to_owned()),
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(err) => err.as_response_error().status_code().as_u16(),
        };
        // The access log: one line per request, inside its span (so with its request id).
        span.in_scope(|| tracing::info!(status, "request handled"));
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

static PROMETHEUS: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
    std::sync::OnceLock::new();

/// The process's Prometheus recorder (installed on first use; one per process, shared by every
/// `Application` a test process builds). Durations are histograms with these bounds (seconds);
/// `intake_batch_size` (requests written together) has its own.
pub fn metrics() -> metrics_exporter_prometheus::PrometheusHandle {
    use metrics_exporter_prometheus::Matcher;
    PROMETHEUS
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .expect("bucket bounds are given")
                .set_buckets_for_metric(
                    Matcher::Full("intake_batch_size".to_owned()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
                )
                .expect("bucket bounds are given")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// HTTP metrics and the request id header, for every request: `http_requests_total` by route
/// pattern, method and status, and `http_request_duration_seconds` by route and method. Route
/// patterns, not paths, so that labels stay bounded.
pub async fn observe_request(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let request_id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    let started = std::time::Instant::now();
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status().as_u16().to_string(),
        Err(err) => err.as_response_error().status_code().as_u16().to_string(),
    };
    ::metrics::histogram!("http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    ::metrics::counter!("http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    result.map(|mut response| {
        if let Some(id) =
            request_id.and_then(|id| actix_web::http::header::HeaderValue::from_str(&id).ok())
        {
            response.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("x-request-id"),
                id,
            );
        }
        response
    })
}

/// Times an outbound call and counts it by operation and outcome (`ok` or `error`).
pub async fn timed_call<T, E>(
    service: &'static str,
    operation: &'static str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = std::time::Instant::now();
    let result = call.await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    ::metrics::histogram!("aws_call_duration_seconds", "service" => service, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    ::metrics::counter!("aws_calls_total", "service" => service, "operation" => operation, "outcome" => outcome)
        .increment(1);
    result
}

/// An error and its sources, as one line: `outer: cause: root cause`.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

/// Logs an unexpected error with its whole chain, once.
pub fn log_unexpected(context: &str, err: &(dyn std::error::Error + 'static)) {
    let chain = error_chain(err);
    tracing::error!(error.chain = %chain, "{context}");
}

//! The fault proxy between the service and the emulator. It relays every AWS call and can, per
//! operation, answer as AWS does when it throttles, drop the call or its answer, or hold it (so
//! that a test can kill the service at that exact step). It can also take the whole of AWS down
//! (every connection cut, new ones closed at once) or slow every new connection down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};

use crate::helpers::eventually;

/// What the proxy does to a call of one AWS operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answers as AWS does when it throttles (`TooManyRequestsException`: 400 from Cognito, 429
    /// from SES); the call never reaches the emulator.
    Throttle,
    /// Reads the call and closes the connection: the call never reached AWS.
    DropCall,
    /// Relays the call, then closes the connection without its answer: AWS did it, the service
    /// never learns.
    DropAnswer,
    /// Keeps the call from AWS until `clear`, then drops it (the call never reached AWS).
    HoldCall,
    /// Relays the call and keeps its answer until `clear`, then drops it (AWS did it).
    HoldAnswer,
}

/// A fault for the calls of one operation: the next `times` calls (or every later one) get it.
#[derive(Debug, Clone)]
pub struct Rule {
    operation: String,
    fault: Fault,
    times: Option<u64>,
    hits: u64,
}

impl Rule {
    /// `operation`: Cognito's name (`AdminDeleteSoftwareToken`), or SES v2's (`SendEmail`).
    pub fn new(operation: &str, fault: Fault) -> Self {
        Self {
            operation: operation.to_owned(),
            fault,
            times: None,
            hits: 0,
        }
    }

    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Applies to `n` calls only.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// The fault for the next call of this rule's operation, if any.
    fn take(&mut self) -> Option<Fault> {
        if self.times.is_some_and(|t| self.hits >= t) {
            return None;
        }
        self.hits += 1;
        Some(self.fault)
    }
}

#[derive(Default)]
struct Calls {
    rules: Vec<Rule>,
    /// Calls seen, per operation.
    seen: HashMap<String, u64>,
    /// Calls held now, per operation.
    held: HashMap<String, u64>,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    calls: Mutex<Calls>,
    /// Bumped by `clear`: every held call is then dropped.
    release: watch::Sender<u64>,
}

pub struct FaultProxy {
    port: u16,
    /// Connections accepted so far.
    accepted: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    cut: broadcast::Sender<()>,
    shared: Arc<Shared>,
}

impl FaultProxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let (cut, _) = broadcast::channel(16);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            calls: Mutex::new(Calls::default()),
            release: watch::channel(0).0,
        });
        let (d, c, delay) = (Arc::clone(&down), cut.clone(), Arc::clone(&delay_ms));
        let (count, state) = (Arc::clone(&accepted), Arc::clone(&shared));
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                if d.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cut = c.subscribe();
                let wait = Duration::from_millis(delay.load(Ordering::SeqCst));
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    serve(state, inbound, &mut cut).await;
                });
            }
        });
        Self {
            port,
            accepted,
            down,
            delay_ms,
            cut,
            shared,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Waits (up to 20 s) until a connection beyond the first `seen` arrives.
    pub async fn wait_for_connection_after(&self, seen: u64) {
        eventually(
            "a new connection reaches the AWS proxy",
            Duration::from_secs(20),
            || async { (self.connections() > seen).then_some(()) },
        )
        .await;
    }

    /// AWS is unreachable: every connection is cut and new ones are closed at once.
    pub fn take_down(&self) {
        self.down.store(true, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    /// Every new connection waits this long before it is served; open ones are cut so that the
    /// next call opens a new one.
    pub fn slow_down(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    pub fn bring_back(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// Adds a fault for the calls of one operation, from the next call on.
    pub fn inject(&self, rule: Rule) {
        self.shared.calls.lock().unwrap().rules.push(rule);
    }

    /// Removes every fault and drops every held call.
    pub fn clear(&self) {
        self.shared.calls.lock().unwrap().rules.clear();
        self.shared.release.send_modify(|g| *g += 1);
    }

    /// Calls of `operation` seen so far.
    pub fn calls(&self, operation: &str) -> u64 {
        let calls = self.shared.calls.lock().unwrap();
        calls.seen.get(operation).copied().unwrap_or(0)
    }

    /// Waits (up to 30 s) until a call of `operation` is held.
    pub async fn wait_until_held(&self, operation: &str) {
        let what = format!("a call of {operation} is held at the AWS proxy");
        eventually(&what, Duration::from_secs(30), || async {
            let calls = self.shared.calls.lock().unwrap();
            (calls.held.get(operation).copied().unwrap_or(0) > 0).then_some(())
        })
        .await;
    }
}

/// Serves one connection from the service: HTTP/1.1, each call relayed or faulted.
async fn serve(state: Arc<Shared>, inbound: TcpStream, cut: &mut broadcast::Receiver<()>) {
    let io = hyper_util::rt::TokioIo::new(inbound);
    let service = hyper::service::service_fn(move |request| relay(Arc::clone(&state), request));
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = cut.recv() => {}
    }
}

/// Why the proxy closed a connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

async fn relay(
    state: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let operation = operation(&parts, &body);
    let fault = {
        let mut calls = state.calls.lock().unwrap();
        *calls.seen.entry(operation.clone()).or_default() += 1;
        calls
            .rules
            .iter_mut()
            .filter(|r| r.operation == operation)
            .find_map(Rule::take)
    };
    match fault {
        Some(Fault::Throttle) => return Ok(throttled(&parts)),
        Some(Fault::DropCall) => return Err(Dropped),
        Some(Fault::HoldCall) => {
            hold(&state, &operation).await;
            return Err(Dropped);
        }
        _ => {}
    }
    let answer = forward(&state, &parts, body).await?;
    match fault {
        Some(Fault::DropAnswer) => Err(Dropped),
        Some(Fault::HoldAnswer) => {
            hold(&state, &operation).await;
            Err(Dropped)
        }
        _ => Ok(answer),
    }
}

/// Waits until `clear` (or the service goes away and the connection with it).
async fn hold(state: &Shared, operation: &str) {
    let mut release = state.release.subscribe();
    *state
        .calls
        .lock()
        .unwrap()
        .held
        .entry(operation.to_owned())
        .or_default() += 1;
    let _ = release.changed().await;
    *state
        .calls
        .lock()
        .unwrap()
        .held
        .entry(operation.to_owned())
        .or_default() -= 1;
}

/// The AWS operation of a call: Cognito names it in `X-Amz-Target`; SES v2 by method and path.
fn operation(parts: &hyper::http::request::Parts, body: &Bytes) -> String {
    if let Some(target) = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let path = parts.uri.path();
    match (parts.method.as_str(), path) {
        ("POST", "/v2/email/outbound-emails") => "SendEmail".to_owned(),
        ("GET", p) if p.starts_with("/v2/email/identities/") => "GetEmailIdentity".to_owned(),
        ("GET", "/v2/email/account") => "GetAccount".to_owned(),
        _ => {
            // SNS (query protocol) names it in the form body.
            let form = String::from_utf8_lossy(body);
            form.split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{} {path}", parts.method))
        }
    }
}

/// AWS's answer when it throttles a call.
fn throttled(parts: &hyper::http::request::Parts) -> Response<Full<Bytes>> {
    let cognito = parts.headers.contains_key("x-amz-target");
    let (status, body) = if cognito {
        (
            400,
            r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#,
        )
    } else {
        (
            429,
            r#"{"__type":"TooManyRequestsException","message":"Maximum sending rate exceeded."}"#,
        )
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-errortype", "TooManyRequestsException")
        .header("x-amzn-requestid", "fault-proxy")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

/// Relays a call to the emulator and reads its whole answer.
async fn forward(
    state: &Shared,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut headers = parts.headers.clone();
    for hop in ["host", "content-length", "connection", "transfer-encoding"] {
        headers.remove(hop);
    }
    let answer = state
        .client
        .request(parts.method.clone(), format!("{}{target}", state.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|_| Dropped)?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !["content-length", "connection", "transfer-encoding"].contains(&name.as_str()) {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.map_err(|_| Dropped)?;
    Ok(response.body(Full::new(bytes)).unwrap())
}

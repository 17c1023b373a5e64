//! The benchmark's baseline (scripts/bench.sh): what this machine does with the service's own
//! libraries and none of its rules, so that the service's numbers are read as ratios.
//!
//!   GET  /healthz  -> 200, nothing else (a bare actix-web handler)
//!   POST /insert   -> one INSERT of the posted body's `username` into PostgreSQL, 202
//!   POST /argon2   -> one argon2id hash with the service's parameters (m=19456, t=2, p=1) on
//!                     at most ARGON2_THREADS blocking threads at once, 200
//!
//! Settings: BIND_ADDR (127.0.0.1:0), DATABASE_URL, ARGON2_THREADS (2). Prints `port N`.
//!
//! `baseline probe URL SECONDS` is the benchmark's latency probe instead: GETs on one kept-alive
//! connection, 10 ms apart, for SECONDS; prints `p50 X p99 Y` in milliseconds.

use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use argon2::{Algorithm, Argon2, Params, Version};
use sqlx::postgres::PgPoolOptions;
use tokio::sync::Semaphore;

#[derive(serde::Deserialize)]
struct Body {
    username: String,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn insert(db: web::Data<sqlx::PgPool>, body: web::Json<Body>) -> HttpResponse {
    match sqlx::query("INSERT INTO baseline_requests (username) VALUES ($1)")
        .bind(&body.username)
        .execute(db.get_ref())
        .await
    {
        Ok(_) => HttpResponse::Accepted().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn argon2(slots: web::Data<Arc<Semaphore>>) -> HttpResponse {
    let _permit = slots.acquire().await.expect("never closed");
    let hashed = tokio::task::spawn_blocking(|| {
        let params = Params::new(19456, 2, 1, Some(32)).expect("valid");
        let mut out = [0u8; 32];
        Argon2::new_with_secret(
            b"baseline-pepper",
            Algorithm::Argon2id,
            Version::V0x13,
            params,
        )
        .expect("valid")
        .hash_password_into(b"12345678", b"baseline-salt-16", &mut out)
        .map(|()| out)
    })
    .await;
    match hashed {
        Ok(Ok(_)) => HttpResponse::Ok().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// Paced GETs on one connection: what a load balancer's health check sees.
async fn probe(url: &str, seconds: u64) {
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut latencies = Vec::new();
    while std::time::Instant::now() < deadline {
        let started = std::time::Instant::now();
        let answered = client
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status());
        let took = started.elapsed().as_secs_f64() * 1000.0;
        latencies.push(if answered.is_ok() {
            took
        } else {
            f64::INFINITY
        });
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!("p50 {:.2} p99 {:.2}", at(0.5), at(0.99));
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, url, seconds] = args.as_slice() {
        if mode == "probe" {
            probe(url, seconds.parse().expect("SECONDS is a number")).await;
            return Ok(());
        }
    }
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let db = PgPoolOptions::new()
        .max_connections(20)
        .connect(&var(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1/postgres",
        ))
        .await
        .expect("the database answers");
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS baseline_requests (
             id bigserial PRIMARY KEY, username text NOT NULL, at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&db)
    .await
    .expect("the baseline table");
    let threads: usize = var("ARGON2_THREADS", "2").parse().expect("a number");
    let slots = Arc::new(Semaphore::new(threads));
    let listener = std::net::TcpListener::bind(var("BIND_ADDR", "127.0.0.1:0"))?;
    println!("port {}", listener.local_addr()?.port());
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(db.clone()))
            .app_data(web::Data::new(Arc::clone(&slots)))
            .route("/healthz", web::get().to(healthz))
            .route("/insert", web::post().to(insert))
            .route("/argon2", web::post().to(argon2))
    })
    .listen(listener)?
    .run()
    .await
}

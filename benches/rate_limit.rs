//! What the rate limiter costs a request.
//!
//! 1. Over real HTTP: `GET /v1/auth/me` (a session request, counted against the tenant) from
//!    `KANRI_BENCH_CLIENTS` concurrent clients (default 8) for `KANRI_BENCH_SECS` seconds
//!    (default 5) against a real server on port 0: requests/s and per-request latency with the
//!    limits effectively off (a limit no client reaches, checked in process), and, when
//!    `KANRI_BENCH_REDIS_URL` is set, the same limit checked in Redis (fresh key prefix). Every
//!    response must be a 200 carrying `RateLimit-Limit`, so a case cannot pass unlimited.
//! 2. The check alone (`Limiter::check`, one key, `KANRI_BENCH_CHECKS` checks, default
//!    200,000 in process and 20,000 on Redis): what a request pays beyond the HTTP noise.
//!
//! `cargo bench --bench rate_limit` (SQLite in a temporary directory). Without `--bench` (as
//! under `cargo test --all-targets`) it only runs a short smoke case.

mod support;

use std::time::{Duration, Instant};

use kanri::Config;
use kanri::config::{CacheConfig, Secret};
use kanri::rate_limit::{Limiter, Scope};
use serde_json::{Value, json};
use support::env_number;
use tokio::sync::oneshot;

/// Far above what the clients can send in a minute: the limiter runs but never refuses.
const UNREACHED: u32 = 1_000_000_000;

struct Settings {
    clients: usize,
    duration: Duration,
    checks: u64,
    redis_url: Option<String>,
}

struct Figures {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

fn redis_cache(url: &str) -> CacheConfig {
    let mut config = Config::for_data_dir(".", None).cache;
    config.redis_url = Some(Secret::new(url.to_string()));
    config.redis_prefix = format!("kanri-bench-{}:", uuid::Uuid::now_v7().simple());
    config.redis_timeout = Duration::from_secs(5);
    config
}

async fn http_case(redis_url: Option<&str>, s: &Settings) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path(), None);
    config.server.bind = "127.0.0.1:0".parse()?;
    config.jobs.workers = 0;
    config.telemetry.log = "off".into();
    config.rate_limit.per_minute = UNREACHED;
    config.rate_limit.auth_per_minute = UNREACHED;
    if let Some(url) = redis_url {
        config.cache = redis_cache(url);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = kanri::App::build(config).await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let registered: Value = client
        .post(format!("{base}/v1/auth/register"))
        .json(
            &json!({"email": "bench@example.com", "password": "correct-horse-1", "name": "Bench"}),
        )
        .send()
        .await?
        .json()
        .await?;
    let token = registered["data"]["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no token: {registered}"))?
        .to_string();
    let url = format!("{base}/v1/auth/me");
    let started = Instant::now();
    let deadline = started + s.duration;
    let mut tasks = Vec::new();
    for _ in 0..s.clients {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let res = client.get(&url).bearer_auth(&token).send().await?;
                anyhow::ensure!(res.status().is_success(), "me: {}", res.status());
                anyhow::ensure!(
                    res.headers().contains_key("ratelimit-limit"),
                    "a counted request carries RateLimit-Limit"
                );
                res.bytes().await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    server.await??;
    latencies.sort();
    Ok(Figures {
        requests: latencies.len(),
        elapsed,
        latencies,
    })
}

/// Mean time of one `Limiter::check`, and whether every check was answered by the backend
/// named (no silent fallback).
async fn check_case(limiter: &Limiter, checks: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for _ in 0..checks {
        let decision = limiter.check(Scope::Tenant, "bench", UNREACHED).await;
        anyhow::ensure!(decision.allowed, "a check refused under an unreached limit");
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(
        limiter.stats().fallbacks == 0,
        "checks fell back to the in-process limiter"
    );
    Ok(elapsed / u32::try_from(checks.max(1)).unwrap_or(u32::MAX))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    let settings = if benching {
        Settings {
            clients: env_number("KANRI_BENCH_CLIENTS", 8),
            duration: Duration::from_secs(env_number("KANRI_BENCH_SECS", 5)),
            checks: env_number("KANRI_BENCH_CHECKS", 200_000),
            redis_url: std::env::var("KANRI_BENCH_REDIS_URL").ok(),
        }
    } else {
        Settings {
            clients: 2,
            duration: Duration::from_millis(200),
            checks: 1_000,
            redis_url: None,
        }
    };

    println!(
        "{:<8} {:>7} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "limiter", "clients", "requests", "secs", "req/s", "p50 ms", "p99 ms"
    );
    let mut cases: Vec<(&str, Option<&str>)> = vec![("memory", None)];
    if let Some(url) = settings.redis_url.as_deref() {
        cases.push(("redis", Some(url)));
    }
    for (name, url) in &cases {
        let f = http_case(*url, &settings).await?;
        println!(
            "{:<8} {:>7} {:>9} {:>8.2} {:>9.0} {:>9.3} {:>9.3}",
            name,
            settings.clients,
            f.requests,
            f.elapsed.as_secs_f64(),
            f.requests as f64 / f.elapsed.as_secs_f64(),
            percentile(&f.latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&f.latencies, 0.99).as_secs_f64() * 1e3,
        );
    }

    println!("\n{:<8} {:>9} {:>12}", "limiter", "checks", "per check");
    let memory = Limiter::in_process();
    let per = check_case(&memory, settings.checks).await?;
    println!(
        "{:<8} {:>9} {:>10.0}ns",
        "memory",
        settings.checks,
        per.as_nanos()
    );
    if let Some(url) = settings.redis_url.as_deref() {
        let redis = Limiter::from_config(&redis_cache(url))?;
        let checks = (settings.checks / 10).max(1);
        let per = check_case(&redis, checks).await?;
        println!(
            "{:<8} {:>9} {:>10.0}ns (one round trip, one connection)",
            "redis",
            checks,
            per.as_nanos()
        );
    }
    Ok(())
}

//! Requests per second for a cached list over real HTTP: `GET /api/list-projects` (seed 000's
//! whole-list route) for a user with `KANRI_BENCH_PROJECTS` projects (default 100), from
//! `KANRI_BENCH_CLIENTS` concurrent clients (default 8) for `KANRI_BENCH_SECS` seconds
//! (default 5) each, against a real server on port 0 with the cache off, in-process (moka)
//! and, when `KANRI_BENCH_REDIS_URL` is set, on Redis (under a fresh key prefix).
//!
//! Every response is checked: status 200 and the `X-Cache` the case expects (always `miss`
//! with the cache off, `hit` after the first request otherwise), so a case that silently fell
//! back to the database cannot pass for a fast cache.
//!
//! `cargo bench --bench cache` (SQLite in a temporary directory). Without `--bench` (as under
//! `cargo test --all-targets`) it only runs a short smoke case.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kanri::Config;
use kanri::config::Secret;
use serde_json::{Value, json};
use support::env_number;
use tokio::sync::oneshot;

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Off,
    Memory,
    Redis,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Off => "off",
            Backend::Memory => "memory",
            Backend::Redis => "redis",
        }
    }
}

struct Settings {
    projects: usize,
    clients: usize,
    duration: Duration,
    redis_url: Option<String>,
}

struct Figures {
    requests: u64,
    elapsed: Duration,
}

async fn case(backend: Backend, s: &Settings) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path(), None);
    config.server.bind = "127.0.0.1:0".parse()?;
    config.jobs.workers = 0;
    config.telemetry.log = "off".into();
    match backend {
        Backend::Off => config.cache.enabled = false,
        Backend::Memory => {}
        Backend::Redis => {
            let url = s.redis_url.clone().expect("a Redis URL");
            config.cache.redis_url = Some(Secret::new(url));
            config.cache.redis_prefix = format!("kanri-bench-{}:", uuid::Uuid::now_v7().simple());
        }
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
    for i in 0..s.projects {
        let res = client
            .post(format!("{base}/api/create-project"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("Project {i:04}"), "description": "A project of the benchmark, with a description of ordinary length."}))
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "create: {}", res.status());
    }

    let url = format!("{base}/api/list-projects");
    // One request first, so a cached case measures hits only.
    let first = client.get(&url).bearer_auth(&token).send().await?;
    anyhow::ensure!(first.status().is_success());
    let expected = if backend == Backend::Off {
        "miss"
    } else {
        "hit"
    };

    // Each listed project takes well over 100 bytes: a shorter body was not the whole list.
    let min_body = s.projects * 100;
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + s.duration;
    let mut tasks = Vec::new();
    for _ in 0..s.clients {
        let (client, url, token, count) =
            (client.clone(), url.clone(), token.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let res = client.get(&url).bearer_auth(&token).send().await?;
                let x_cache = res
                    .headers()
                    .get("x-cache")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                anyhow::ensure!(res.status().is_success(), "list: {}", res.status());
                anyhow::ensure!(
                    x_cache == expected,
                    "X-Cache {x_cache:?}, expected {expected}"
                );
                let body = res.bytes().await?;
                anyhow::ensure!(body.len() >= min_body, "short body: {} bytes", body.len());
                count.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    server.await??;
    Ok(Figures {
        requests: count.load(Ordering::Relaxed),
        elapsed,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    let settings = if benching {
        Settings {
            projects: env_number("KANRI_BENCH_PROJECTS", 100),
            clients: env_number("KANRI_BENCH_CLIENTS", 8),
            duration: Duration::from_secs(env_number("KANRI_BENCH_SECS", 5)),
            redis_url: std::env::var("KANRI_BENCH_REDIS_URL").ok(),
        }
    } else {
        Settings {
            projects: 3,
            clients: 2,
            duration: Duration::from_millis(200),
            redis_url: None,
        }
    };
    let mut backends = vec![Backend::Off, Backend::Memory];
    if settings.redis_url.is_some() {
        backends.push(Backend::Redis);
    }
    println!(
        "{:<7} {:>8} {:>7} {:>9} {:>8} {:>10}",
        "cache", "projects", "clients", "requests", "secs", "req/s"
    );
    for backend in backends {
        let f = case(backend, &settings).await?;
        println!(
            "{:<7} {:>8} {:>7} {:>9} {:>8.2} {:>10.0}",
            backend.name(),
            settings.projects,
            settings.clients,
            f.requests,
            f.elapsed.as_secs_f64(),
            f.requests as f64 / f.elapsed.as_secs_f64(),
        );
    }
    Ok(())
}

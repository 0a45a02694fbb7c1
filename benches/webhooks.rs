//! Outgoing-webhook delivery throughput: N tasks are created through the API with one
//! endpoint subscribed to `task.created` (so N deliveries are written in the tasks'
//! transactions), then the in-process workers (`kanri::jobs::worker::spawn`, the app's own
//! runner) deliver them to a local receiver on 127.0.0.1. Reported: deliveries per second from
//! the workers' start to the receiver's N-th request, with 1 and 4 workers. Other jobs the
//! tasks imply (embeddings) are removed first, so the figure is the webhooks' own.
//!
//! `cargo bench --bench webhooks` runs N = `KANRI_BENCH_DELIVERIES` (default 500) on SQLite,
//! and on Postgres too when `KANRI_BENCH_DATABASE_URL` names a server. Without `--bench` (as
//! under `cargo test --all-targets`) it only runs a small smoke case.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kanri::Config;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

async fn receiver() -> (Arc<AtomicUsize>, String) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new().fallback(move || {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, Ordering::Relaxed);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (count, url)
}

async fn database_url(server: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(server) = server else {
        return Ok(None);
    };
    sqlx::any::install_default_drivers();
    let name = format!("kanri_bench_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::AnyConnection::connect(server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let mut url = url::Url::parse(server)?;
    url.set_path(&format!("/{name}"));
    Ok(Some(url.to_string()))
}

async fn call(client: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let mut req = client.post(url).json(&body);
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status} {body}");
    body
}

/// Delivers `n` messages with `workers` workers; returns deliveries per second.
async fn run(n: usize, workers: usize, server: Option<&str>) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path(), database_url(server).await?);
    config.jobs.workers = 0;
    config.server.request_timeout = Duration::from_secs(120);
    config.webhooks.allowed_cidrs = vec!["127.0.0.0/8".parse().unwrap()];
    config.storage.signing_key = Some(kanri::config::Secret::new("b".repeat(48)));
    config.telemetry.log = "off".into();
    let app = kanri::App::build(config).await?;
    let (queue, runner, db) = (app.queue().clone(), app.runner(), app.db().clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let (count, hook) = receiver().await;
    let user = call(
        &client,
        format!("{base}/v1/auth/register"),
        "",
        json!({"email": "bench@example.com", "password": "correct-horse-1", "name": "Bench"}),
    )
    .await;
    let token = user["data"]["token"].as_str().unwrap().to_string();
    let ws = call(
        &client,
        format!("{base}/v1/workspaces"),
        &token,
        json!({"name": "Bench"}),
    )
    .await;
    let ws = ws["data"]["id"].as_str().unwrap().to_string();
    call(
        &client,
        format!("{base}/v1/workspaces/{ws}/webhooks"),
        &token,
        json!({"url": hook, "events": ["task.created"]}),
    )
    .await;
    let project = call(
        &client,
        format!("{base}/v1/workspaces/{ws}/projects"),
        &token,
        json!({"name": "Bench"}),
    )
    .await;
    let project = project["data"]["id"].as_str().unwrap().to_string();
    for i in 0..n {
        call(
            &client,
            format!("{base}/v1/projects/{project}/tasks"),
            &token,
            json!({"title": format!("task {i}")}),
        )
        .await;
    }
    sqlx::query("DELETE FROM jobs WHERE kind <> 'webhook:deliver'")
        .execute(db.write())
        .await?;

    let stop = CancellationToken::new();
    let started = Instant::now();
    let mut set = kanri::jobs::worker::spawn(&queue, runner, workers, &stop);
    while count.load(Ordering::Relaxed) < n {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "deliveries stalled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    stop.cancel();
    while set.join_next().await.is_some() {}
    let _ = stop_server.send(());
    server.await??;
    Ok(n as f64 / elapsed.as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bench = std::env::args().any(|a| a == "--bench");
    let n = if bench {
        std::env::var("KANRI_BENCH_DELIVERIES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500)
    } else {
        5
    };
    let postgres = std::env::var("KANRI_BENCH_DATABASE_URL").ok();
    let mut engines: Vec<(&str, Option<&str>)> = vec![("sqlite", None)];
    if bench && let Some(url) = postgres.as_deref() {
        engines.push(("postgres", Some(url)));
    }
    for (engine, server) in engines {
        for workers in if bench { vec![1, 4] } else { vec![2] } {
            let rate = run(n, workers, server).await?;
            println!(
                "webhooks/{engine}: {n} deliveries, {workers} worker(s): {rate:.0} deliveries/s"
            );
        }
    }
    Ok(())
}

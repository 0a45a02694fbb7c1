//! Realtime fan-out: one `kanri serve` process (the real binary, SQLite, no job workers), N
//! WebSocket subscribers on one project, then tasks created one at a time. For each task it
//! measures, at every subscriber, the time from the event's `created_at` (stamped in the
//! creating transaction, just before commit) to receipt, and from the moment the create
//! request was sent; and the server's memory (VmRSS, VmHWM from /proc) before and after.
//!
//! `cargo bench --bench realtime` runs N = 1,000 and 10,000 (`KANRI_BENCH_SUBSCRIBERS=1000,…`
//! to choose; `KANRI_BENCH_TASKS`, default 20). Each subscriber is a socket in this process
//! and one in the server's, so the open-file limit must exceed N plus a margin in both:
//! `ulimit -n 20000` before running (the server inherits it). Without `--bench` (as under
//! `cargo test --all-targets`) it runs a smoke case of 20 subscribers and 3 tasks.
//! `KANRI_BIN=target/release/kanri` serves from that binary instead of this profile's.

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::KilledOnDrop;
use tokio::sync::{Mutex, Notify};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

struct Server {
    child: KilledOnDrop,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(max_connections: usize) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        // `KANRI_BIN` measures another build (a release server under unoptimised clients).
        let bin = std::env::var("KANRI_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kanri").into());
        let child = Command::new(bin)
            .arg("serve")
            .env("KANRI_DATA_DIR", dir.path())
            .env("KANRI_BIND", format!("127.0.0.1:{port}"))
            .env("KANRI_WORKERS", "0")
            .env("KANRI_LOG", "warn")
            // 10,000 subscribers sign in and subscribe as one tenant: far past the default
            // 1,000 requests a minute, which is not what this measures.
            .env("KANRI_RATE_LIMIT_PER_MINUTE", "1000000000")
            .env(
                "KANRI_REALTIME_MAX_CONNECTIONS_PER_USER",
                (max_connections + 10).to_string(),
            )
            .stdout(Stdio::null())
            .spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                return Ok(Self {
                    child: KilledOnDrop(child),
                    base,
                    _dir: dir,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server did not start")
    }

    /// (VmRSS, VmHWM) in MiB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert!(status.is_success(), "{status} {body}");
    body
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Per subscriber and task: ms since `created_at` and since the request was sent.
struct Samples {
    since_commit: Vec<f64>,
    since_send: Vec<f64>,
}

async fn run(subscribers: usize, tasks: usize) -> anyhow::Result<()> {
    let server = Server::start(subscribers).await?;
    let client = reqwest::Client::new();
    let base = &server.base;
    let user = post(
        &client,
        &format!("{base}/v1/auth/register"),
        None,
        json!({"email": "bench@example.com", "password": "correct-horse-1", "name": "Bench"}),
    )
    .await;
    let token = user["data"]["token"].as_str().unwrap().to_string();
    let ws = post(
        &client,
        &format!("{base}/v1/workspaces"),
        Some(&token),
        json!({"name": "Bench"}),
    )
    .await;
    let ws_id = ws["data"]["id"].as_str().unwrap();
    let project = post(
        &client,
        &format!("{base}/v1/workspaces/{ws_id}/projects"),
        Some(&token),
        json!({"name": "Fan-out"}),
    )
    .await;
    let project_id = project["data"]["id"].as_str().unwrap().to_string();
    let (rss_idle, _) = server.memory();

    // Each subscriber records when each task's event arrives. It reads from the moment it is
    // subscribed, so it answers the server's pings while the others connect.
    let samples = Arc::new(Mutex::new(Samples {
        since_commit: Vec::with_capacity(subscribers * tasks),
        since_send: Vec::with_capacity(subscribers * tasks),
    }));
    let sent_at: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let received = Arc::new(AtomicUsize::new(0));
    let all_received = Arc::new(Notify::new());
    let ready = Arc::new(AtomicUsize::new(0));
    let all_ready = Arc::new(Notify::new());
    let all_ready_wait = all_ready.notified();
    tokio::pin!(all_ready_wait);
    all_ready_wait.as_mut().enable();
    // Handshakes at most 100 at a time.
    let handshakes = Arc::new(tokio::sync::Semaphore::new(100));
    let url = format!("{}/v1/realtime", base.replacen("http", "ws", 1));
    let started = Instant::now();
    let mut readers = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let (url, token) = (url.clone(), token.clone());
        let channel = format!("project/{project_id}");
        let (samples, sent_at) = (samples.clone(), sent_at.clone());
        let (received, all_received) = (received.clone(), all_received.clone());
        let (ready, all_ready, handshakes) = (ready.clone(), all_ready.clone(), handshakes.clone());
        readers.push(tokio::spawn(async move {
            let permit = handshakes.acquire_owned().await.unwrap();
            let mut req = url.into_client_request().unwrap();
            let auth = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
            req.headers_mut().insert("authorization", auth);
            let (mut s, _) = tokio_tungstenite::connect_async(req)
                .await
                .expect("connect");
            let sub = json!({"type": "subscribe", "channel": channel}).to_string();
            s.send(Message::Text(sub.into())).await.unwrap();
            loop {
                if let Some(Ok(Message::Text(t))) = s.next().await
                    && t.contains("\"subscribed\"")
                {
                    break;
                }
            }
            drop(permit);
            if ready.fetch_add(1, Ordering::AcqRel) + 1 == subscribers {
                all_ready.notify_one();
            }
            let mut mine = Vec::with_capacity(tasks);
            while mine.len() < tasks {
                let t = match s.next().await {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    other => panic!("subscriber lost its socket: {other:?}"),
                };
                let at = Instant::now();
                let wall = now_ms();
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "event" {
                    continue;
                }
                let created =
                    chrono::DateTime::parse_from_rfc3339(v["created_at"].as_str().unwrap())
                        .unwrap()
                        .timestamp_millis();
                let n: usize = v["data"]["title"].as_str().unwrap().parse().unwrap();
                mine.push((n, (wall - created) as f64, at));
                if received.fetch_add(1, Ordering::AcqRel) + 1 == subscribers {
                    all_received.notify_one();
                }
            }
            let sent = sent_at.lock().await;
            let mut out = samples.lock().await;
            for (n, commit_ms, at) in mine {
                out.since_commit.push(commit_ms);
                out.since_send
                    .push(at.duration_since(sent[n]).as_secs_f64() * 1000.0);
            }
        }));
    }
    tokio::time::timeout(Duration::from_secs(600), all_ready_wait)
        .await
        .expect("every subscriber connects");
    let connect_secs = started.elapsed().as_secs_f64();
    let (rss_connected, _) = server.memory();

    let tasks_url = format!("{base}/v1/projects/{project_id}/tasks");
    let mut create_ms = Vec::with_capacity(tasks);
    for n in 0..tasks {
        received.store(0, Ordering::Release);
        let wait = all_received.notified();
        tokio::pin!(wait);
        wait.as_mut().enable();
        let t0 = Instant::now();
        sent_at.lock().await.push(t0);
        post(
            &client,
            &tasks_url,
            Some(&token),
            json!({"title": n.to_string()}),
        )
        .await;
        create_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        tokio::time::timeout(Duration::from_secs(120), wait)
            .await
            .expect("every subscriber receives the event");
    }
    for r in readers {
        r.await?;
    }
    let (rss_after, hwm) = server.memory();

    let mut s = Arc::try_unwrap(samples)
        .ok()
        .expect("readers done")
        .into_inner();
    s.since_commit.sort_by(f64::total_cmp);
    s.since_send.sort_by(f64::total_cmp);
    create_ms.sort_by(f64::total_cmp);
    println!(
        "realtime fan-out: {subscribers} subscribers x {tasks} tasks ({} deliveries)",
        s.since_send.len()
    );
    println!("  connect+subscribe all: {connect_secs:.1} s");
    println!(
        "  created_at -> receipt (ms): p50 {:.0}  p99 {:.0}  max {:.0}",
        percentile(&s.since_commit, 50.0),
        percentile(&s.since_commit, 99.0),
        percentile(&s.since_commit, 100.0)
    );
    println!(
        "  request sent -> receipt (ms): p50 {:.1}  p99 {:.1}  max {:.1}",
        percentile(&s.since_send, 50.0),
        percentile(&s.since_send, 99.0),
        percentile(&s.since_send, 100.0)
    );
    println!(
        "  create request (ms): p50 {:.1}  p99 {:.1}",
        percentile(&create_ms, 50.0),
        percentile(&create_ms, 99.0)
    );
    println!(
        "  server VmRSS: {rss_idle:.1} MiB idle, {rss_connected:.1} MiB connected, {rss_after:.1} MiB after; VmHWM {hwm:.1} MiB"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    if !benching {
        return run(20, 3).await;
    }
    let counts = std::env::var("KANRI_BENCH_SUBSCRIBERS").unwrap_or_else(|_| "1000,10000".into());
    let tasks: usize = std::env::var("KANRI_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for n in counts.split(',').filter_map(|n| n.trim().parse().ok()) {
        run(n, tasks).await?;
    }
    Ok(())
}

//! Upload throughput and the server's memory while it streams a large file.
//!
//! Starts the real `kanri serve` binary (a fresh data directory, SQLite, files on local disk or
//! wherever `KANRI_BENCH_STORAGE_URL` points, e.g. `s3://bucket/prefix` with the `AWS_*`
//! settings), signs up, makes a task, then uploads one file of `KANRI_BENCH_UPLOAD_MB`
//! (default 200) MB as multipart/form-data and downloads it again. Reports MB/s both ways and
//! the server process's peak resident memory (`VmHWM` in `/proc/<pid>/status`) before and
//! after: streaming means the peak does not grow with the file.
//!
//! `cargo bench --bench upload`. Without `--bench` (as under `cargo test --all-targets`) it
//! uploads 8 MB only, as a smoke test.

mod support;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::KilledOnDrop;

const BOUNDARY: &str = "kanri-bench-boundary-x9Jq2";

struct Server {
    child: KilledOnDrop,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(upload_bytes: u64) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kanri"));
        cmd.arg("serve")
            .env("KANRI_DATA_DIR", dir.path())
            .env("KANRI_BIND", format!("127.0.0.1:{port}"))
            .env("KANRI_MAX_UPLOAD_BYTES", (upload_bytes + 1024).to_string())
            .env("KANRI_REQUEST_TIMEOUT_SECS", "600")
            .env("KANRI_WORKERS", "0")
            .env("KANRI_LOG", "warn")
            .stdout(Stdio::null());
        if let Ok(url) = std::env::var("KANRI_BENCH_STORAGE_URL") {
            cmd.env("KANRI_STORAGE_URL", url);
        }
        let child = cmd.spawn().expect("kanri serve starts");
        Self {
            child: KilledOnDrop(child),
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// Peak resident memory of the server so far, in KiB.
    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc is readable");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }
}

async fn ready(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await
            && res.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = client.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.expect("JSON");
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn multipart(size: usize) -> Vec<u8> {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let mut body = Vec::with_capacity(head.len() + size + tail.len());
    body.extend_from_slice(head.as_bytes());
    body.extend((0..size).map(|i| (i * 31 % 251) as u8));
    body.extend_from_slice(tail.as_bytes());
    body
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mb: u64 = if full {
        std::env::var("KANRI_BENCH_UPLOAD_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200)
    } else {
        8
    };
    let size = mb * 1_000_000;
    let server = Server::start(size);
    let client = reqwest::Client::new();
    ready(&client, &server.base).await;
    let base = &server.base;

    let session = post(
        &client,
        format!("{base}/v1/auth/register"),
        None,
        json!({"email": "bench@example.com", "password": "correct-horse-1", "name": "Bench"}),
    )
    .await;
    let token = session["data"]["token"].as_str().unwrap().to_string();
    let ws = post(
        &client,
        format!("{base}/v1/workspaces"),
        Some(&token),
        json!({"name": "Bench"}),
    )
    .await;
    let ws = ws["data"]["id"].as_str().unwrap();
    let project = post(
        &client,
        format!("{base}/v1/workspaces/{ws}/projects"),
        Some(&token),
        json!({"name": "Bench"}),
    )
    .await;
    let project = project["data"]["id"].as_str().unwrap();
    let task = post(
        &client,
        format!("{base}/v1/projects/{project}/tasks"),
        Some(&token),
        json!({"title": "Bench"}),
    )
    .await;
    let task = task["data"]["id"].as_str().unwrap();

    let body = multipart(size as usize);
    let before = server.peak_kib();
    let started = Instant::now();
    let res = client
        .post(format!("{base}/v1/tasks/{task}/attachments"))
        .bearer_auth(&token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = res.status();
    let uploaded: Value = res.json().await.expect("JSON");
    let up = started.elapsed();
    assert!(status.is_success(), "{status}: {uploaded}");
    assert_eq!(uploaded["data"]["size_bytes"].as_u64(), Some(size));
    let after_upload = server.peak_kib();

    let id = uploaded["data"]["id"].as_str().unwrap();
    let started = Instant::now();
    let res = client
        .get(format!("{base}/v1/attachments/{id}/download"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("download");
    let mut received = 0u64;
    let mut res = res;
    while let Some(chunk) = res.chunk().await.expect("body") {
        received += chunk.len() as u64;
    }
    let down = started.elapsed();
    assert_eq!(received, size);
    let after_download = server.peak_kib();

    let rate = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    println!("upload {mb} MB: {:.2?} ({:.1} MB/s)", up, rate(up));
    println!("download {mb} MB: {:.2?} ({:.1} MB/s)", down, rate(down));
    println!(
        "server peak RSS (VmHWM): {:.1} MiB before, {:.1} MiB after upload, {:.1} MiB after download",
        before as f64 / 1024.0,
        after_upload as f64 / 1024.0,
        after_download as f64 / 1024.0
    );
}

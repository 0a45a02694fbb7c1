//! Kill test: exactly-once creates and at-most-once assignment mail under SIGKILL.
//!
//! Starts a real `kanri serve` (the debug binary, or `KANRI_BIN`) on SQLite, and on Postgres
//! too when `KANRI_TEST_DATABASE_URL` is set (a fresh database is made for the run). Drives a
//! create load (tasks assigned to a member, each with its own `Idempotency-Key`), SIGKILLs the
//! server at random moments (`KILLS`, default 20), restarts it, and at the end retries every
//! request that got no answer with its key. Then it counts tasks per key (must be 1) and the
//! assignment emails an SMTP sink received per task (raw, and distinct `Message-ID`s, which is
//! what a receiver that drops repeats keeps). Prints the figures; exits 1 if any key made two
//! tasks, a retry was not a replay, or a task got two distinct messages.
//!
//! `cargo build --bin kanri && cargo bench --bench kill` (or `cargo run --bench kill`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::any::AnyPoolOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const CLIENTS: usize = 4;
/// How long an uncommitted claim is honoured (`http::idempotency`: at least 60 s).
const ABANDON: Duration = Duration::from_secs(61);

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut ok = runtime.block_on(run_engine("sqlite", None));
    if let Ok(base) = std::env::var("KANRI_TEST_DATABASE_URL") {
        ok &= runtime.block_on(run_engine("postgres", Some(base)));
    }
    if !ok {
        std::process::exit(1);
    }
}

fn binary() -> PathBuf {
    if let Ok(bin) = std::env::var("KANRI_BIN") {
        return bin.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    Path::new(&target).join("debug/kanri")
}

/// A small pseudo-random sequence (no seed file needed; the figures are what matter).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Server {
    child: Child,
}

impl Server {
    fn start(dir: &Path, db_url: &str, port: u16, smtp: SocketAddr, n: usize) -> Self {
        let log = std::fs::File::create(dir.join(format!("serve-{n}.log"))).unwrap();
        let mut cmd = Command::new(binary());
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("KANRI_")) {
            cmd.env_remove(key);
        }
        let child = cmd
            .arg("serve")
            .env("KANRI_DATA_DIR", dir)
            .env("KANRI_DATABASE_URL", db_url)
            .env("KANRI_BIND", format!("127.0.0.1:{port}"))
            .env("KANRI_MAIL_URL", format!("smtp://{smtp}?tls=none"))
            .env("KANRI_WORKERS", "2")
            .env("KANRI_JOB_LEASE_SECS", "2")
            .env("KANRI_JOB_POLL_MS", "50")
            .env("KANRI_LOG", "warn")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("kanri serve starts (build it first: cargo build --bin kanri)");
        Self { child }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An SMTP sink: accepts everything, keeps each message's subject and `Message-ID`.
#[derive(Default)]
struct Sink {
    messages: Mutex<Vec<(String, String)>>,
}

async fn smtp_sink() -> (SocketAddr, Arc<Sink>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = Arc::new(Sink::default());
    let keep = sink.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let keep = keep.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink\r\n").await;
                let (mut in_data, mut subject, mut id) = (false, String::new(), String::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            keep.messages
                                .lock()
                                .unwrap()
                                .push((std::mem::take(&mut subject), std::mem::take(&mut id)));
                            let _ = write.write_all(b"250 ok\r\n").await;
                        } else if let Some(s) = line.strip_prefix("Subject: ") {
                            subject = s.to_string();
                        } else if let Some(s) = line.strip_prefix("Message-ID: ") {
                            id = s.to_string();
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (addr, sink)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(res) = http.get(format!("{base}/healthz")).send().await
            && res.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become healthy");
}

async fn post(http: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = http.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("setup request");
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "setup: {url} {status} {body}");
    body["data"].clone()
}

/// What happened to one keyed create.
#[derive(Debug, Clone)]
enum Outcome {
    Answered { status: u16, body: Value },
    Unanswered,
}

async fn create(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    key: &str,
    member: &str,
) -> (Option<(u16, bool, Value)>, bool) {
    let res = http
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({"title": key, "assignee_id": member}))
        .send()
        .await;
    match res {
        Ok(res) => {
            let status = res.status().as_u16();
            let replayed = res.headers().contains_key("idempotent-replayed");
            match res.json::<Value>().await {
                Ok(body) => (Some((status, replayed, body)), true),
                Err(_) => (None, false),
            }
        }
        Err(_) => (None, false),
    }
}

async fn run_engine(engine: &str, base_pg: Option<String>) -> bool {
    let kills: usize = std::env::var("KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let db_url = match &base_pg {
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("kanri.db").display()
        ),
        Some(base) => fresh_postgres(base).await,
    };
    sqlx::any::install_default_drivers();
    let (smtp, sink) = smtp_sink().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut started = 0;
    let mut server = Server::start(dir.path(), &db_url, port, smtp, started);
    wait_healthy(&http, &base).await;

    let pw = "correct horse battery 42";
    let owner = post(
        &http,
        &format!("{base}/v1/auth/register"),
        None,
        json!({"email": "owner@example.com", "password": pw, "name": "Owner"}),
    )
    .await;
    let member = post(
        &http,
        &format!("{base}/v1/auth/register"),
        None,
        json!({"email": "member@example.com", "password": pw, "name": "Member"}),
    )
    .await;
    let token = owner["token"].as_str().unwrap().to_string();
    let member_id = member["user"]["id"].as_str().unwrap().to_string();
    let ws = post(
        &http,
        &format!("{base}/v1/workspaces"),
        Some(&token),
        json!({"name": "Kill"}),
    )
    .await;
    let ws = ws["id"].as_str().unwrap().to_string();
    post(
        &http,
        &format!("{base}/v1/workspaces/{ws}/members"),
        Some(&token),
        json!({"user_id": member_id, "role": "MEMBER"}),
    )
    .await;
    let project = post(
        &http,
        &format!("{base}/v1/workspaces/{ws}/projects"),
        Some(&token),
        json!({"name": "Load", "members": [member_id]}),
    )
    .await;
    let tasks_url = format!(
        "{base}/v1/projects/{}/tasks",
        project["id"].as_str().unwrap()
    );

    let outcomes: Arc<Mutex<BTreeMap<String, Outcome>>> = Arc::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut last_kill = Instant::now();
    for round in 0..kills {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let (http, url, token, member) = (
                http.clone(),
                tasks_url.clone(),
                token.clone(),
                member_id.clone(),
            );
            let (outcomes, next, stop) = (outcomes.clone(), next.clone(), stop.clone());
            clients.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let key = format!("kill-{n:06}");
                    let (answer, alive) = create(&http, &url, &token, &key, &member).await;
                    let outcome = match answer {
                        Some((status, _, body)) => Outcome::Answered { status, body },
                        None => Outcome::Unanswered,
                    };
                    outcomes.lock().unwrap().insert(key, outcome);
                    if !alive {
                        return;
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(150 + rng.below(900))).await;
        server.kill();
        last_kill = Instant::now();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for client in clients {
            let _ = client.await;
        }
        started += 1;
        server = Server::start(dir.path(), &db_url, port, smtp, started);
        wait_healthy(&http, &base).await;
        eprintln!("{engine}: kill {}/{kills}", round + 1);
    }

    // Retry every unanswered request with its key, once the claims of requests that never
    // committed may be taken over.
    let unanswered: Vec<String> = outcomes
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Unanswered))
        .map(|(k, _)| k.clone())
        .collect();
    let wait = ABANDON.saturating_sub(last_kill.elapsed());
    eprintln!(
        "{engine}: {} unanswered; waiting {wait:?} before the retries",
        unanswered.len()
    );
    tokio::time::sleep(wait).await;
    let (mut replayed, mut fresh, mut lost, mut other) = (0, 0, 0, 0);
    for key in &unanswered {
        let (answer, _) = create(&http, &tasks_url, &token, key, &member_id).await;
        match answer {
            Some((201, true, _)) => replayed += 1,
            Some((201, false, _)) => fresh += 1,
            Some((409, _, body)) if body["code"] == "idempotency_response_lost" => lost += 1,
            Some((status, _, body)) => {
                eprintln!("{engine}: retry of {key}: {status} {body}");
                other += 1;
            }
            None => other += 1,
        }
    }
    // Answered requests retried too: each must replay its first answer exactly.
    let answered: Vec<(String, u16, Value)> = outcomes
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(k, o)| match o {
            Outcome::Answered { status, body } => Some((k.clone(), *status, body.clone())),
            Outcome::Unanswered => None,
        })
        .collect();
    let mut replay_mismatch = 0;
    for (key, status, body) in answered.iter().step_by(10) {
        let (answer, _) = create(&http, &tasks_url, &token, key, &member_id).await;
        if !matches!(&answer, Some((s, true, b)) if s == status && b == body) {
            replay_mismatch += 1;
        }
    }

    // Let the assignment emails drain.
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&db_url)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (left,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'task:assigned' AND state IN ('queued', 'running')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if left == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(server);

    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT title, COUNT(*) FROM tasks WHERE title LIKE 'kill-%' GROUP BY title",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let tasks: HashMap<String, i64> = rows.into_iter().collect();
    let keys = outcomes.lock().unwrap().len();
    let doubled = tasks.values().filter(|n| **n > 1).count();
    let mut raw: HashMap<String, usize> = HashMap::new();
    let mut distinct: HashMap<String, HashSet<String>> = HashMap::new();
    for (subject, id) in sink.messages.lock().unwrap().iter() {
        let title = subject.trim_start_matches("Assigned to you: ").to_string();
        *raw.entry(title.clone()).or_default() += 1;
        distinct.entry(title).or_default().insert(id.clone());
    }
    let mailed_twice = raw.values().filter(|n| **n > 1).count();
    let distinct_twice = distinct.values().filter(|ids| ids.len() > 1).count();
    let unmailed = tasks.keys().filter(|t| !raw.contains_key(*t)).count();

    println!("== {engine}: {kills} SIGKILLs under a create load ({CLIENTS} clients)");
    println!(
        "keys sent: {keys}; answered first time: {}; unanswered: {}",
        answered.len(),
        unanswered.len()
    );
    println!(
        "retries of unanswered keys: {replayed} replayed (201 + Idempotent-Replayed), {fresh} ran afresh (201, nothing had committed), {lost} committed but response lost (409), {other} other"
    );
    println!(
        "replays of answered keys (every 10th): {} checked, {replay_mismatch} differed from the first answer",
        answered.len().div_ceil(10)
    );
    println!(
        "tasks: {}; keys with more than one task: {doubled}",
        tasks.values().sum::<i64>()
    );
    println!(
        "assignment emails received: {}; tasks emailed twice (raw SMTP): {mailed_twice}; tasks with two distinct Message-IDs: {distinct_twice}; tasks with no email: {unmailed}",
        raw.values().sum::<usize>()
    );
    doubled == 0 && other == 0 && replay_mismatch == 0 && distinct_twice == 0
}

/// A fresh database beside the one in `base` (a Postgres URL), for this run alone.
async fn fresh_postgres(base: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!("kanri_kill_{}", std::process::id());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .unwrap();
    let mut url = url::Url::parse(base).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

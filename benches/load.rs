//! HTTP load on the real server: the project's own run of the scenarios that
//! `../shared/peers/compare.py` drives with wrk against Kanri, with the same seed and the same
//! request shapes, so its figures can be set beside that script's; plus a mixed workload.
//!
//! It starts `kanri serve` as a child process (SQLite in a temporary directory, or a fresh
//! Postgres database when `KANRI_BENCH_DATABASE_URL=postgres://…/postgres` names a server; the
//! database is dropped afterwards), seeds one user, a workspace, 20 projects and
//! `KANRI_BENCH_TASKS` tasks (default 5,000) in the last project, waits until the server is
//! idle (its background jobs, such as embedding the new tasks, done: < 3% of a core over 2 s),
//! and then runs each scenario for `KANRI_BENCH_SECS` seconds (default 8) over
//! `KANRI_BENCH_CONNS` keep-alive connections (default 32), each a loop of one request at a
//! time, settling again between scenarios:
//!
//! - `create_task`: `POST /v1/projects/{last}/tasks` `{"title":"Load task","status":"todo"}`
//! - `list_tasks_50`: `GET /v1/projects/{last}/tasks?limit=50&sort=-created`
//! - `get_task`: `GET /v1/tasks/{the last seeded task}`
//! - `list_projects`: `GET /v1/workspaces/{id}/projects`
//! - `search_text`: `POST /v1/projects/{last}/search` `{"query":"task 42","mode":"text","limit":10}`
//! - `update_task`: `PATCH /v1/tasks/{the last seeded task}` `{"status":"IN_PROGRESS"}`
//! - `mixed`: four more users join the workspace as MEMBER and every project, each other
//!   project gets 20 tasks; each connection is one of the 5 users and sends 80% reads (get a
//!   task, list a project's tasks, list projects, text search) and 20% writes (create a task,
//!   change a task's status or title), each on a random one of the 20 projects.
//!
//! Every response must be a 2xx: non-2xx answers and transport errors are counted, a few are
//! shown, the scenario is flagged and the run exits non-zero. It prints a markdown table: req/s,
//! p50 and p99 latency, the server's CPU per request (utime + stime from /proc), this process's
//! CPU per request (the load generator shares the machine), and the server's VmRSS/VmHWM after
//! the scenario. `KANRI_BENCH_SCENARIOS=get_task,mixed` runs a subset.
//!
//! The server: `KANRI_BIN` if set, else (with `--bench`) `$CARGO_TARGET_DIR/release/kanri`
//! when it exists, else the binary cargo built for this bench (the debug one under
//! `--profile dev`, with a warning). It gets `KANRI_BIND`, `KANRI_DATA_DIR`, `KANRI_LOG=warn`,
//! a per-tenant rate limit no run reaches (the default 1,000/min would refuse the load: every
//! request is one tenant's), and `KANRI_BENCH_SERVER_ENV="K=V K2=V2"` on top; no other
//! `KANRI_*` variable of this shell reaches it.
//!
//!     cargo build --release && cargo bench --profile dev --bench load
//!     KANRI_BIN=target/debug/kanri KANRI_BENCH_SECS=2 cargo bench --profile dev --bench load
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs a smoke version: 50 seed
//! tasks, 4 connections, 1 s per scenario, and fails unless every response was a 2xx.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{KilledOnDrop, env_number};

/// Projects in the workspace, as compare.py makes.
const PROJECTS: usize = 20;
/// Seeding requests in flight at once (seeding is set-up, not measured).
const SEED_CONCURRENCY: usize = 8;
/// Members registered for the mix, besides the owner.
const MIX_MEMBERS: usize = 4;
/// Tasks seeded into each project but the last before the mix, so every project has tasks to
/// read and update.
const MIX_TASKS_PER_PROJECT: usize = 20;
const PASSWORD: &str = "load pass 123";
/// Linux reports utime/stime in USER_HZ ticks, 100 a second on every architecture it supports
/// (the constant is part of the ABI, whatever the kernel's own HZ).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;
/// The server is idle when it used less than this share of a core over a settle window.
const IDLE_SHARE_OF_A_CORE: f64 = 0.03;
/// A request taking longer counts as an error (the server is stuck, not slow).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Examples of failed requests kept per scenario, to show what went wrong.
const FAILURE_EXAMPLES: usize = 3;

// ---------------------------------------------------------------------------------------------
// Settings

struct Settings {
    tasks: usize,
    duration: Duration,
    connections: usize,
    scenarios: Vec<Scenario>,
    /// How long the server's CPU is watched each time to decide it is idle.
    settle_window: Duration,
    /// How long to wait for idleness before going on with a warning.
    settle_limit: Duration,
    database_url: Option<String>,
    server_env: Vec<(String, String)>,
    benching: bool,
}

impl Settings {
    fn from_env(benching: bool) -> anyhow::Result<Self> {
        let server_env =
            parse_server_env(&std::env::var("KANRI_BENCH_SERVER_ENV").unwrap_or_default())?;
        if !benching {
            return Ok(Self {
                tasks: 50,
                duration: Duration::from_secs(1),
                connections: 4,
                scenarios: Scenario::ALL.to_vec(),
                settle_window: Duration::from_millis(500),
                settle_limit: Duration::from_secs(120),
                database_url: None,
                server_env,
                benching,
            });
        }
        let scenarios = match std::env::var("KANRI_BENCH_SCENARIOS") {
            Ok(list) => list
                .split(',')
                .map(|name| {
                    Scenario::from_name(name.trim()).ok_or_else(|| {
                        anyhow::anyhow!("KANRI_BENCH_SCENARIOS: no scenario {name:?}")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            Err(_) => Scenario::ALL.to_vec(),
        };
        Ok(Self {
            tasks: env_number("KANRI_BENCH_TASKS", 5_000),
            duration: Duration::from_secs(env_number("KANRI_BENCH_SECS", 8)),
            connections: env_number("KANRI_BENCH_CONNS", 32),
            scenarios,
            settle_window: Duration::from_secs(2),
            settle_limit: Duration::from_secs(600),
            database_url: std::env::var("KANRI_BENCH_DATABASE_URL").ok(),
            server_env,
            benching,
        })
    }
}

/// `KANRI_BENCH_SERVER_ENV`: `K=V` pairs separated by whitespace.
fn parse_server_env(spec: &str) -> anyhow::Result<Vec<(String, String)>> {
    spec.split_whitespace()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| anyhow::anyhow!("KANRI_BENCH_SERVER_ENV: {pair:?} is not K=V"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Scenarios

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    CreateTask,
    ListTasks50,
    GetTask,
    ListProjects,
    SearchText,
    UpdateTask,
    Mixed,
}

impl Scenario {
    /// In compare.py's order, the mix last (it adds users and tasks the others do not have).
    const ALL: [Scenario; 7] = [
        Scenario::CreateTask,
        Scenario::ListTasks50,
        Scenario::GetTask,
        Scenario::ListProjects,
        Scenario::SearchText,
        Scenario::UpdateTask,
        Scenario::Mixed,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::CreateTask => "create_task",
            Scenario::ListTasks50 => "list_tasks_50",
            Scenario::GetTask => "get_task",
            Scenario::ListProjects => "list_projects",
            Scenario::SearchText => "search_text",
            Scenario::UpdateTask => "update_task",
            Scenario::Mixed => "mixed",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The one request a single-operation scenario repeats: compare.py's `Kanri.scenarios()`.
    /// None for the mix, whose requests vary.
    fn fixed_request(self, seed: &Seed) -> Option<RequestShape> {
        let (base, pid, tid, wid) = (
            &seed.base,
            &seed.last_project,
            &seed.last_task,
            &seed.workspace_id,
        );
        let auth = &seed.owner.auth;
        let shape = match self {
            Scenario::CreateTask => RequestShape::post(
                format!("{base}/v1/projects/{pid}/tasks"),
                auth,
                json!({"title": "Load task", "status": "todo"}),
            ),
            Scenario::ListTasks50 => RequestShape::get(
                format!("{base}/v1/projects/{pid}/tasks?limit=50&sort=-created"),
                auth,
            ),
            Scenario::GetTask => RequestShape::get(format!("{base}/v1/tasks/{tid}"), auth),
            Scenario::ListProjects => {
                RequestShape::get(format!("{base}/v1/workspaces/{wid}/projects"), auth)
            }
            Scenario::SearchText => RequestShape::post(
                format!("{base}/v1/projects/{pid}/search"),
                auth,
                json!({"query": "task 42", "mode": "text", "limit": 10}),
            ),
            Scenario::UpdateTask => RequestShape::with_body(
                Method::PATCH,
                format!("{base}/v1/tasks/{tid}"),
                auth,
                json!({"status": "IN_PROGRESS"}),
            ),
            Scenario::Mixed => return None,
        };
        Some(shape)
    }
}

/// One HTTP request, ready to send again and again (the body and header are cheap clones).
#[derive(Clone)]
struct RequestShape {
    method: Method,
    url: String,
    auth: HeaderValue,
    body: Option<Bytes>,
}

impl RequestShape {
    fn get(url: String, auth: &HeaderValue) -> Self {
        Self {
            method: Method::GET,
            url,
            auth: auth.clone(),
            body: None,
        }
    }

    fn post(url: String, auth: &HeaderValue, body: Value) -> Self {
        Self::with_body(Method::POST, url, auth, body)
    }

    fn with_body(method: Method, url: String, auth: &HeaderValue, body: Value) -> Self {
        Self {
            method,
            url,
            auth: auth.clone(),
            body: Some(Bytes::from(body.to_string())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server process

/// Which binary to run, and why, for the report.
fn server_binary(benching: bool) -> (PathBuf, &'static str) {
    if let Ok(bin) = std::env::var("KANRI_BIN") {
        return (bin.into(), "KANRI_BIN");
    }
    if benching {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        let release = Path::new(&target).join("release/kanri");
        if release.exists() {
            return (release, "release build");
        }
    }
    // Cargo builds the package's binaries for its benches and tests, in the profile in use.
    let built = PathBuf::from(env!("CARGO_BIN_EXE_kanri"));
    if benching && !built.components().any(|c| c.as_os_str() == "release") {
        eprintln!(
            "warning: no release binary ({}); measuring the unoptimised server, whose figures \
             do not compare with compare.py's",
            Path::new(&std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
                .join("release/kanri")
                .display()
        );
    }
    (built, "built for this bench")
}

/// "built 2025-12-03 16:03 UTC": a stale binary is the usual way to measure the wrong code.
fn binary_age(path: &Path) -> String {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| {
            let t: chrono::DateTime<chrono::Utc> = t.into();
            format!("built {}", t.format("%Y-%m-%d %H:%M UTC"))
        })
        .unwrap_or_else(|_| "build time unknown".into())
}

struct Server {
    child: KilledOnDrop,
    base: String,
    dir: tempfile::TempDir,
}

impl Server {
    async fn start(
        binary: &Path,
        database_url: Option<&str>,
        extra: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let mut cmd = Command::new(binary);
        // The bench decides the server's settings: a KANRI_DATABASE_URL or KANRI_WORKERS left in
        // this shell would silently measure something else.
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("KANRI_")) {
            cmd.env_remove(key);
        }
        cmd.arg("serve")
            // Nowhere near a kanri.toml the checkout may hold (the server reads one from its
            // working directory).
            .current_dir(dir.path())
            .env("KANRI_BIND", format!("127.0.0.1:{port}"))
            .env("KANRI_DATA_DIR", dir.path())
            .env("KANRI_LOG", "warn")
            .env("KANRI_RATE_LIMIT_PER_MINUTE", "1000000000")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        if let Some(url) = database_url {
            cmd.env("KANRI_DATABASE_URL", url);
        }
        cmd.envs(extra.iter().map(|(k, v)| (k, v)));
        let child = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", binary.display()))?;
        let mut server = Self {
            child: KilledOnDrop(child),
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        server.wait_until_healthy().await?;
        Ok(server)
    }

    async fn wait_until_healthy(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("kanri serve exited with {status}: {}", self.log_tail());
            }
            let health = client.get(format!("{}/healthz", self.base)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("/healthz did not answer within 120 s: {}", self.log_tail())
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let start = log.len().saturating_sub(600);
        log[log.floor_char_boundary(start)..].to_string()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A fresh Postgres database for one run, beside the server's `postgres` database.
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    async fn create(server_url: &str) -> anyhow::Result<Self> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut admin = url::Url::parse(server_url)?;
        admin.set_path("/postgres");
        let name = format!("kanri_bench_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::AnyConnection::connect(admin.as_str()).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let mut url = admin.clone();
        url.set_path(&format!("/{name}"));
        Ok(Self {
            admin_url: admin.to_string(),
            name,
            url: url.to_string(),
        })
    }

    /// After the server is gone. FORCE: a killed server's backends may not have noticed yet.
    async fn drop_database(self) {
        use sqlx::Connection;
        let dropped = async {
            let mut conn = sqlx::AnyConnection::connect(&self.admin_url).await?;
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        if let Err(e) = dropped.await {
            eprintln!("warning: could not drop database {}: {e}", self.name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What /proc says about a process

/// User + system CPU seconds a process has used so far (`self` for this one).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Field 2, the command, is in parentheses and may hold spaces: count from the last ')'.
    // After it come state (field 3) … utime (14) and stime (15).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / CLOCK_TICKS_PER_SEC
}

/// (VmRSS, VmHWM) in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
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

/// Waits until the server is idle, as compare.py's `settle()`: background jobs left by the
/// previous step (embedding created tasks, search indexing) would otherwise be billed to the
/// next scenario.
async fn settle(pid: u32, s: &Settings) {
    let pid = pid.to_string();
    let started = Instant::now();
    let idle_cpu = IDLE_SHARE_OF_A_CORE * s.settle_window.as_secs_f64();
    while started.elapsed() < s.settle_limit {
        let before = cpu_seconds(&pid);
        tokio::time::sleep(s.settle_window).await;
        if cpu_seconds(&pid) - before < idle_cpu {
            eprintln!("  idle after {:.1} s", started.elapsed().as_secs_f64());
            return;
        }
    }
    eprintln!(
        "warning: the server is still busy after {} s",
        s.settle_limit.as_secs()
    );
}

// ---------------------------------------------------------------------------------------------
// Seeding (set-up requests, each of which must succeed)

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    /// The response's `data`; an error unless the answer is a 2xx.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "seeding: {method} {path} answered {status}: {text}"
        );
        let mut body: Value = serde_json::from_str(&text)?;
        Ok(body["data"].take())
    }

    async fn id_of(&self, path: &str, token: &str, body: Value) -> anyhow::Result<String> {
        let data = self.call(Method::POST, path, Some(token), body).await?;
        id(&data["id"])
    }

    async fn register(&self, email: &str, name: &str) -> anyhow::Result<User> {
        let data = self
            .call(
                Method::POST,
                "/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "name": name}),
            )
            .await?;
        let token = id(&data["token"])?;
        Ok(User {
            id: id(&data["user"]["id"])?,
            auth: HeaderValue::from_str(&format!("Bearer {token}"))?,
            token,
        })
    }

    /// Creates `count` tasks titled "Seed task {i}" in a project, `SEED_CONCURRENCY` at a time;
    /// their ids in order.
    async fn create_tasks(
        &self,
        project: &str,
        token: &str,
        count: usize,
    ) -> anyhow::Result<Vec<String>> {
        let path = format!("/v1/projects/{project}/tasks");
        stream::iter(0..count)
            .map(|i| {
                self.id_of(
                    &path,
                    token,
                    json!({"title": format!("Seed task {i}"), "status": "todo"}),
                )
            })
            .buffered(SEED_CONCURRENCY)
            .try_collect()
            .await
    }
}

fn id(v: &Value) -> anyhow::Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("expected a string, got {v}"))
}

struct User {
    id: String,
    token: String,
    /// `Bearer <token>`, made once.
    auth: HeaderValue,
}

/// What compare.py seeds: one user, a workspace, 20 projects, the tasks in the last one.
struct Seed {
    base: String,
    owner: User,
    workspace_id: String,
    project_ids: Vec<String>,
    last_project: String,
    /// The last seeded task: the one `get_task` and `update_task` hit.
    last_task: String,
    last_project_tasks: Vec<String>,
}

async fn seed(api: &Api, tasks: usize) -> anyhow::Result<Seed> {
    let owner = api.register("load@example.com", "Load").await?;
    let workspace_id = api
        .id_of("/v1/workspaces", &owner.token, json!({"name": "Load"}))
        .await?;
    let mut project_ids = Vec::with_capacity(PROJECTS);
    // One at a time, so "the last project" is the one created last, as in compare.py.
    for i in 0..PROJECTS {
        let path = format!("/v1/workspaces/{workspace_id}/projects");
        project_ids.push(
            api.id_of(&path, &owner.token, json!({"name": format!("Project {i}")}))
                .await?,
        );
    }
    let last_project = project_ids.last().cloned().expect("projects");
    let last_project_tasks = api
        .create_tasks(&last_project, &owner.token, tasks.max(1))
        .await?;
    Ok(Seed {
        base: api.base.clone(),
        last_task: last_project_tasks.last().cloned().expect("tasks"),
        owner,
        workspace_id,
        project_ids,
        last_project,
        last_project_tasks,
    })
}

/// Everything the mix's connections share: the users, and the tasks known in each project.
struct MixWorld {
    base: String,
    workspace_id: String,
    project_ids: Vec<String>,
    /// `Bearer <token>` of the owner and every member.
    user_auths: Vec<HeaderValue>,
    /// Per project (same order as `project_ids`), ids of tasks to read and update.
    task_ids: Vec<Vec<String>>,
}

/// Members join the workspace (MEMBER) and every project (a MEMBER sees only the projects it
/// belongs to), and the projects without tasks get some. Done just before the mix, so the
/// other scenarios run on exactly compare.py's data.
async fn seed_mix(api: &Api, seed: &Seed, tasks_per_project: usize) -> anyhow::Result<MixWorld> {
    let owner = &seed.owner.token;
    let mut members = Vec::with_capacity(MIX_MEMBERS);
    for n in 1..=MIX_MEMBERS {
        let member = api
            .register(
                &format!("load-member-{n}@example.com"),
                &format!("Member {n}"),
            )
            .await?;
        let path = format!("/v1/workspaces/{}/members", seed.workspace_id);
        api.call(
            Method::POST,
            &path,
            Some(owner),
            json!({"user_id": member.id, "role": "MEMBER"}),
        )
        .await?;
        members.push(member);
    }
    let memberships = seed
        .project_ids
        .iter()
        .flat_map(|p| members.iter().map(move |m| (p, m)));
    stream::iter(memberships)
        .map(|(project, member)| {
            let path = format!("/v1/projects/{project}/members");
            async move {
                api.call(
                    Method::POST,
                    &path,
                    Some(owner),
                    json!({"user_id": member.id}),
                )
                .await
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;

    let users: Vec<&User> = std::iter::once(&seed.owner).chain(&members).collect();
    let mut task_ids = Vec::with_capacity(PROJECTS);
    for (i, project) in seed.project_ids.iter().enumerate() {
        if *project == seed.last_project {
            task_ids.push(seed.last_project_tasks.clone());
        } else {
            // Each project's tasks made by a different user, as a team's would be.
            let author = &users[i % users.len()].token;
            task_ids.push(api.create_tasks(project, author, tasks_per_project).await?);
        }
    }
    Ok(MixWorld {
        base: seed.base.clone(),
        workspace_id: seed.workspace_id.clone(),
        project_ids: seed.project_ids.clone(),
        user_auths: users.iter().map(|u| u.auth.clone()).collect(),
        task_ids,
    })
}

// ---------------------------------------------------------------------------------------------
// The mix

#[derive(Clone, Copy)]
enum MixOp {
    GetTask,
    ListTasks,
    ListProjects,
    SearchText,
    CreateTask,
    UpdateTask,
}

/// Percent of requests per operation: 80 reads, 20 writes.
const MIX_WEIGHTS: [(MixOp, u64); 6] = [
    (MixOp::GetTask, 30),
    (MixOp::ListTasks, 20),
    (MixOp::ListProjects, 15),
    (MixOp::SearchText, 15),
    (MixOp::CreateTask, 10),
    (MixOp::UpdateTask, 10),
];

/// A small xorshift: the mix needs spread, not statistical quality, and no seed file.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Self {
        // Never zero (xorshift's fixed point), different per connection.
        Self(0x9E37_79B9_7F4A_7C15 ^ (stream + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// One connection's share of the mix: one user (a client keeps its session), a random
/// project and operation per request.
struct MixClient {
    world: Arc<MixWorld>,
    auth: HeaderValue,
    rng: Rng,
}

impl MixClient {
    fn new(world: Arc<MixWorld>, connection: usize) -> Self {
        let auth = world.user_auths[connection % world.user_auths.len()].clone();
        Self {
            world,
            auth,
            rng: Rng::new(connection as u64),
        }
    }

    fn next_request(&mut self) -> RequestShape {
        let op = self.op();
        let w = Arc::clone(&self.world);
        let (base, auth) = (&w.base, &self.auth);
        let p = self.rng.below(w.project_ids.len() as u64) as usize;
        let project = &w.project_ids[p];
        let task = self.rng.pick(&w.task_ids[p]).clone();
        let n = self.rng.below(100);
        match op {
            MixOp::GetTask => RequestShape::get(format!("{base}/v1/tasks/{task}"), auth),
            MixOp::ListTasks => RequestShape::get(
                format!("{base}/v1/projects/{project}/tasks?limit=50&sort=-created"),
                auth,
            ),
            MixOp::ListProjects => RequestShape::get(
                format!("{base}/v1/workspaces/{}/projects", w.workspace_id),
                auth,
            ),
            // Varied queries: one repeated query would measure the search result cache alone.
            MixOp::SearchText => RequestShape::post(
                format!("{base}/v1/projects/{project}/search"),
                auth,
                json!({"query": format!("task {n}"), "mode": "text", "limit": 10}),
            ),
            MixOp::CreateTask => RequestShape::post(
                format!("{base}/v1/projects/{project}/tasks"),
                auth,
                json!({"title": format!("Load task {n}"), "status": "todo"}),
            ),
            MixOp::UpdateTask => {
                let change = match n % 4 {
                    0 => json!({"status": "TODO"}),
                    1 => json!({"status": "IN_PROGRESS"}),
                    2 => json!({"status": "DONE"}),
                    _ => json!({"title": format!("Renamed task {n}")}),
                };
                RequestShape::with_body(
                    Method::PATCH,
                    format!("{base}/v1/tasks/{task}"),
                    auth,
                    change,
                )
            }
        }
    }

    fn op(&mut self) -> MixOp {
        let total: u64 = MIX_WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.below(total);
        for (op, weight) in MIX_WEIGHTS {
            if roll < weight {
                return op;
            }
            roll -= weight;
        }
        unreachable!("the roll is below the weights' sum")
    }
}

// ---------------------------------------------------------------------------------------------
// The load generator

/// What one connection sends next.
enum RequestSource {
    Fixed(RequestShape),
    Mixed(MixClient),
}

impl RequestSource {
    fn next_request(&mut self) -> RequestShape {
        match self {
            RequestSource::Fixed(shape) => shape.clone(),
            RequestSource::Mixed(client) => client.next_request(),
        }
    }
}

/// What the connections saw.
#[derive(Default)]
struct Tally {
    /// Per answered request (2xx or not), send to last body byte.
    latencies_us: Vec<u32>,
    non_2xx: u64,
    /// No answer: connection refused or reset, timeout.
    errors: u64,
    failure_examples: Vec<String>,
}

impl Tally {
    fn note_failure(&mut self, what: String) {
        if self.failure_examples.len() < FAILURE_EXAMPLES {
            self.failure_examples.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
        for example in other.failure_examples {
            self.note_failure(example);
        }
    }
}

/// One keep-alive connection: its own client (so exactly one connection), one request at a
/// time until the deadline, as each of wrk's connections does.
async fn drive_connection(mut source: RequestSource, deadline: Instant) -> anyhow::Result<Tally> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(REQUEST_TIMEOUT)
        .build()?;
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let request = source.next_request();
        let sent = Instant::now();
        match send(&client, &request).await {
            Ok((status, body)) => {
                let us = sent.elapsed().as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(us).unwrap_or(u32::MAX));
                if !status.is_success() {
                    tally.non_2xx += 1;
                    let body = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                    tally.note_failure(format!(
                        "{} {} -> {status}: {body}",
                        request.method, request.url
                    ));
                }
            }
            Err(e) => {
                tally.errors += 1;
                tally.note_failure(format!("{} {} -> {e}", request.method, request.url));
            }
        }
    }
    Ok(tally)
}

/// Sends a request and reads the whole body (an unread body would cost the connection).
async fn send(client: &reqwest::Client, r: &RequestShape) -> reqwest::Result<(StatusCode, Bytes)> {
    let mut req = client
        .request(r.method.clone(), &r.url)
        .header(AUTHORIZATION, r.auth.clone());
    if let Some(body) = &r.body {
        req = req
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone());
    }
    let res = req.send().await?;
    let status = res.status();
    Ok((status, res.bytes().await?))
}

/// One scenario's figures.
struct Figures {
    scenario: Scenario,
    requests: usize,
    elapsed: Duration,
    p50_ms: f64,
    p99_ms: f64,
    server_cpu_ms_per_request: f64,
    bench_cpu_ms_per_request: f64,
    non_2xx: u64,
    errors: u64,
    failure_examples: Vec<String>,
    rss_mib: f64,
    hwm_mib: f64,
}

impl Figures {
    fn failed(&self) -> bool {
        self.non_2xx > 0 || self.errors > 0 || self.requests == 0
    }
}

async fn run_scenario(
    scenario: Scenario,
    sources: Vec<RequestSource>,
    server_pid: u32,
    duration: Duration,
) -> anyhow::Result<Figures> {
    let server = server_pid.to_string();
    let (server_cpu_before, bench_cpu_before) = (cpu_seconds(&server), cpu_seconds("self"));
    let started = Instant::now();
    let deadline = started + duration;
    let connections: Vec<_> = sources
        .into_iter()
        .map(|source| tokio::spawn(drive_connection(source, deadline)))
        .collect();
    let mut tally = Tally::default();
    for connection in connections {
        tally.merge(connection.await??);
    }
    // Until the last request in flight at the deadline has its answer: those count too.
    let elapsed = started.elapsed();
    let server_cpu = cpu_seconds(&server) - server_cpu_before;
    let bench_cpu = cpu_seconds("self") - bench_cpu_before;
    let (rss_mib, hwm_mib) = memory_mib(server_pid);

    tally.latencies_us.sort_unstable();
    let requests = tally.latencies_us.len();
    let per_request_ms = |cpu_s: f64| cpu_s * 1000.0 / requests.max(1) as f64;
    Ok(Figures {
        scenario,
        requests,
        elapsed,
        p50_ms: percentile_ms(&tally.latencies_us, 50.0),
        p99_ms: percentile_ms(&tally.latencies_us, 99.0),
        server_cpu_ms_per_request: per_request_ms(server_cpu),
        bench_cpu_ms_per_request: per_request_ms(bench_cpu),
        non_2xx: tally.non_2xx,
        errors: tally.errors,
        failure_examples: tally.failure_examples,
        rss_mib,
        hwm_mib,
    })
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1000.0
}

// ---------------------------------------------------------------------------------------------
// Report

fn print_table_header() {
    println!(
        "| scenario | req/s | p50 ms | p99 ms | server CPU ms/req | bench CPU ms/req | non-2xx | errors | server VmRSS / VmHWM MiB |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
}

fn print_row(f: &Figures) {
    let flag = if f.failed() { " **FAILED**" } else { "" };
    println!(
        "| {}{flag} | {:.0} | {:.2} | {:.2} | {:.3} | {:.3} | {} | {} | {:.1} / {:.1} |",
        f.scenario.name(),
        f.requests as f64 / f.elapsed.as_secs_f64(),
        f.p50_ms,
        f.p99_ms,
        f.server_cpu_ms_per_request,
        f.bench_cpu_ms_per_request,
        f.non_2xx,
        f.errors,
        f.rss_mib,
        f.hwm_mib,
    );
}

// ---------------------------------------------------------------------------------------------

async fn run(s: &Settings, database_url: Option<&str>) -> anyhow::Result<()> {
    let (binary, chosen_by) = server_binary(s.benching);
    let server = Server::start(&binary, database_url, &s.server_env).await?;
    let api = Api {
        client: reqwest::Client::new(),
        base: server.base.clone(),
    };
    let engine = if database_url.is_some() {
        "Postgres"
    } else {
        "SQLite"
    };
    eprintln!("seeding {PROJECTS} projects and {} tasks…", s.tasks);
    let seeded_at = Instant::now();
    let seed = seed(&api, s.tasks).await?;
    eprintln!("  seeded in {:.1} s", seeded_at.elapsed().as_secs_f64());

    println!(
        "Kanri load ({engine}; {} seed tasks; {} connections; {} s per scenario)",
        s.tasks,
        s.connections,
        s.duration.as_secs_f64()
    );
    println!(
        "server: {} ({chosen_by}, {})",
        binary.display(),
        binary_age(&binary)
    );
    println!();
    print_table_header();

    let mut figures = Vec::new();
    for &scenario in &s.scenarios {
        let sources: Vec<RequestSource> = match scenario.fixed_request(&seed) {
            Some(shape) => (0..s.connections)
                .map(|_| RequestSource::Fixed(shape.clone()))
                .collect(),
            None => {
                eprintln!("seeding the mix: {MIX_MEMBERS} members, tasks in every project…");
                let tasks_per_project = if s.benching { MIX_TASKS_PER_PROJECT } else { 5 };
                let world = Arc::new(seed_mix(&api, &seed, tasks_per_project).await?);
                (0..s.connections)
                    .map(|c| RequestSource::Mixed(MixClient::new(Arc::clone(&world), c)))
                    .collect()
            }
        };
        eprintln!("{}: waiting for the server to go idle", scenario.name());
        settle(server.pid(), s).await;
        let f = run_scenario(scenario, sources, server.pid(), s.duration).await?;
        print_row(&f);
        figures.push(f);
    }

    let failed: Vec<&Figures> = figures.iter().filter(|f| f.failed()).collect();
    if !failed.is_empty() {
        println!();
        for f in &failed {
            println!(
                "{}: {} non-2xx, {} errors of {} answered; for example:",
                f.scenario.name(),
                f.non_2xx,
                f.errors,
                f.requests
            );
            for example in &f.failure_examples {
                println!("  {example}");
            }
        }
        let names: Vec<&str> = failed.iter().map(|f| f.scenario.name()).collect();
        anyhow::bail!("not every response was a 2xx in: {}", names.join(", "));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    let settings = Settings::from_env(benching)?;
    let postgres = match &settings.database_url {
        Some(url) => Some(PostgresDatabase::create(url).await?),
        None => None,
    };
    let result = run(&settings, postgres.as_ref().map(|p| p.url.as_str())).await;
    // `run` has stopped the server by now (its `Server` was dropped).
    if let Some(db) = postgres {
        db.drop_database().await;
    }
    result
}

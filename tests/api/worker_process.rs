//! A `kanri worker` process killed with SIGKILL in the middle of a job: the job's lease runs
//! out, a second worker process claims it again and completes it. Real parts throughout: the
//! binary, the test's database (SQLite file or fresh Postgres database), an email job enqueued
//! by an HTTP write, and an SMTP server on a loopback port that leaves the first session
//! hanging at DATA.

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::mail::{ACCEPT, SmtpServer, parse};

const WAIT: Duration = Duration::from_secs(20);
const TICK: Duration = Duration::from_millis(50);

/// A running `kanri worker`; killed (SIGKILL) and reaped when dropped, so a failed assertion
/// never leaks a process.
struct WorkerProcess {
    child: Child,
    log: PathBuf,
}

impl WorkerProcess {
    fn start(name: &str, data_dir: &Path, database_url: &str, smtp_port: u16) -> Self {
        let log = data_dir.join(format!("{name}.log"));
        let out = File::create(&log).expect("worker log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kanri"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("KANRI_")) {
            cmd.env_remove(key);
        }
        cmd.arg("worker")
            .env("KANRI_DATA_DIR", data_dir)
            .env("KANRI_DATABASE_URL", database_url)
            .env(
                "KANRI_MAIL_URL",
                format!("smtp://127.0.0.1:{smtp_port}?tls=none"),
            )
            .env("KANRI_WORKERS", "1")
            .env("KANRI_JOB_LEASE_SECS", "2")
            .env("KANRI_JOB_POLL_MS", "50")
            .env("KANRI_LOG", "info")
            .current_dir(data_dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = cmd.spawn().expect("kanri worker starts");
        Self { child, log }
    }

    /// Sends SIGKILL and reaps the process.
    fn kill(&mut self) -> std::process::ExitStatus {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap the worker")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone, PartialEq, sqlx_macros::FromRow)]
struct JobState {
    state: String,
    attempts: i64,
    locked_by: Option<String>,
    last_error: Option<String>,
}

async fn job_state(app: &TestApp, id: &str) -> JobState {
    sqlx::query_as("SELECT state, attempts, locked_by, last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.read())
        .await
        .unwrap()
}

/// An owner, a member and a project they share; the owner creates a task assigned to the
/// member, which enqueues the `task:assigned` email job. Returns that job's id.
async fn assign_a_task(app: &TestApp, title: &str) -> String {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let ws = app.create_workspace(&owner.token, "Plant").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    let project = app
        .create_project(
            &owner.token,
            &ws,
            json!({"name": "Reactor", "members": [member.user_id]}),
        )
        .await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/projects/{project}/tasks"),
            &owner.token,
            Some(json!({"title": title, "assignee_id": member.user_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let jobs: Vec<(String, String, String)> =
        // The task's search-embedding job runs too; this test is about the email.
        sqlx::query_as("SELECT id, kind, state FROM jobs WHERE kind <> 'search:embed' ORDER BY id")
            .fetch_all(app.db.read())
            .await
            .unwrap();
    assert_eq!(
        jobs.len(),
        1,
        "only the assignment email is queued: {jobs:?}"
    );
    let (id, kind, state) = jobs.into_iter().next().unwrap();
    assert_eq!((kind.as_str(), state.as_str()), ("task:assigned", "queued"));
    id
}

#[tokio::test]
async fn a_worker_killed_mid_job_leaves_it_to_another_after_the_lease() {
    let smtp = SmtpServer::start_stalling(ACCEPT, 1).await;
    // Workers = 0 in the test app: only the worker processes run jobs.
    let app = TestApp::spawn().await;
    let database_url = app.config.database.url.expose().to_string();
    let title = "Restart the reactor";
    let job = assign_a_task(&app, title).await;

    // The first worker claims the job and hangs in the SMTP exchange, renewing its lease.
    let mut first = WorkerProcess::start("first", app.dir.path(), &database_url, smtp.port);
    let deadline = tokio::time::Instant::now() + WAIT;
    let claimed = loop {
        let s = job_state(&app, &job).await;
        if s.state == "running" && smtp.stalled() == 1 {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first worker never got stuck sending: {s:?}, {} stalled session(s)\n{}",
            smtp.stalled(),
            first.log()
        );
        tokio::time::sleep(TICK).await;
    };
    assert_eq!(claimed.attempts, 1);
    let first_owner = claimed
        .locked_by
        .clone()
        .expect("a running job has a holder");

    let status = first.kill();
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    let orphaned = job_state(&app, &job).await;
    assert_eq!(
        orphaned,
        JobState {
            state: "running".into(),
            attempts: 1,
            locked_by: Some(first_owner.clone()),
            last_error: None,
        },
        "nobody finished the job: it still belongs to the dead worker"
    );
    assert!(smtp.received().is_empty(), "no message got through");

    // A second worker finds the job once its lease has run out and sends the email.
    let second = WorkerProcess::start("second", app.dir.path(), &database_url, smtp.port);
    let deadline = tokio::time::Instant::now() + WAIT;
    let done = loop {
        let s = job_state(&app, &job).await;
        if s.state != "running" && s.state != "queued" {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job was never completed after the lease ran out: {s:?}\n{}",
            second.log()
        );
        tokio::time::sleep(TICK).await;
    };
    assert_eq!(
        done,
        JobState {
            state: "succeeded".into(),
            attempts: 2,
            locked_by: None,
            last_error: None,
        },
        "run again after the lease, once, and completed\n{}",
        second.log()
    );

    let received = smtp.received();
    assert_eq!(received.len(), 1, "exactly one complete message");
    assert_eq!(received[0].rcpt_to, ["member@example.com"]);
    let message = parse(&received[0].data);
    assert_eq!(message.to, "member@example.com");
    assert!(message.subject.contains(title), "{}", message.subject);
    assert!(message.text.contains(title), "{}", message.text);
    assert_eq!(smtp.stalled(), 1, "only the first session was left hanging");
    drop(second);
}

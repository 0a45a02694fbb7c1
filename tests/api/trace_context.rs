//! W3C trace context: a request's `traceparent` reaches the jobs it enqueues (their stored
//! `trace_id`) and the log lines of the request and of those jobs; a request without a valid
//! one gets a fresh trace.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kanri::clock::now_ms;
use reqwest::{Method, StatusCode};
use serde_json::json;

use kanri::jobs::NewJobSpec;

use crate::helpers::TestApp;
use crate::metrics::{Team, team};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// A `MakeWriter` into a shared buffer: the log lines of this test's thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

async fn trace_of_assignment(app: &TestApp, t: &Team, traceparent: Option<&str>) -> String {
    let path = format!("/v1/projects/{}/tasks", t.project);
    let mut req = app
        .as_user(Method::POST, &path, &t.owner.token)
        .json(&json!({"title": "Traced", "assignee_id": t.member.user_id}));
    if let Some(value) = traceparent {
        req = req.header("traceparent", value);
    }
    assert_eq!(req.send().await.unwrap().status(), StatusCode::CREATED);
    let traces: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT trace_id FROM jobs WHERE kind = 'task:assigned' AND state = 'queued'",
    )
    .fetch_all(app.db.read())
    .await
    .unwrap();
    assert_eq!(traces.len(), 1);
    app.run_due_jobs(now_ms()).await;
    traces[0]
        .0
        .clone()
        .expect("a job enqueued by a request has a trace")
}

#[tokio::test]
async fn a_traceparent_reaches_the_jobs_the_request_enqueues_and_their_logs() {
    // This test's thread logs into a buffer (the app runs on this thread's runtime).
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter("info")
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn().await;
    let t = team(&app).await;
    // Other tests' threads may have hit the request span's callsites before this dispatcher
    // existed, and a callsite registered in that window keeps its cached "nobody listens";
    // recomputing every callsite's interest now makes the capture deterministic.
    tracing::callsite::rebuild_interest_cache();
    let given = format!("00-{TRACE}-00f067aa0ba902b7-01");
    assert_eq!(trace_of_assignment(&app, &t, Some(&given)).await, TRACE);

    let fresh = trace_of_assignment(&app, &t, None).await;
    assert!(
        fresh.len() == 32 && fresh.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fresh}"
    );
    assert_ne!(fresh, TRACE);
    let unknown_version = format!("ff-{TRACE}-00f067aa0ba902b7-01");
    let other = trace_of_assignment(&app, &t, Some(&unknown_version)).await;
    assert!(
        other != TRACE && other != fresh,
        "a bad header starts a new trace"
    );

    let in_span = |line: &serde_json::Value, name: &str| {
        line["span"]["name"] == name && line["span"]["trace_id"] == TRACE
    };
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|l| in_span(l, "request") && l["span"]["route"] == "/v1/projects/{id}/tasks"),
        "the request's log lines carry the trace id: {:#?}",
        lines
            .iter()
            .filter(|l| l.to_string().contains("request"))
            .take(6)
            .collect::<Vec<_>>()
    );
    assert!(
        lines
            .iter()
            .any(|l| in_span(l, "job") && l["span"]["kind"] == "task:assigned"),
        "the job's span carries the trace id"
    );
    app.stop().await;
}

/// For every job it runs, enqueues a child job (as a job whose work causes a webhook delivery
/// would); the children just succeed.
struct Spawner {
    db: kanri::db::Db,
}

const CHILD: &str = "trace-test:child";

impl kanri::jobs::Runner for Spawner {
    fn run<'a>(&'a self, job: &'a kanri::jobs::Job) -> kanri::jobs::JobFuture<'a> {
        Box::pin(async move {
            if job.kind != CHILD {
                let mut tx = self.db.begin().await?;
                let child = NewJobSpec::new(&job.tenant_id, CHILD, json!({"parent": job.id}));
                kanri::jobs::enqueue(&mut tx, child).await?;
                tx.commit().await?;
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn jobs_enqueued_by_a_traced_job_inherit_its_trace() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    // Jobs from before the traced request must not run under it: drain them first.
    app.run_due_jobs(now_ms()).await;
    let path = format!("/v1/projects/{}/tasks", t.project);
    let res = app
        .as_user(Method::POST, &path, &t.owner.token)
        .header("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01"))
        .json(&json!({"title": "Traced", "assignee_id": t.member.user_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // A real worker loop (not `run_due`), as `kanri serve` and `kanri worker` run them.
    let stop = tokio_util::sync::CancellationToken::new();
    let runner = std::sync::Arc::new(Spawner { db: app.db.clone() });
    let workers = kanri::jobs::worker::spawn(&app.queue, runner, 1, &stop);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let children = loop {
        let rows: Vec<(Option<String>, String)> =
            sqlx::query_as("SELECT trace_id, state FROM jobs WHERE kind = $1 ORDER BY id")
                .bind(CHILD)
                .fetch_all(app.db.read())
                .await
                .unwrap();
        let parents: Vec<(String,)> = sqlx::query_as(
            "SELECT state FROM jobs WHERE kind <> $1 AND state NOT IN ('succeeded', 'cancelled') AND run_at <= $2",
        )
        .bind(CHILD)
        .bind(now_ms())
        .fetch_all(app.db.read())
        .await
        .unwrap();
        if parents.is_empty() && !rows.is_empty() && rows.iter().all(|r| r.1 == "succeeded") {
            break rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not finish: {rows:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    stop.cancel();
    workers.join_all().await;
    assert!(
        children.len() >= 2,
        "the assignment email and the embedding: {children:?}"
    );
    for (trace, _) in &children {
        assert_eq!(trace.as_deref(), Some(TRACE), "{children:?}");
    }
}

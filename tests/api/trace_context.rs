//! W3C trace context: a request's `traceparent` reaches the jobs it enqueues (their stored
//! `trace_id`) and the log lines of the request and of those jobs; a request without a valid
//! one gets a fresh trace.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kanri::clock::now_ms;
use reqwest::{Method, StatusCode};
use serde_json::json;

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

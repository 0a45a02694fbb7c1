//! `/metrics` over HTTP, parsed by the official Prometheus text parser (Python's
//! `prometheus_client`, through `tests/prometheus_parse.py`); the bearer token; and W3C trace
//! context reaching the jobs a request enqueues and their log lines.
//!
//! Counters and histograms are process-wide and every test app in this binary records into
//! them, so tests assert on deltas or on labels only they produce. The job gauges are read
//! from each app's own database at scrape time.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use kanri::clock::now_ms;
use kanri::jobs::{self, NewJobSpec};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{SignedIn, TestApp, expect_error, use_redis};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[derive(Debug, Deserialize)]
struct Family {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    samples: Vec<Sample>,
}

#[derive(Debug, Deserialize)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: serde_json::Value,
}

struct Scrape {
    families: Vec<Family>,
}

impl Scrape {
    fn family(&self, name: &str) -> &Family {
        self.families
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no family {name} in {:?}", self.names()))
    }

    fn names(&self) -> Vec<&str> {
        self.families.iter().map(|f| f.name.as_str()).collect()
    }

    fn samples(&self, sample: &str) -> impl Iterator<Item = &Sample> {
        self.families
            .iter()
            .flat_map(|f| &f.samples)
            .filter(move |s| s.name == sample)
    }

    /// The value of the one sample named `sample` whose labels include `labels`.
    fn value(&self, sample: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<&Sample> = self
            .samples(sample)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert!(
            matching.len() <= 1,
            "{sample} {labels:?} is ambiguous: {matching:?}"
        );
        matching
            .first()
            .map(|s| s.value.as_f64().expect("a finite value"))
    }

    /// Like `value`, 0 when the series does not exist yet.
    fn count(&self, sample: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(sample, labels).unwrap_or(0.0)
    }
}

/// Runs the official parser. `None` (the test returns early) only when python3 or
/// `prometheus_client` is missing outside CI; under `CI=true` that is a failure.
fn parse(text: &str) -> Option<Scrape> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/prometheus_parse.py");
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let missing = |what: &str| {
        assert!(!in_ci, "{what} is missing; .ci/run installs it");
        eprintln!("skipping the /metrics parse: {what} is missing (pip install prometheus_client)");
        None
    };
    let Ok(mut child) = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return missing("python3");
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(3) {
        return missing("prometheus_client");
    }
    assert!(
        out.status.success(),
        "the Prometheus parser rejected /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let families = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    Some(Scrape { families })
}

async fn scrape_text(app: &TestApp) -> String {
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    res.text().await.unwrap()
}

async fn scrape(app: &TestApp) -> Option<Scrape> {
    parse(&scrape_text(app).await)
}

struct Team {
    owner: SignedIn,
    member: SignedIn,
    project: String,
}

async fn team(app: &TestApp) -> Team {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    let project = app
        .create_project(
            &owner.token,
            &ws,
            json!({"name": "Launch", "members": [member.user_id]}),
        )
        .await;
    Team {
        owner,
        member,
        project,
    }
}

#[tokio::test]
async fn metrics_parse_and_label_requests_by_route_template() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let Some(before) = scrape(&app).await else {
        return;
    };
    let labels = [
        ("method", "GET"),
        ("route", "/v1/projects/{id}"),
        ("status", "200"),
    ];
    let path = format!("/v1/projects/{}", t.project);
    for _ in 0..3 {
        let res = app
            .as_user(Method::GET, &path, &t.owner.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let missing = format!("/v1/no-such-route/{}", t.project);
    assert_eq!(app.get(&missing).await.status(), StatusCode::NOT_FOUND);
    let other = app.register("stranger@example.com").await;
    let res = app
        .as_user(Method::GET, &path, &other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "not a member");

    let text = scrape_text(&app).await;
    assert!(
        !text.contains(&t.project),
        "a raw path leaked into a label:\n{text}"
    );
    let s = parse(&text).unwrap();
    let requests = s.family("http_requests");
    assert_eq!(requests.kind, "counter");
    assert!(
        s.count("http_requests_total", &labels) - before.count("http_requests_total", &labels)
            >= 3.0
    );
    let not_found = [
        ("method", "GET"),
        ("route", "/v1/projects/{id}"),
        ("status", "404"),
    ];
    assert!(s.count("http_requests_total", &not_found) >= 1.0);
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert!(
        s.count("http_requests_total", &unmatched)
            - before.count("http_requests_total", &unmatched)
            >= 1.0
    );

    let duration = s.family("http_request_duration_seconds");
    assert_eq!(duration.kind, "histogram");
    let route = [("method", "GET"), ("route", "/v1/projects/{id}")];
    let mut buckets: Vec<(f64, f64)> = s
        .samples("http_request_duration_seconds_bucket")
        .filter(|b| route.iter().all(|(k, v)| b.labels[*k] == *v))
        .map(|b| {
            let le = b.labels["le"].parse::<f64>().unwrap();
            (le, b.value.as_f64().unwrap())
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bounds: Vec<f64> = buckets.iter().map(|b| b.0).collect();
    let mut expected = kanri::metrics::HTTP_BUCKETS.to_vec();
    expected.push(f64::INFINITY);
    assert_eq!(bounds, expected);
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative");
    let count = s.count("http_request_duration_seconds_count", &route);
    assert_eq!(buckets.last().unwrap().1, count, "+Inf holds every request");
    assert!(count >= 4.0);

    for name in [
        "jobs",
        "db_pool_connections",
        "realtime_connections",
        "realtime_subscriptions",
        "cache_hits",
        "cache_misses",
        "cache_redis_errors",
        "rate_limited_requests",
        "rate_limiter_fallbacks",
        "webhook_deliveries",
    ] {
        s.family(name);
    }
    assert!(s.count("db_pool_connections", &[("state", "in_use")]) >= 0.0);
    assert!(
        s.count("db_pool_connections", &[("state", "idle")]) >= 1.0,
        "a pool keeps one open"
    );
    if cfg!(target_os = "linux") {
        assert!(s.count("process_resident_memory_bytes", &[]) > 1e6);
        assert!(s.value("process_cpu_seconds_total", &[]).is_some());
    }
}

/// A kind no handler knows: its job dies on the first run. Only this test uses it.
const DOOMED: &str = "metrics-test:doomed";
/// Another unknown kind, claimed by hand so it stays running.
const STUCK: &str = "metrics-test:stuck";

#[tokio::test]
async fn job_gauges_and_counters_follow_the_queue() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let Some(before) = scrape(&app).await else {
        return;
    };
    app.create_task(
        &t.owner.token,
        &t.project,
        json!({"title": "Ship", "assignee_id": t.member.user_id, "due_date": "2030-01-31"}),
    )
    .await;
    let s = scrape(&app).await.unwrap();
    let gauge =
        |s: &Scrape, kind: &str, state: &str| s.count("jobs", &[("kind", kind), ("state", state)]);
    assert_eq!(gauge(&s, "task:assigned", "queued"), 1.0);
    assert_eq!(
        gauge(&s, "task:due_reminder", "scheduled"),
        1.0,
        "due in 2030"
    );
    assert_eq!(gauge(&s, "task:due_reminder", "queued"), 0.0);

    app.run_due_jobs(now_ms()).await;
    let mut tx = app.db.begin().await.unwrap();
    jobs::enqueue(&mut tx, NewJobSpec::new("default", STUCK, json!({})))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let now = now_ms() + 1;
    let claimed = kanri::db::jobs::claim(&app.db, "metrics-test", now, now + 3_600_000, 1)
        .await
        .unwrap();
    assert_eq!(claimed[0].kind, STUCK, "the only due job");
    let mut tx = app.db.begin().await.unwrap();
    jobs::enqueue(&mut tx, NewJobSpec::new("default", DOOMED, json!({})))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.run_due_jobs(now_ms() + 1).await, 1);

    let s = scrape(&app).await.unwrap();
    assert_eq!(
        gauge(&s, "task:assigned", "queued"),
        0.0,
        "an emptied series reads 0"
    );
    assert_eq!(gauge(&s, "task:due_reminder", "scheduled"), 1.0);
    assert_eq!(gauge(&s, STUCK, "running"), 1.0);
    assert_eq!(gauge(&s, DOOMED, "dead"), 1.0);
    assert_eq!(s.family("jobs").kind, "gauge");
    let runs = |s: &Scrape, kind: &str| s.count("job_runs_total", &[("kind", kind)]);
    let failures = |s: &Scrape, kind: &str| s.count("job_failures_total", &[("kind", kind)]);
    assert!(runs(&s, "task:assigned") - runs(&before, "task:assigned") >= 1.0);
    assert_eq!(runs(&s, DOOMED) - runs(&before, DOOMED), 1.0);
    assert_eq!(failures(&s, DOOMED) - failures(&before, DOOMED), 1.0);
    assert_eq!(runs(&s, STUCK), 0.0, "still running");
}

#[tokio::test]
async fn cache_counters_move_with_hits_and_misses() {
    let app = TestApp::spawn_with(|c| {
        if let Ok(url) = std::env::var("KANRI_TEST_REDIS_URL") {
            use_redis(c, &url);
        }
    })
    .await;
    let t = team(&app).await;
    let Some(before) = scrape(&app).await else {
        return;
    };
    let path = format!("/v1/projects/{}/tasks", t.project);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let res = app
            .as_user(Method::GET, &path, &t.owner.token)
            .send()
            .await
            .unwrap();
        seen.push(res.headers()["x-cache"].to_str().unwrap().to_string());
    }
    assert_eq!(seen, ["miss", "hit"]);
    let s = scrape(&app).await.unwrap();
    assert!(s.count("cache_hits_total", &[]) - before.count("cache_hits_total", &[]) >= 1.0);
    assert!(s.count("cache_misses_total", &[]) - before.count("cache_misses_total", &[]) >= 1.0);
}

#[tokio::test]
async fn redis_errors_are_counted() {
    // Nothing listens on port 1: every Redis operation fails, and requests read the database.
    let app = TestApp::spawn_with(|c| {
        use_redis(c, "redis://127.0.0.1:1");
        c.cache.redis_timeout = std::time::Duration::from_millis(500);
    })
    .await;
    let t = team(&app).await;
    let Some(before) = scrape(&app).await else {
        return;
    };
    let path = format!("/v1/projects/{}/tasks", t.project);
    let res = app
        .as_user(Method::GET, &path, &t.owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "served without the cache");
    let s = scrape(&app).await.unwrap();
    let errors =
        s.count("cache_redis_errors_total", &[]) - before.count("cache_redis_errors_total", &[]);
    // The first failure marks Redis down for this app; whether this request or an earlier one
    // in `team` met it, at least one was counted since the app started.
    assert!(
        errors >= 1.0 || s.count("cache_redis_errors_total", &[]) >= 1.0,
        "{errors}"
    );
}

#[tokio::test]
async fn realtime_gauges_count_open_connections_and_subscriptions() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let mut ws = crate::realtime::Ws::open(&app, &t.member).await;
    ws.subscribed(&format!("project/{}", t.project)).await;
    let Some(s) = scrape(&app).await else {
        return;
    };
    // Process-wide gauges: other tests' sockets come and go, but this one is open.
    assert!(s.count("realtime_connections", &[]) >= 1.0);
    assert!(s.count("realtime_subscriptions", &[]) >= 1.0);
    assert_eq!(s.family("realtime_connections").kind, "gauge");
}

#[tokio::test]
async fn metrics_token_is_required_when_configured() {
    let token = "scrape-token-0123456789";
    let app = TestApp::spawn_with(|c| {
        c.metrics.token = Some(kanri::config::Secret::new(token.into()));
    })
    .await;
    let res = app.get("/metrics").await;
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer")
    );
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let wrong = app
        .request(Method::GET, "/metrics")
        .bearer_auth("scrape-token-012345678X")
        .send()
        .await
        .unwrap();
    expect_error(wrong, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let right = app
        .request(Method::GET, "/metrics")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().contains("http_requests_total"));
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "only /metrics"
    );
}

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

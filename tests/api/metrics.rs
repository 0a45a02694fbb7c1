//! `/metrics` over HTTP, parsed by the official Prometheus text parser (Python's
//! `prometheus_client`, through `tests/prometheus_parse.py`), and its bearer token.
//!
//! Counters and histograms are process-wide and every test app in this binary records into
//! them, so tests assert on deltas or on labels only they produce. The job gauges are read
//! from each app's own database at scrape time.

use kanri::clock::now_ms;
use kanri::jobs::{self, NewJobSpec};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{SignedIn, TestApp, expect_error, use_redis};
use crate::prometheus::{Scrape, parse, scrape, scrape_text};

pub(crate) struct Team {
    pub owner: SignedIn,
    pub member: SignedIn,
    pub project: String,
}

/// An owner and a member of one workspace and its project.
pub(crate) async fn team(app: &TestApp) -> Team {
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

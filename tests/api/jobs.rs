//! The job queue on the real database: each job runs once under concurrency, retries and dead
//! jobs, scheduling, leases, graceful release, dedupe and the transactional guarantee.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kanri::clock::now_ms;
use kanri::jobs::{self, Job, JobError, JobFuture, NewJobSpec, Queue, Runner, worker};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestApp, expect_error, read};

/// Counts runs per job; fails, panics or blocks when told to. Jobs of kind `test.ok` always
/// succeed.
#[derive(Default)]
struct Probe {
    runs: Mutex<HashMap<String, usize>>,
    behaviour: Behaviour,
    /// Set when a hanging run is dropped (stopped by its worker).
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

/// Flags its drop: a hanging job future was stopped.
struct DropFlag(Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[derive(Default, Clone, Copy)]
enum Behaviour {
    #[default]
    Succeed,
    Retry,
    Fatal,
    Hang,
    Panic,
}

impl Runner for Probe {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(async move {
            *self.runs.lock().unwrap().entry(job.id.clone()).or_default() += 1;
            if job.kind == "test.ok" {
                return Ok(());
            }
            match self.behaviour {
                Behaviour::Succeed => {
                    tokio::task::yield_now().await;
                    Ok(())
                }
                Behaviour::Retry => Err(JobError::Retry("provider down".into())),
                Behaviour::Fatal => Err(JobError::Fatal("bad address".into())),
                Behaviour::Hang => {
                    let _flag = DropFlag(self.stopped.clone());
                    std::future::pending().await
                }
                Behaviour::Panic => panic!("a bug in a job handler"),
            }
        })
    }
}

async fn enqueue(queue: &Queue, spec: NewJobSpec<'_>) -> bool {
    let mut tx = queue.db.begin().await.unwrap();
    let inserted = jobs::enqueue(&mut tx, spec).await.unwrap();
    tx.commit().await.unwrap();
    queue.wake();
    inserted
}

async fn state_of(app: &TestApp, id_or_kind: &str) -> Vec<(String, i64, Option<String>)> {
    sqlx::query_as(
        "SELECT state, attempts, last_error FROM jobs WHERE id = $1 OR kind = $1 ORDER BY id",
    )
    .bind(id_or_kind)
    .fetch_all(app.db.read())
    .await
    .unwrap()
}

fn spec(kind: &'static str) -> NewJobSpec<'static> {
    NewJobSpec::new("default", kind, json!({"n": 1}))
}

#[tokio::test]
async fn many_workers_in_two_instances_run_each_job_once() {
    let app = TestApp::spawn().await;
    // A second instance on the same database, as another process would be.
    let other = kanri::App::build(app.config.clone()).await.unwrap();
    for i in 0..120 {
        enqueue(
            &app.queue,
            NewJobSpec::new("default", "test.count", json!({"i": i})),
        )
        .await;
    }
    let probe = Arc::new(Probe::default());
    let stop = CancellationToken::new();
    let mut fast = app.queue.clone();
    fast.settings.poll = Duration::from_millis(20);
    let mut fast_other = other.queue().clone();
    fast_other.settings.poll = Duration::from_millis(20);
    let mut a = worker::spawn(&fast, probe.clone(), 4, &stop);
    let mut b = worker::spawn(&fast_other, probe.clone(), 4, &stop);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'test.count' AND state = 'succeeded'",
        )
        .fetch_one(app.db.read())
        .await
        .unwrap();
        if done == 120 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {done} of 120 jobs finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    while a.join_next().await.is_some() {}
    while b.join_next().await.is_some() {}
    let runs = probe.runs.lock().unwrap();
    assert_eq!(runs.len(), 120);
    assert!(runs.values().all(|n| *n == 1), "a job ran twice: {runs:?}");
}

#[tokio::test]
async fn failures_retry_with_backoff_then_die_and_can_be_retried() {
    let app = TestApp::spawn().await;
    let mut failing = spec("test.flaky");
    failing.max_attempts = 3;
    enqueue(&app.queue, failing).await;
    let probe = Probe {
        behaviour: Behaviour::Retry,
        ..Probe::default()
    };
    let now = now_ms();
    assert_eq!(app.queue.run_due(&probe, now).await.unwrap(), 1);
    assert_eq!(state_of(&app, "test.flaky").await[0].0, "queued");
    // Backed off: not due again right away.
    assert_eq!(app.queue.run_due(&probe, now).await.unwrap(), 0);
    // Each retry waits out its backoff on the injected clock.
    let day = 24 * 3_600_000;
    assert_eq!(
        app.queue.run_due(&probe, now + day).await.unwrap(),
        1,
        "attempt 2"
    );
    assert_eq!(
        app.queue.run_due(&probe, now + day).await.unwrap(),
        0,
        "attempt 3 is backed off"
    );
    assert_eq!(
        app.queue.run_due(&probe, now + 2 * day).await.unwrap(),
        1,
        "attempt 3"
    );
    assert_eq!(
        app.queue.run_due(&probe, now + 3 * day).await.unwrap(),
        0,
        "dead jobs do not run"
    );
    let (state, attempts, error) = state_of(&app, "test.flaky").await.remove(0);
    assert_eq!(
        (state.as_str(), attempts, error.as_deref()),
        ("dead", 3, Some("provider down"))
    );

    let id: String = sqlx::query_scalar("SELECT id FROM jobs WHERE kind = 'test.flaky'")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    kanri::services::jobs::retry(&app.cx, None, &id)
        .await
        .unwrap();
    let ok = Probe::default();
    assert_eq!(app.queue.run_due(&ok, now_ms()).await.unwrap(), 1);
    assert_eq!(state_of(&app, &id).await[0].0, "succeeded");

    // A fatal error buries the job at once.
    enqueue(&app.queue, spec("test.fatal")).await;
    let fatal = Probe {
        behaviour: Behaviour::Fatal,
        ..Probe::default()
    };
    app.queue.run_due(&fatal, now_ms()).await.unwrap();
    let (state, attempts, _) = state_of(&app, "test.fatal").await.remove(0);
    assert_eq!((state.as_str(), attempts), ("dead", 1));
}

#[tokio::test]
async fn scheduled_jobs_wait_for_run_at_and_dedupe_keys_enqueue_once() {
    let app = TestApp::spawn().await;
    let at = now_ms() + 3_600_000;
    assert!(enqueue(&app.queue, spec("test.later").at(at).dedupe("cause-1")).await);
    assert!(
        !enqueue(&app.queue, spec("test.later").at(at).dedupe("cause-1")).await,
        "same cause, one job"
    );
    let probe = Probe::default();
    assert_eq!(
        app.queue.run_due(&probe, at - 1).await.unwrap(),
        0,
        "not before run_at"
    );
    assert_eq!(app.queue.run_due(&probe, at).await.unwrap(), 1);
    assert_eq!(state_of(&app, "test.later").await.len(), 1);
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_job() {
    let app = TestApp::spawn().await;
    let mut tx = app.db.begin().await.unwrap();
    jobs::enqueue(&mut tx, spec("test.ghost")).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(state_of(&app, "test.ghost").await.is_empty());
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again() {
    let app = TestApp::spawn().await;
    enqueue(&app.queue, spec("test.orphan")).await;
    let now = now_ms();
    // A worker claims it and dies without a word.
    let claimed = kanri::db::jobs::claim(&app.db, "dead-worker", now, now + 1_000, 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let probe = Probe::default();
    assert_eq!(
        app.queue.run_due(&probe, now + 500).await.unwrap(),
        0,
        "lease still held"
    );
    assert_eq!(app.queue.run_due(&probe, now + 1_001).await.unwrap(), 1);
    let (state, attempts, _) = state_of(&app, "test.orphan").await.remove(0);
    assert_eq!((state.as_str(), attempts), ("succeeded", 2));
}

#[tokio::test]
async fn shutdown_releases_jobs_that_do_not_finish_in_time() {
    let app = TestApp::spawn().await;
    enqueue(&app.queue, spec("test.stuck")).await;
    let mut queue = app.queue.clone();
    queue.settings.shutdown_grace = Duration::from_millis(100);
    queue.settings.poll = Duration::from_millis(20);
    let probe = Arc::new(Probe {
        behaviour: Behaviour::Hang,
        ..Probe::default()
    });
    let stop = CancellationToken::new();
    let mut workers = worker::spawn(&queue, probe.clone(), 1, &stop);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state_of(&app, "test.stuck").await[0].0 != "running" {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    while workers.join_next().await.is_some() {}
    let (state, attempts, _) = state_of(&app, "test.stuck").await.remove(0);
    assert_eq!(
        (state.as_str(), attempts),
        ("queued", 0),
        "released, attempt not counted"
    );
}

#[tokio::test]
async fn admin_api_lists_retries_and_cancels_a_tenants_jobs() {
    let app = TestApp::spawn().await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let mut dying = NewJobSpec::new(&acme.id, "test.admin", json!({}));
    dying.max_attempts = 1;
    enqueue(&app.queue, dying).await;
    app.queue
        .run_due(
            &Probe {
                behaviour: Behaviour::Retry,
                ..Probe::default()
            },
            now_ms(),
        )
        .await
        .unwrap();
    enqueue(
        &app.queue,
        NewJobSpec::new(&acme.id, "test.admin", json!({})).at(now_ms() + 3_600_000),
    )
    .await;

    let admin = |method: Method, path: &str, key: &str| {
        app.request(method, path)
            .header("X-Api-Key", key.to_string())
    };
    let (status, body) = read(
        admin(Method::GET, "/v1/admin/jobs?state=dead", &acme.secret_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dead = body["data"]["items"].as_array().unwrap().clone();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["last_error"], "provider down");
    let dead_id = dead[0]["id"].as_str().unwrap();
    let (_, body) = read(
        admin(
            Method::GET,
            "/v1/admin/jobs?state=scheduled",
            &acme.secret_key,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let scheduled_id = body["data"]["items"][0]["id"].as_str().unwrap().to_string();

    // Another tenant sees none of it.
    let (_, body) = read(
        admin(Method::GET, "/v1/admin/jobs", &other.secret_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(body["data"]["items"].as_array().unwrap().is_empty());
    let res = admin(
        Method::POST,
        &format!("/v1/admin/jobs/{dead_id}/retry"),
        &other.secret_key,
    )
    .send()
    .await
    .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = admin(Method::GET, "/v1/admin/jobs", &acme.publishable_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::FORBIDDEN, "secret_key_required").await;

    let res = admin(
        Method::POST,
        &format!("/v1/admin/jobs/{dead_id}/retry"),
        &acme.secret_key,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
    let res = admin(
        Method::POST,
        &format!("/v1/admin/jobs/{dead_id}/retry"),
        &acme.secret_key,
    )
    .send()
    .await
    .unwrap();
    expect_error(res, StatusCode::CONFLICT, "job_not_retryable").await;
    let res = admin(
        Method::POST,
        &format!("/v1/admin/jobs/{scheduled_id}/cancel"),
        &acme.secret_key,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(read(res).await.0, StatusCode::OK);
    let res = admin(
        Method::POST,
        &format!("/v1/admin/jobs/{scheduled_id}/cancel"),
        &acme.secret_key,
    )
    .send()
    .await
    .unwrap();
    expect_error(res, StatusCode::CONFLICT, "job_not_queued").await;
    let (_, body) = read(
        admin(Method::GET, "/v1/admin/jobs/stats", &acme.secret_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["depth"]["queued"], 1);
    assert_eq!(body["data"]["depth"]["cancelled"], 1);
    let res = admin(Method::GET, "/v1/admin/jobs?state=bogus", &acme.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn housekeeping_purges_expired_sessions_once_per_hour() {
    let app = TestApp::spawn().await;
    let stale = app.register("stale@example.com").await;
    let fresh = app.register("fresh@example.com").await;
    sqlx::query("UPDATE sessions SET expires_at = 1 WHERE user_id = $1")
        .bind(&stale.user_id)
        .execute(app.db.write())
        .await
        .unwrap();
    let now = now_ms();
    assert!(enqueue(&app.queue, kanri::jobs::runner::housekeeping_spec(now)).await);
    assert!(
        !enqueue(&app.queue, kanri::jobs::runner::housekeeping_spec(now)).await,
        "one per hour"
    );
    assert_eq!(app.run_due_jobs(now_ms()).await, 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT user_id FROM sessions")
        .fetch_all(app.db.read())
        .await
        .unwrap();
    assert_eq!(left, vec![fresh.user_id.clone()]);
    assert_eq!(app.me(&fresh.token).await.0, StatusCode::OK);
}

async fn wait_for(app: &TestApp, kind: &str, state: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while state_of(app, kind).await.first().map(|s| s.0.as_str()) != Some(state) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{kind} never became {state}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_panicking_job_is_a_failed_attempt_not_a_dead_worker() {
    let app = TestApp::spawn().await;
    enqueue(&app.queue, spec("test.panic")).await;
    let mut queue = app.queue.clone();
    queue.settings.poll = Duration::from_millis(20);
    let probe = Arc::new(Probe {
        behaviour: Behaviour::Panic,
        ..Probe::default()
    });
    let stop = CancellationToken::new();
    let mut workers = worker::spawn(&queue, probe.clone(), 1, &stop);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while state_of(&app, "test.panic").await[0].2.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the panic was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Recorded as a failed attempt to retry later (it may already be running again).
    let (state, attempts, error) = state_of(&app, "test.panic").await.remove(0);
    assert!(state == "queued" || state == "running", "{state}");
    assert!(attempts >= 1);
    assert_eq!(error.as_deref(), Some("the job panicked"));
    // The same worker goes on to run other jobs.
    enqueue(&app.queue, spec("test.ok")).await;
    wait_for(&app, "test.ok", "succeeded").await;
    stop.cancel();
    while workers.join_next().await.is_some() {}
}

#[tokio::test]
async fn a_worker_that_loses_its_lease_stops_the_job() {
    let app = TestApp::spawn().await;
    enqueue(&app.queue, spec("test.stolen")).await;
    let mut queue = app.queue.clone();
    queue.settings.poll = Duration::from_millis(20);
    queue.settings.lease = Duration::from_millis(300);
    queue.settings.shutdown_grace = Duration::from_millis(100);
    let probe = Arc::new(Probe {
        behaviour: Behaviour::Hang,
        ..Probe::default()
    });
    let stop = CancellationToken::new();
    let mut workers = worker::spawn(&queue, probe.clone(), 1, &stop);
    wait_for(&app, "test.stolen", "running").await;
    // Another worker took it over (as after a long pause past the lease).
    sqlx::query(
        "UPDATE jobs SET locked_by = 'another-worker', lease_until = lease_until + 3600000, max_attempts = 1
         WHERE kind = 'test.stolen'",
    )
        .execute(app.db.write())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !probe.stopped.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job kept running without its lease"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    while workers.join_next().await.is_some() {}
    let holder: Option<String> =
        sqlx::query_scalar("SELECT locked_by FROM jobs WHERE kind = 'test.stolen'")
            .fetch_one(app.db.read())
            .await
            .unwrap();
    assert_eq!(
        holder.as_deref(),
        Some("another-worker"),
        "the new holder's claim is untouched"
    );
}

#[tokio::test]
async fn a_job_whose_worker_dies_on_every_attempt_is_buried_not_looped() {
    let app = TestApp::spawn().await;
    let mut once = spec("test.crashy");
    once.max_attempts = 1;
    enqueue(&app.queue, once).await;
    let now = now_ms();
    // A worker claims it with a lease that has already run out, and died.
    let claimed = kanri::db::jobs::claim(&app.db, "crashed-worker", now, now - 1, 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let probe = Probe::default();
    assert_eq!(
        app.queue.run_due(&probe, now + 5_000).await.unwrap(),
        0,
        "no attempts left: not claimed again"
    );
    // The hourly housekeeping job buries it.
    let mut tx = app.db.begin().await.unwrap();
    kanri::jobs::enqueue(&mut tx, kanri::jobs::runner::housekeeping_spec(now))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.run_due_jobs(now_ms()).await, 1);
    let (state, attempts, error) = state_of(&app, "test.crashy").await.remove(0);
    assert_eq!((state.as_str(), attempts), ("dead", 1));
    assert!(error.unwrap().contains("stopped before finishing"));
}

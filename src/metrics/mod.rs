//! Metrics: the `metrics` facade is the project's API for them (any module calls
//! `metrics::counter!` and friends); this module installs the Prometheus recorder once per
//! process, describes every metric in one place, and renders `/metrics`, setting the gauges
//! that are read at scrape time (jobs, database pool, process) just before.
//!
//! Names and labels are listed in README ("Metrics"). Labels never hold raw paths, ids or user
//! input: routes are templates, kinds and states are closed sets.

mod process;
mod scrape;
pub mod summary;

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

use crate::db::Db;

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
pub const JOBS: &str = "jobs";
pub const JOB_RUNS: &str = "job_runs_total";
pub const JOB_FAILURES: &str = "job_failures_total";
pub const REALTIME_CONNECTIONS: &str = "realtime_connections";
pub const REALTIME_SUBSCRIPTIONS: &str = "realtime_subscriptions";
pub const CACHE_HITS: &str = "cache_hits_total";
pub const CACHE_MISSES: &str = "cache_misses_total";
pub const CACHE_REDIS_ERRORS: &str = "cache_redis_errors_total";
pub const DB_POOL: &str = "db_pool_connections";
pub const PROCESS_MEMORY: &str = "process_resident_memory_bytes";
pub const PROCESS_CPU: &str = "process_cpu_seconds_total";
/// Emitted by the rate limiter, `{scope}`.
pub const RATE_LIMITED: &str = "rate_limited_requests_total";
/// Emitted by the rate limiter when Redis is unreachable and it limits in process.
pub const RATE_LIMITER_FALLBACKS: &str = "rate_limiter_fallbacks_total";
/// Emitted by outgoing webhook delivery, `{outcome}`.
pub const WEBHOOK_DELIVERIES: &str = "webhook_deliveries_total";

/// Request latency buckets (seconds): from a cached read (a few ms) to the request timeout.
pub const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Label values the other parts emit, registered at zero so dashboards and alerts see the
/// series before the first event (Prometheus shows nothing for a series never written).
const RATE_LIMIT_SCOPES: [crate::rate_limit::Scope; 3] = [
    crate::rate_limit::Scope::Tenant,
    crate::rate_limit::Scope::AuthIp,
    crate::rate_limit::Scope::AuthAccount,
];
/// The outcomes `services::webhooks::deliver` records.
const WEBHOOK_OUTCOMES: &[&str] = &["delivered", "retrying", "failed"];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder on first call and returns its handle. Idempotent: tests
/// build many apps in one process, and every one of them records into the same recorder.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS)
            .expect("the bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(error) = metrics::set_global_recorder(recorder) {
            // Another recorder owns the facade (an embedding program): ours stays empty, and
            // `/metrics` still answers.
            tracing::warn!(%error, "a metrics recorder was already installed");
        }
        describe();
        handle
    })
}

/// HELP lines for every metric, and the zero series of counters other parts emit.
fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
    describe_gauge!(
        JOBS,
        "Jobs by kind and state (queued, scheduled, running, dead), read from the database at scrape"
    );
    describe_counter!(JOB_RUNS, "Job attempts finished, by kind");
    describe_counter!(
        JOB_FAILURES,
        "Job attempts that failed (to be retried or dead), by kind"
    );
    describe_gauge!(
        REALTIME_CONNECTIONS,
        "Open WebSocket and SSE connections on this instance"
    );
    describe_gauge!(
        REALTIME_SUBSCRIPTIONS,
        "Channel subscriptions of the open realtime connections"
    );
    describe_counter!(CACHE_HITS, "Response-cache lookups answered from the cache");
    describe_counter!(
        CACHE_MISSES,
        "Response-cache lookups that went to the database"
    );
    describe_counter!(
        CACHE_REDIS_ERRORS,
        "Redis cache operations that failed or timed out"
    );
    describe_gauge!(
        DB_POOL,
        "Database connections open, by state (in_use, idle)"
    );
    describe_gauge!(
        PROCESS_MEMORY,
        Unit::Bytes,
        "Resident memory of this process"
    );
    describe_gauge!(
        PROCESS_CPU,
        Unit::Seconds,
        "CPU time (user and system) this process has used"
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests answered 429 by the rate limiter, by scope"
    );
    describe_counter!(
        RATE_LIMITER_FALLBACKS,
        "Rate-limit checks made in process because Redis was unreachable"
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Outgoing webhook delivery attempts, by outcome"
    );
    for scope in RATE_LIMIT_SCOPES {
        metrics::counter!(RATE_LIMITED, "scope" => scope.label()).absolute(0);
    }
    metrics::counter!(RATE_LIMITER_FALLBACKS).absolute(0);
    for outcome in WEBHOOK_OUTCOMES {
        metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => *outcome).absolute(0);
    }
    for name in [CACHE_HITS, CACHE_MISSES, CACHE_REDIS_ERRORS] {
        metrics::counter!(name).absolute(0);
    }
    metrics::gauge!(REALTIME_CONNECTIONS).increment(0.0);
    metrics::gauge!(REALTIME_SUBSCRIPTIONS).increment(0.0);
}

/// `/metrics`: the scrape-time gauges from `db` and this process, then every metric.
pub async fn render(db: &Db) -> String {
    let handle = install();
    let jobs = scrape::job_counts(db).await;
    scrape::set_and_render(handle, jobs, db.pool_connections(), process::sample())
}

/// The key figures of `/metrics` (`summary::KEY_METRICS`) for the admin's health page: the
/// process and pool gauges are sampled as a scrape would, but not the job gauges, whose
/// all-tenant count query none of these figures needs.
pub fn key_figures(db: &Db) -> std::collections::BTreeMap<String, f64> {
    let text = scrape::set_and_render(install(), None, db.pool_connections(), process::sample());
    summary::key_figures(&text, summary::KEY_METRICS)
}

/// One HTTP request answered.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let (method, route) = (method.to_string(), route.to_string());
    metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// One job attempt finished.
pub fn job_ran(kind: &str, succeeded: bool) {
    metrics::counter!(JOB_RUNS, "kind" => kind.to_string()).increment(1);
    if !succeeded {
        metrics::counter!(JOB_FAILURES, "kind" => kind.to_string()).increment(1);
    }
}

/// One response-cache lookup.
pub fn cache_lookup(hit: bool) {
    metrics::counter!(if hit { CACHE_HITS } else { CACHE_MISSES }).increment(1);
}

pub fn cache_redis_error() {
    metrics::counter!(CACHE_REDIS_ERRORS).increment(1);
}

/// Realtime connections and subscriptions opened (positive) or closed (negative).
pub fn realtime_changed(connections: f64, subscriptions: f64) {
    if connections != 0.0 {
        metrics::gauge!(REALTIME_CONNECTIONS).increment(connections);
    }
    if subscriptions != 0.0 {
        metrics::gauge!(REALTIME_SUBSCRIPTIONS).increment(subscriptions);
    }
}

/// Histogram samples are kept until drained; a scrape drains them, and this does when nobody
/// scrapes, so memory stays bounded.
pub fn spawn_upkeep(stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    let handle = install();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = tick.tick() => handle.run_upkeep(),
                () = stop.cancelled() => return,
            }
        }
    })
}

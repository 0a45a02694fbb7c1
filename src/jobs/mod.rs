//! Durable background jobs. A job row is written in the same transaction as the change that
//! causes it (`enqueue`), so a committed change always has its job and a rolled-back one never
//! does. Workers claim due jobs with a lease, renew it while they run, and record the outcome;
//! a job whose worker died is claimed again once its lease runs out. Jobs carry ids and small
//! arguments, and re-read what they need when they run.

pub mod attachments;
mod backoff;
pub mod backup;
pub mod billing;
pub mod email;
pub mod identity;
pub mod runner;
pub mod search;
pub mod transfer;
pub mod webhooks;
pub mod worker;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;
use tracing::Instrument;

use crate::clock::now_ms;
use crate::db::jobs::{JobRow, NewJob};
use crate::db::{self, Db};
use crate::domain::job::JobKind;
use crate::ids::new_id;
use crate::trace::TraceId;

pub use crate::config::QueueSettings;
pub use backoff::backoff_ms;

/// A claimed job, ready to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub args: Value,
    /// 1 on the first run.
    pub attempt: i64,
    pub max_attempts: i64,
    /// The queue's "now" for this run: the wall clock for workers, `run_due`'s `as_of` for
    /// tests and benchmarks, so a handler that schedules (webhook retries) follows that clock.
    pub as_of: i64,
    /// The trace of the request or job that enqueued it; its span carries it.
    pub trace_id: Option<TraceId>,
}

impl From<JobRow> for Job {
    fn from(row: JobRow) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            kind: row.kind,
            args: serde_json::from_str(&row.args).unwrap_or(Value::Null),
            attempt: row.attempts,
            max_attempts: row.max_attempts,
            as_of: now_ms(),
            trace_id: row.trace_id.as_deref().and_then(TraceId::from_stored),
        }
    }
}

/// Why a job did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (a provider was down, a timeout).
    #[error("{0}")]
    Retry(String),
    /// Will never succeed; bury it now.
    #[error("{0}")]
    Fatal(String),
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        Self::Retry(format!("database: {e}"))
    }
}

pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// Runs jobs by kind. Production code uses `runner::KindRunner`; tests may supply their own.
pub trait Runner: Send + Sync + 'static {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a>;
}

/// What to enqueue.
#[derive(Debug, Clone)]
pub struct NewJobSpec<'a> {
    pub tenant_id: &'a str,
    pub kind: &'static str,
    pub args: Value,
    /// The same cause enqueues one job: a second insert with this key is ignored.
    pub dedupe_key: Option<String>,
    /// Run no earlier than this (epoch ms); now when `None`.
    pub run_at: Option<i64>,
    pub max_attempts: i64,
}

impl<'a> NewJobSpec<'a> {
    /// A job of kind `J` with `job` as its arguments.
    pub fn of<J: JobKind>(tenant_id: &'a str, job: &J) -> Self {
        let args = serde_json::to_value(job).expect("job arguments serialise to JSON");
        Self::new(tenant_id, J::NAME, args)
    }

    pub fn new(tenant_id: &'a str, kind: &'static str, args: Value) -> Self {
        Self {
            tenant_id,
            kind,
            args,
            dedupe_key: None,
            run_at: None,
            max_attempts: 8,
        }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn at(mut self, run_at: i64) -> Self {
        self.run_at = Some(run_at);
        self
    }
}

/// Writes a job on `conn` — the transaction of the change that causes it. Returns false when a
/// job with the same dedupe key already exists. Call `Queue::wake` after committing. The job
/// carries the current trace (the request's, or the running job's), read from the task-local
/// so no use case has to pass it along.
pub async fn enqueue(conn: &mut sqlx::AnyConnection, spec: NewJobSpec<'_>) -> sqlx::Result<bool> {
    let now = now_ms();
    let args = spec.args.to_string();
    let trace = crate::trace::current();
    db::jobs::insert(
        &mut *conn,
        &NewJob {
            id: &new_id(),
            tenant_id: spec.tenant_id,
            kind: spec.kind,
            args: &args,
            dedupe_key: spec.dedupe_key.as_deref(),
            run_at: spec.run_at.unwrap_or(now),
            max_attempts: spec.max_attempts,
            now,
            trace_id: trace.as_ref().map(TraceId::as_str),
        },
    )
    .await
}

/// Outcome counters since start, for metrics.
#[derive(Debug, Default, Serialize)]
pub struct Outcomes {
    pub succeeded: AtomicU64,
    pub retried: AtomicU64,
    pub dead: AtomicU64,
    pub released: AtomicU64,
}

impl Outcomes {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The queue as the rest of the application sees it: a database, a wake-up signal for idle
/// workers in this process, and outcome counters.
#[derive(Clone, Debug)]
pub struct Queue {
    pub db: Db,
    pub settings: QueueSettings,
    pub outcomes: Arc<Outcomes>,
    /// Shared with `services::Ctx`, whose commits ring it.
    waiting: Arc<Notify>,
}

impl Queue {
    pub fn new(db: Db, settings: QueueSettings, waiting: Arc<Notify>) -> Self {
        Self {
            db,
            settings,
            outcomes: Arc::new(Outcomes::default()),
            waiting,
        }
    }

    /// Tells an idle worker in this process that work has arrived; a worker that claims a job
    /// wakes the next, so a burst spreads over every idle worker.
    pub fn wake(&self) {
        self.waiting.notify_one();
    }

    pub(crate) fn wake_signal(&self) -> &Notify {
        &self.waiting
    }

    /// Runs, one after another on this task, every job due at `as_of` (an injectable "now"):
    /// the hook tests and benchmarks use instead of waiting. Returns how many ran.
    pub async fn run_due(&self, runner: &dyn Runner, as_of: i64) -> sqlx::Result<usize> {
        let worker_id = format!("run-due-{}", new_id());
        let mut ran = 0;
        loop {
            let lease_until =
                as_of + i64::try_from(self.settings.lease.as_millis()).unwrap_or(i64::MAX / 2);
            let claimed = db::jobs::claim(&self.db, &worker_id, as_of, lease_until, 1).await?;
            let Some(row) = claimed.into_iter().next() else {
                return Ok(ran);
            };
            let job = Job {
                as_of,
                ..Job::from(row)
            };
            let span = worker::job_span(&job);
            let result = crate::trace::scope(job.trace_id.clone(), runner.run(&job))
                .instrument(span)
                .await;
            worker::record_outcome(self, &worker_id, &job, result, as_of).await?;
            ran += 1;
        }
    }
}

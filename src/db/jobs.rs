//! The job table. Claiming is the one place the engines differ: Postgres skips rows other
//! workers have locked; SQLite has a single writer, so the claiming statement is atomic as is.

use crate::domain::job_state::JobState;
use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

use super::Db;
use crate::config::Engine;

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct JobRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub args: String,
    pub state: JobState,
    pub dedupe_key: Option<String>,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub lease_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    /// The trace of the request or job that enqueued it (`crate::trace`).
    pub trace_id: Option<String>,
}

const COLUMNS: &str = "id, tenant_id, kind, args, state, dedupe_key, run_at, attempts, max_attempts, last_error, locked_by, lease_until, created_at, updated_at, finished_at, trace_id";

pub struct NewJob<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub kind: &'a str,
    pub args: &'a str,
    pub dedupe_key: Option<&'a str>,
    pub run_at: i64,
    pub max_attempts: i64,
    pub now: i64,
    pub trace_id: Option<&'a str>,
}

/// Inserts a job unless one with the same dedupe key exists; returns whether it was inserted.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    j: &NewJob<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO jobs (id, tenant_id, kind, args, state, dedupe_key, run_at, attempts, max_attempts, created_at, updated_at, trace_id)
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, 0, $7, $8, $8, $9)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(j.id)
    .bind(j.tenant_id)
    .bind(j.kind)
    .bind(j.args)
    .bind(j.dedupe_key)
    .bind(j.run_at)
    .bind(j.max_attempts)
    .bind(j.now)
    .bind(j.trace_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Claims up to `limit` jobs that are due, or whose lease has run out (their worker died) with
/// attempts left, for `worker` until `lease_until`. Each claim counts as an attempt.
pub async fn claim(
    db: &Db,
    worker: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> sqlx::Result<Vec<JobRow>> {
    let skip_locked = match db.engine() {
        Engine::Postgres => "FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    // Two statements, each an index range read that stops at `limit` (`jobs_lease`,
    // `jobs_claim`): one query with `OR` between them made both engines read and sort every
    // due job on each claim, 197 ms with 98,000 queued. Expired leases go first: a job whose
    // worker died has waited longest.
    let batches = [
        (
            "state = 'running' AND lease_until < $3 AND attempts < max_attempts",
            "lease_until",
        ),
        ("state = 'queued' AND run_at <= $3", "run_at, id"),
    ];
    let mut claimed: Vec<JobRow> = Vec::new();
    for (which, order) in batches {
        let room = limit - claimed.len() as i64;
        if room <= 0 {
            break;
        }
        let sql = format!(
            "UPDATE jobs SET state = 'running', locked_by = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
             WHERE id IN (SELECT id FROM jobs WHERE {which} ORDER BY {order} LIMIT $4 {skip_locked})
             RETURNING {COLUMNS}"
        );
        let rows: Vec<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .bind(room)
            .fetch_all(db.write())
            .await?;
        claimed.extend(rows);
    }
    Ok(claimed)
}

/// Extends a running job's lease; false when this worker no longer holds it.
pub async fn renew(
    db: &Db,
    id: &str,
    worker: &str,
    lease_until: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND locked_by = $4 AND state = 'running'",
    )
    .bind(lease_until)
    .bind(now)
    .bind(id)
    .bind(worker)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn succeed(db: &Db, id: &str, worker: &str, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'succeeded', finished_at = $1, updated_at = $1, locked_by = NULL, lease_until = NULL, last_error = NULL
         WHERE id = $2 AND locked_by = $3 AND state = 'running'",
    )
    .bind(now)
    .bind(id)
    .bind(worker)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Puts a failed job back in the queue to run again at `run_at`.
pub async fn retry_later(
    db: &Db,
    id: &str,
    worker: &str,
    error: &str,
    run_at: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $1, last_error = $2, updated_at = $3, locked_by = NULL, lease_until = NULL
         WHERE id = $4 AND locked_by = $5 AND state = 'running'",
    )
    .bind(run_at)
    .bind(error)
    .bind(now)
    .bind(id)
    .bind(worker)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Gives up on a job: it stays as dead, with its last error, until someone retries it.
pub async fn bury(db: &Db, id: &str, worker: &str, error: &str, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'dead', last_error = $1, finished_at = $2, updated_at = $2, locked_by = NULL, lease_until = NULL
         WHERE id = $3 AND locked_by = $4 AND state = 'running'",
    )
    .bind(error)
    .bind(now)
    .bind(id)
    .bind(worker)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Returns an unfinished job to the queue without counting the attempt (graceful shutdown).
pub async fn release(db: &Db, id: &str, worker: &str, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = attempts - 1, updated_at = $1, locked_by = NULL, lease_until = NULL
         WHERE id = $2 AND locked_by = $3 AND state = 'running'",
    )
    .bind(now)
    .bind(id)
    .bind(worker)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Cancels a job that has not run yet; false when it is not queued.
pub async fn cancel<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
    id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $1, updated_at = $1
         WHERE id = $2 AND state = 'queued' AND ($3 IS NULL OR tenant_id = $3)",
    )
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Cancels the queued job with this dedupe key, if any (e.g. a reminder whose due date moved).
pub async fn cancel_by_dedupe_key<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $1, updated_at = $1 WHERE dedupe_key = $2 AND state = 'queued'",
    )
    .bind(now)
    .bind(key)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Queues again the job with this dedupe key unless it is already waiting to run. A running
/// job loses its lock, so its outcome is not recorded and it runs again on the newest text.
pub async fn requeue_by_dedupe_key<'c>(
    ex: impl Executor<'c, Database = Any>,
    dedupe_key: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL,
                last_error = NULL, locked_by = NULL, lease_until = NULL
         WHERE dedupe_key = $2 AND state <> 'queued'",
    )
    .bind(now)
    .bind(dedupe_key)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Queues a dead or cancelled job again, with a fresh set of attempts.
pub async fn retry<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
    id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL
         WHERE id = $2 AND state IN ('dead', 'cancelled') AND ($3 IS NULL OR tenant_id = $3)",
    )
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Queues every dead job again; returns how many.
pub async fn retry_all_dead<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
    now: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL
         WHERE state = 'dead' AND ($2 IS NULL OR tenant_id = $2)",
    )
    .bind(now)
    .bind(tenant_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// Which end of the id order a job listing starts from (ids grow with creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOrder {
    /// The API's pages: oldest first, so a cursor walk sees jobs added while it walks.
    OldestFirst,
    /// What an operator at a terminal wants to see: the latest jobs.
    NewestFirst,
}

/// Jobs in id order after `after_id` (before it, newest first). `state` filters by stored
/// state; `scheduled` means queued with `run_at` in the future.
#[allow(clippy::too_many_arguments)]
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
    state: Option<JobState>,
    kind: Option<&str>,
    scheduled_after: Option<i64>,
    after_id: Option<&str>,
    order: JobOrder,
    limit: i64,
) -> sqlx::Result<Vec<JobRow>> {
    let (position, direction) = match order {
        JobOrder::OldestFirst => ("id > $5", "ASC"),
        JobOrder::NewestFirst => ("($5 = '' OR id < $5)", "DESC"),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs
         WHERE ($1 IS NULL OR tenant_id = $1) AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR kind = $3)
           AND ($4 IS NULL OR run_at > $4) AND {position}
         ORDER BY id {direction} LIMIT $6"
    )))
    .bind(tenant_id)
    .bind(state)
    .bind(kind)
    .bind(scheduled_after)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// How many jobs are in each state as operators see them (`scheduled`: queued with `run_at`
/// after `now`, e.g. a reminder due next week), for one tenant or all.
pub async fn counts<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
    now: i64,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT CASE WHEN state = 'queued' AND run_at > $2 THEN 'scheduled' ELSE state END, COUNT(*)
         FROM jobs WHERE ($1 IS NULL OR tenant_id = $1) GROUP BY 1 ORDER BY 1",
    )
    .bind(tenant_id)
    .bind(now)
    .fetch_all(ex)
    .await
}

/// Unfinished and dead jobs by kind and state as operators see them (`scheduled`: queued with
/// `run_at` after `now`), for one tenant or all, in one grouped query: what the `jobs` gauges
/// show at scrape time and the admin's jobs page.
pub async fn gauge_counts<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: Option<&str>,
    now: i64,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT kind, CASE WHEN state = 'queued' AND run_at > $2 THEN 'scheduled' ELSE state END, COUNT(*)
         FROM jobs WHERE state IN ('queued', 'running', 'dead') AND ($1 IS NULL OR tenant_id = $1)
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(tenant_id)
    .bind(now)
    .fetch_all(ex)
    .await
}

/// Brings back a cancelled job with this dedupe key (a due date moved away and back), to run
/// at `run_at`; false when there is none.
pub async fn requeue_cancelled<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    run_at: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $2, finished_at = NULL
         WHERE dedupe_key = $3 AND state = 'cancelled'",
    )
    .bind(run_at)
    .bind(now)
    .bind(key)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Buries running jobs whose lease ran out with no attempts left: their workers died on every
/// try (a crash or an abort the worker could not record), so claiming them again would loop.
pub async fn bury_abandoned<'c>(
    ex: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'dead', last_error = 'its worker stopped before finishing, on every attempt',
                finished_at = $1, updated_at = $1, locked_by = NULL, lease_until = NULL
         WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts",
    )
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

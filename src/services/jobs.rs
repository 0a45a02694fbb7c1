//! Job administration for operators (CLI, all tenants) and tenants (secret-key API, their own
//! jobs): list, retry, cancel, queue depth.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::clock::{now_ms, to_rfc3339};
pub use crate::db::jobs::JobOrder;
use crate::db::jobs::JobRow;
use crate::db::{self};
use crate::domain::job_state::JobStatus;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::page;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    /// queued, scheduled (queued with a future `run_at`), running, succeeded, dead or cancelled.
    pub state: JobStatus,
    #[schema(value_type = Object)]
    pub args: Value,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub run_at: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The W3C trace id of the request (or job) that enqueued it, to find its log lines.
    pub trace_id: Option<String>,
}

impl JobView {
    fn from_row(row: JobRow, now: i64) -> Self {
        let state = JobStatus::of(row.state, row.run_at, now);
        Self {
            id: row.id,
            kind: row.kind,
            state,
            args: serde_json::from_str(&row.args).unwrap_or(Value::Null),
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            last_error: row.last_error,
            run_at: to_rfc3339(row.run_at),
            created_at: to_rfc3339(row.created_at),
            finished_at: row.finished_at.map(to_rfc3339),
            trace_id: row.trace_id,
        }
    }
}

/// A page of jobs. `tenant_id` limits it to one tenant.
pub async fn list(
    cx: &Ctx,
    tenant_id: Option<&str>,
    state: Option<&str>,
    kind: Option<&str>,
    after: Option<&str>,
    order: JobOrder,
    limit: u32,
) -> AppResult<(Vec<JobView>, Option<String>)> {
    let state = state.map(|s| JobStatus::parse("state", s)).transpose()?;
    let now = now_ms();
    // Scheduled and queued jobs are both stored as queued, told apart by run_at.
    let stored = state.map(JobStatus::stored);
    let scheduled_after = (state == Some(JobStatus::Scheduled)).then_some(now);
    let rows = db::jobs::list_page(
        cx.db.read(),
        tenant_id,
        stored,
        kind,
        scheduled_after,
        after,
        order,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    let mut items: Vec<JobView> = rows
        .into_iter()
        .map(|r| JobView::from_row(r, now))
        .collect();
    if state == Some(JobStatus::Queued) {
        items.retain(|j| j.state == JobStatus::Queued);
    }
    Ok((items, next))
}

pub async fn retry(cx: &Ctx, tenant_id: Option<&str>, id: &str) -> AppResult<()> {
    if db::jobs::retry(cx.db.write(), tenant_id, id, now_ms()).await? {
        Ok(())
    } else {
        Err(not_retryable(cx, tenant_id, id).await)
    }
}

pub async fn retry_all_dead(cx: &Ctx, tenant_id: Option<&str>) -> AppResult<u64> {
    Ok(db::jobs::retry_all_dead(cx.db.write(), tenant_id, now_ms()).await?)
}

pub async fn cancel(cx: &Ctx, tenant_id: Option<&str>, id: &str) -> AppResult<()> {
    if db::jobs::cancel(cx.db.write(), tenant_id, id, now_ms()).await? {
        return Ok(());
    }
    match visible(cx, tenant_id, id).await {
        Ok(_) => Err(AppError::Conflict {
            code: "job_not_queued",
            message: "only a job that has not started can be cancelled".into(),
        }),
        Err(e) => Err(e),
    }
}

/// Jobs by state as operators see them (scheduled apart from queued), for one tenant or all.
pub async fn stats(cx: &Ctx, tenant_id: Option<&str>) -> AppResult<Vec<(String, i64)>> {
    Ok(db::jobs::counts(cx.db.read(), tenant_id, now_ms()).await?)
}

/// Unfinished and dead jobs by kind, then state (`scheduled` apart from `queued`).
pub async fn stats_by_kind(
    cx: &Ctx,
    tenant_id: Option<&str>,
) -> AppResult<BTreeMap<String, BTreeMap<String, i64>>> {
    let mut by_kind = BTreeMap::<_, BTreeMap<_, _>>::new();
    for (kind, state, n) in db::jobs::gauge_counts(cx.db.read(), tenant_id, now_ms()).await? {
        by_kind.entry(kind).or_default().insert(state, n);
    }
    Ok(by_kind)
}

async fn visible(cx: &Ctx, tenant_id: Option<&str>, id: &str) -> AppResult<JobRow> {
    db::jobs::find(cx.db.read(), id)
        .await?
        .filter(|j| tenant_id.is_none_or(|t| j.tenant_id == t))
        .ok_or(AppError::NotFound("job"))
}

async fn not_retryable(cx: &Ctx, tenant_id: Option<&str>, id: &str) -> AppError {
    match visible(cx, tenant_id, id).await {
        Ok(_) => AppError::Conflict {
            code: "job_not_retryable",
            message: "only a dead or cancelled job can be retried".into(),
        },
        Err(e) => e,
    }
}

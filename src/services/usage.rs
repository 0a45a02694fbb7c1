//! Usage: API calls counted per workspace without a database write per request, and what a
//! workspace uses of each limited resource.
//!
//! **Which requests count.** Every HTTP request that resolves the caller's access to a
//! workspace (`access::workspace_access`, which project, task, comment and attachment access
//! go through too) counts once toward that workspace, whatever its outcome afterwards. The
//! HTTP layer opens a per-request [`metered`] scope; access checks made outside one — jobs,
//! the CLI, realtime re-checks on a WebSocket — count nothing. Reading a workspace's
//! subscription and usage counts nothing either and is never blocked, so a workspace over its
//! allowance can still see why.
//!
//! **How.** A counted call adds one to an in-memory map keyed by (tenant, workspace, UTC day).
//! A task started by `App::serve` adds the map to `usage_daily` (upsert add) every
//! `KANRI_USAGE_FLUSH_SECS` and once more at shutdown, so counts survive a restart within one
//! flush interval (a crash loses at most one interval). A failed flush puts its counts back.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::clock::now_ms;
use crate::db::{self, Db};
use crate::domain::billing::{Resource, check_quota, day_of, parse_day_range, period_at};
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::WorkspaceAccess;
use crate::services::plans::Plan;
use crate::services::subscriptions::Reader;

type Key = (String, String, String);

/// A workspace plan's monthly API-call limit (`None`: unlimited) and its subscription's
/// period (start, end); `None` without a subscription.
type Allowance = Option<(Option<i64>, i64, Option<i64>)>;

/// How long a workspace's allowance is trusted before it is read again. Every counted request
/// needs it and plans change rarely; a change made through this process is seen at once
/// ([`ApiCalls::forget_allowances`] at its commit), other instances see it within this, as
/// with the plan's rate limit (`rate_limit::tenant::PLAN_LIMIT_TTL`).
pub const ALLOWANCE_TTL: Duration = Duration::from_secs(2);

/// Workspaces' allowances, by (tenant, workspace).
#[derive(Debug)]
struct Allowances(moka::future::Cache<(String, String), Allowance>);

impl Default for Allowances {
    fn default() -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ALLOWANCE_TTL)
                .build(),
        )
    }
}

/// API calls counted since the last flush, by (tenant, workspace, day).
#[derive(Debug, Default)]
pub struct ApiCalls {
    pending: Mutex<HashMap<Key, i64>>,
    allowances: Allowances,
}

impl ApiCalls {
    /// Drops every remembered allowance: a plan or subscription changed in this process.
    pub fn forget_allowances(&self) {
        self.allowances.0.invalidate_all();
    }

    /// The workspace's allowance, remembered for [`ALLOWANCE_TTL`].
    async fn allowance(
        &self,
        db: &Db,
        tenant_id: &str,
        workspace_id: &str,
    ) -> sqlx::Result<Allowance> {
        let key = (tenant_id.to_string(), workspace_id.to_string());
        if let Some(known) = self.allowances.0.get(&key).await {
            return Ok(known);
        }
        let read = db::subscriptions::api_allowance(db.read(), tenant_id, workspace_id).await?;
        self.allowances.0.insert(key, read).await;
        Ok(read)
    }

    pub fn record(&self, tenant_id: &str, workspace_id: &str, now: i64) {
        let key = (tenant_id.to_string(), workspace_id.to_string(), day_of(now));
        *self.lock().entry(key).or_default() += 1;
    }

    /// Calls counted here and not yet flushed for the workspace, on days from `from_day` on.
    pub fn pending(&self, tenant_id: &str, workspace_id: &str, from_day: &str) -> i64 {
        self.lock()
            .iter()
            .filter(|((t, w, d), _)| t == tenant_id && w == workspace_id && d.as_str() >= from_day)
            .map(|(_, n)| *n)
            .sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, i64>> {
        self.pending.lock().expect("api call counter lock poisoned")
    }

    /// Adds what has been counted since the last flush to the daily rows, in one transaction.
    /// On failure the counts are put back for the next flush.
    pub async fn flush(&self, db: &Db) -> sqlx::Result<()> {
        let batch = std::mem::take(&mut *self.lock());
        if batch.is_empty() {
            return Ok(());
        }
        let result = async {
            let mut tx = db.begin().await?;
            for ((tenant, workspace, day), calls) in &batch {
                db::usage::add_api_calls(&mut *tx, tenant, workspace, day, *calls).await?;
            }
            tx.commit().await
        }
        .await;
        if result.is_err() {
            let mut pending = self.lock();
            for (key, calls) in batch {
                *pending.entry(key).or_default() += calls;
            }
        }
        result
    }

    /// Flushes every `every` until `stop` is cancelled, then once more.
    pub fn spawn_flusher(
        self: Arc<Self>,
        db: Db,
        every: Duration,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        super::periodic_flush::spawn("API usage", every, stop, move || {
            let (batch, db) = (self.clone(), db.clone());
            async move { batch.flush(&db).await }
        })
    }
}

/// The workspaces one request has been counted toward already.
#[derive(Debug, Default)]
struct Meter {
    counted: RefCell<Vec<String>>,
}

tokio::task_local! {
    static METER: Meter;
}

/// Runs one request's handling in a metering scope: the first workspace access resolved in it
/// counts as an API call of that workspace (later ones for the same workspace do not).
pub async fn metered<F: Future>(request: F) -> F::Output {
    METER.scope(Meter::default(), request).await
}

/// Counts this request toward the workspace, unless it was counted already or no request is
/// being served; refuses it when the workspace's plan allows no more API calls this period.
pub(crate) async fn count_api_call(cx: &Ctx, access: &WorkspaceAccess) -> AppResult<()> {
    let first = METER
        .try_with(|m| {
            let mut counted = m.counted.borrow_mut();
            if counted.contains(&access.workspace_id) {
                false
            } else {
                counted.push(access.workspace_id.clone());
                true
            }
        })
        .unwrap_or(false);
    if !first {
        return Ok(());
    }
    let now = now_ms();
    let (limit, used) =
        api_calls_this_period(cx, &access.tenant_id, &access.workspace_id, now, true).await?;
    check_quota(Resource::ApiCalls, limit, used, 1)?;
    cx.api_calls
        .record(&access.tenant_id, &access.workspace_id, now);
    Ok(())
}

/// The plan's monthly allowance and the calls used in the current period (flushed rows plus
/// this process's unflushed counts). `skip_if_unlimited` skips the count when there is no limit.
async fn api_calls_this_period(
    cx: &Ctx,
    tenant_id: &str,
    workspace_id: &str,
    now: i64,
    skip_if_unlimited: bool,
) -> AppResult<(Option<i64>, i64)> {
    let Some((limit, period_start, period_end)) = cx
        .api_calls
        .allowance(&cx.db, tenant_id, workspace_id)
        .await?
    else {
        return Ok((None, 0));
    };
    if limit.is_none() && skip_if_unlimited {
        return Ok((None, 0));
    }
    let (start, _) = period_at(now, period_start, period_end);
    let (from, to) = (day_of(start), day_of(now));
    let stored =
        db::usage::api_calls_between(cx.db.read(), tenant_id, workspace_id, &from, &to).await?;
    Ok((
        limit,
        stored + cx.api_calls.pending(tenant_id, workspace_id, &from),
    ))
}

/// One resource's usage against its limit (`null` = unlimited).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct ResourceUsage {
    pub used: i64,
    pub limit: Option<i64>,
}

/// What a workspace uses of each resource its plan limits.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Usage {
    pub projects: ResourceUsage,
    pub members: ResourceUsage,
    pub storage_bytes: ResourceUsage,
    /// API calls in the current period (see `period_start`/`period_end`).
    pub api_calls: ResourceUsage,
    pub period_start: String,
    pub period_end: String,
}

/// A workspace's usage, for a member or the tenant's server.
pub async fn usage(cx: &Ctx, reader: &Reader, workspace_id: &str) -> AppResult<Usage> {
    let tenant_id = reader.tenant_of(cx, workspace_id).await?;
    let (tenant, ws) = (tenant_id.as_str(), workspace_id);
    let now = now_ms();
    let sub = crate::services::subscriptions::load(cx, tenant, ws).await?;
    let limits = Plan::limits_of(&sub.plan);
    let read = cx.db.read();
    let projects = db::usage::projects(read, tenant, ws).await?;
    let members = db::usage::members(read, tenant, ws).await?;
    let storage = db::attachments::storage_bytes(read, tenant, ws).await?;
    let (_, calls) = api_calls_this_period(cx, tenant, ws, now, false).await?;
    let (start, end) = period_at(
        now,
        sub.row.current_period_start,
        sub.row.current_period_end,
    );
    let meter = |used, resource| ResourceUsage {
        used,
        limit: limits.of(resource),
    };
    Ok(Usage {
        projects: meter(projects, Resource::Projects),
        members: meter(members, Resource::Members),
        storage_bytes: meter(storage, Resource::StorageBytes),
        api_calls: meter(calls, Resource::ApiCalls),
        period_start: crate::clock::to_rfc3339(start),
        period_end: crate::clock::to_rfc3339(end),
    })
}

/// One day's recorded usage.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UsageRecord {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub api_calls: i64,
}

/// The daily records from `from` to `to` (YYYY-MM-DD, both included, at most 366 days;
/// default the last 30 days). Days without calls are left out; today's row grows until the
/// next flush.
pub async fn records(
    cx: &Ctx,
    reader: &Reader,
    workspace_id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<Vec<UsageRecord>> {
    let (from, to) = parse_day_range(from, to, &day_of(now_ms())).map_err(AppError::Validation)?;
    let tenant_id = reader.tenant_of(cx, workspace_id).await?;
    let rows = db::usage::daily(cx.db.read(), &tenant_id, workspace_id, &from, &to).await?;
    Ok(rows
        .into_iter()
        .map(|r| UsageRecord {
            date: r.day,
            api_calls: r.api_calls,
        })
        .collect())
}

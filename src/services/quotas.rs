//! Quotas: a create that would take a workspace over its plan's limit is refused with
//! `403 quota_exceeded` and `{resource, limit, used}`.
//!
//! Exact under concurrency: the check runs inside the create's own write transaction, after
//! locking the workspace's subscription row (`db::subscriptions::lock`), so two creates racing
//! for the last slot are serialised and the second counts the first. A downgrade below usage
//! keeps the data; only growth is refused (`domain::billing::check_quota`).

use crate::db;
use crate::domain::billing::{Resource, check_quota};
use crate::error::AppResult;
use crate::services::Ctx;
use crate::services::plans::Plan;
use crate::services::unit_of_work::UnitOfWork;

/// Checks, in `tx`, that `adding` more of `resource` fits the workspace's plan, holding the
/// workspace's lock until `tx` ends. A workspace without a subscription is unlimited.
pub async fn reserve(
    tx: &mut UnitOfWork,
    tenant_id: &str,
    workspace_id: &str,
    resource: Resource,
    adding: i64,
) -> AppResult<()> {
    let engine = tx.engine();
    let Some(sub) = db::subscriptions::lock(&mut **tx, engine, tenant_id, workspace_id).await?
    else {
        return Ok(());
    };
    let Some(plan) = db::plans::find(&mut **tx, tenant_id, &sub.plan_id).await? else {
        return Ok(());
    };
    let limit = Plan::limits_of(&plan).of(resource);
    if limit.is_none() {
        return Ok(());
    }
    let used = used(tx, tenant_id, workspace_id, resource).await?;
    check_quota(resource, limit, used, adding)?;
    Ok(())
}

/// A cheap early refusal before expensive work (receiving an upload's bytes): fails when the
/// workspace is already at its limit. The exact check is still [`reserve`], in the create.
pub async fn precheck(
    cx: &Ctx,
    tenant_id: &str,
    workspace_id: &str,
    resource: Resource,
) -> AppResult<()> {
    let read = cx.db.read();
    let Some(sub) = db::subscriptions::find(read, tenant_id, workspace_id).await? else {
        return Ok(());
    };
    let Some(plan) = db::plans::find(read, tenant_id, &sub.plan_id).await? else {
        return Ok(());
    };
    let limit = Plan::limits_of(&plan).of(resource);
    if limit.is_none() {
        return Ok(());
    }
    let mut conn = read.acquire().await?;
    let used = used(&mut conn, tenant_id, workspace_id, resource).await?;
    // At the limit, even a one-byte file cannot fit.
    check_quota(resource, limit, used, 1)?;
    Ok(())
}

async fn used(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    workspace_id: &str,
    resource: Resource,
) -> AppResult<i64> {
    Ok(match resource {
        Resource::Projects => db::usage::projects(&mut *conn, tenant_id, workspace_id).await?,
        Resource::Members => db::usage::members(&mut *conn, tenant_id, workspace_id).await?,
        Resource::StorageBytes => {
            db::attachments::storage_bytes(&mut *conn, tenant_id, workspace_id).await?
        }
        // API calls are not created in a transaction; `services::usage` checks them.
        Resource::ApiCalls => 0,
    })
}

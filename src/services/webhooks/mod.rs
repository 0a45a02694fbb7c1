//! Outgoing webhooks: a workspace's endpoints (managed by its owners and admins), the
//! deliveries its events become, and the delivery log.
//!
//! - `endpoints.rs`: create, read, update, delete, rotate the secret.
//! - `fan_out.rs`: called by the unit of work's commit, so every event of a subscribed kind
//!   becomes a delivery (and its job) in the same transaction as the change.
//! - `deliver.rs`: one attempt, run by the `webhook:deliver` job; retries on the configured
//!   schedule, disables an endpoint failing for 5 days.
//! - `log.rs`: the delivery log, a manual retry, a test message.

mod deliver;
mod endpoints;
mod fan_out;
mod log;

pub use deliver::{DISABLE_AFTER_MS, deliver};
pub use endpoints::*;
pub(crate) use fan_out::{Outgoing, fan_out};
pub use log::*;

use crate::db;
use crate::db::webhook_endpoints::EndpointRow;
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor, WorkspaceAccess};

/// Who manages webhooks: a member, whose role in the endpoint's workspace must allow it, or
/// the tenant's operator (the secret key or an admin session), who manages every workspace's.
#[derive(Debug, Clone, Copy)]
pub enum Manager<'a> {
    Member(&'a Actor),
    Operator { tenant_id: &'a str },
}

impl Manager<'_> {
    pub fn tenant_id(&self) -> &str {
        match self {
            Self::Member(actor) => &actor.tenant_id,
            Self::Operator { tenant_id } => tenant_id,
        }
    }

    /// The user the change is made by, for the activity log; none for the operator.
    pub fn actor_id(&self) -> Option<&str> {
        match self {
            Self::Member(actor) => Some(&actor.user_id),
            Self::Operator { .. } => None,
        }
    }
}

/// The endpoint `id`, if the manager may manage it: not found for another tenant's endpoint or
/// a workspace the member is not in, forbidden for a member without the right to change the
/// workspace (owners and admins have it).
async fn managed_endpoint(cx: &Ctx, manager: Manager<'_>, id: &str) -> AppResult<EndpointRow> {
    let row = db::webhook_endpoints::find(cx.db.read(), manager.tenant_id(), id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    if let Manager::Member(actor) = manager {
        let access = access::workspace_access(cx, actor, &row.workspace_id)
            .await
            .map_err(|e| e.not_found_as("webhook"))?;
        access.require(permission::WORKSPACE_UPDATE)?;
    }
    Ok(row)
}

/// The caller's standing in a workspace whose webhooks they want to manage.
async fn managing(cx: &Ctx, actor: &Actor, workspace_id: &str) -> AppResult<WorkspaceAccess> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::WORKSPACE_UPDATE)?;
    Ok(access)
}

//! What a commit carries out for its events: the jobs they imply (in the transaction) and the
//! cache scopes they touched (after it).

use sqlx::AnyConnection;

use super::UnitOfWork;
use crate::domain::event::{CacheScope, FollowUp};
use crate::error::AppResult;
use crate::jobs;
use crate::services::context::Ctx;

impl UnitOfWork {
    pub(super) async fn follow_up(&mut self, follow_up: FollowUp, event_id: i64) -> AppResult<()> {
        let tenant = self.tenant_id.as_str();
        let conn: &mut AnyConnection = &mut self.tx;
        match follow_up {
            FollowUp::Embed { task_id } => {
                jobs::search::enqueue_embed(conn, tenant, &task_id).await?
            }
            FollowUp::AssignmentEmail {
                task_id,
                assignee_id,
            } => {
                let spec = jobs::email::assignment_spec(tenant, &task_id, &assignee_id, event_id);
                jobs::enqueue(conn, spec).await?;
            }
            FollowUp::Reminder { task_id, from, to } => {
                let lead = self.cx.reminder_lead_ms;
                jobs::email::reschedule_reminder(conn, tenant, &task_id, from, to, lead).await?;
            }
            FollowUp::InvitationEmail { invitation_id } => {
                jobs::enqueue(conn, jobs::email::invitation_spec(tenant, &invitation_id)).await?;
            }
            FollowUp::PurgeFiles { cause } => {
                jobs::enqueue(conn, jobs::attachments::purge_spec(tenant, &cause)).await?;
            }
        }
        Ok(())
    }
}

/// Bumps each touched scope once: the tenant if any event touched it (it covers the rest),
/// otherwise every workspace and project touched.
pub(super) async fn invalidate(
    cx: &Ctx,
    tenant_id: &str,
    touched: impl Iterator<Item = CacheScope>,
) {
    let mut scopes: Vec<CacheScope> = Vec::new();
    for scope in touched {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.contains(&CacheScope::Tenant) {
        cx.cache.invalidate_tenant(tenant_id).await;
        return;
    }
    for scope in scopes {
        match scope {
            CacheScope::Tenant => {}
            CacheScope::Workspace(w) => cx.cache.invalidate_workspace(tenant_id, &w).await,
            CacheScope::Project(p) => cx.cache.invalidate_project(tenant_id, &p).await,
        }
    }
}

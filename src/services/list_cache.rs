//! Which cache entry a list lives under.
//!
//! The cache never decides who may see what: each function here checks the caller's access
//! against the database first — every permission the list's loader would check — and only then
//! names the entry. The entry's key holds the scopes the list depends on (so the writes that
//! change it invalidate it, see `cache::Scope`) and, where the result differs per caller, the
//! caller's *visibility class*: whoever may read every project shares one project list, anyone
//! else gets their own. The caller adds the request's own inputs (cursor, limit, filters) with
//! `Lookup::part`.

use crate::cache::{Lookup, PROJECT_LIST_TTL, SEARCH_TTL, Scope, TASK_LIST_TTL};
use crate::domain::permission;
use crate::error::AppResult;
use crate::services::Ctx;
use crate::services::access::{self, Actor};

/// A page (or all) of the workspace's projects the caller may see.
pub async fn project_list(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    namespace: &'static str,
) -> AppResult<Lookup> {
    let ws = access::workspace_access(cx, actor, workspace_id).await?;
    // The same rule `projects::list` applies.
    let viewer = (!ws.can(permission::PROJECTS_READ)).then_some(actor.user_id.as_str());
    Ok(Lookup::new(namespace, PROJECT_LIST_TTL)
        .scope(Scope::Tenant(&actor.tenant_id))
        .scope(Scope::Workspace {
            tenant: &actor.tenant_id,
            workspace: workspace_id,
        })
        .part(viewer))
}

/// A list of the project's tasks (everyone who may read them sees the same tasks), for a
/// caller who holds every permission in `required`.
pub async fn task_list(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    namespace: &'static str,
    required: &[&str],
) -> AppResult<Lookup> {
    let access = access::project_access(cx, actor, project_id).await?;
    for permission in required {
        access.require(permission)?;
    }
    Ok(project_scoped(
        Lookup::new(namespace, TASK_LIST_TTL),
        &actor.tenant_id,
        &access.workspace.workspace_id,
        project_id,
    ))
}

/// Search results over one project's tasks, for a caller who may read them (everyone who may
/// sees the same results). The caller adds the parsed query with `Lookup::part`.
pub async fn project_search(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    namespace: &'static str,
) -> AppResult<Lookup> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::TASKS_READ)?;
    Ok(project_scoped(
        Lookup::new(namespace, SEARCH_TTL),
        &actor.tenant_id,
        &access.workspace.workspace_id,
        project_id,
    ))
}

/// Adds the scopes of a result computed from one project's tasks (task lists, search results):
/// it is invalidated by any change to the project's tasks or comments, its workspace's
/// projects and members, or the tenant's users.
pub fn project_scoped(lookup: Lookup, tenant: &str, workspace: &str, project: &str) -> Lookup {
    lookup
        .scope(Scope::Tenant(tenant))
        .scope(Scope::Workspace { tenant, workspace })
        .scope(Scope::Project { tenant, project })
}

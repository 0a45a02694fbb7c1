//! Which projects a search covers: the access-checked workspace scope, and the unchecked one
//! for the operator's CLI. (One project's scope is checked in `list_cache::project_search`.)

use crate::db;
use crate::domain::permission;
use crate::error::AppResult;
use crate::services::access::{self, Actor};

use super::Search;
use super::query::{SearchInput, SearchQuery, parse};

/// A workspace search covers at most this many projects (the first by id).
pub const MAX_WORKSPACE_PROJECTS: usize = 1000;

impl Search {
    /// The projects of the workspace the caller may read, and the query over them.
    pub async fn workspace_scope(
        &self,
        actor: &Actor,
        workspace_id: &str,
        input: &SearchInput<'_>,
    ) -> AppResult<SearchQuery> {
        let ws = access::workspace_access(&self.cx, actor, workspace_id).await?;
        ws.require(permission::TASKS_READ)?;
        let visible_to = (!ws.can(permission::PROJECTS_READ)).then_some(actor.user_id.as_str());
        let mut projects = Vec::new();
        let mut after: Option<String> = None;
        while projects.len() < MAX_WORKSPACE_PROJECTS {
            let rows = db::projects::list_page(
                self.cx.db.read(),
                &actor.tenant_id,
                workspace_id,
                visible_to,
                after.as_deref(),
                500,
            )
            .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            projects.extend(rows.into_iter().map(|p| p.id));
        }
        projects.truncate(MAX_WORKSPACE_PROJECTS);
        parse(input, &actor.tenant_id, projects)
    }

    /// A search over projects of one tenant without an access check: for the operator's CLI,
    /// and for a caller whose access to the projects was already checked.
    pub fn system_scope(
        &self,
        tenant_id: &str,
        project_ids: Vec<String>,
        input: &SearchInput<'_>,
    ) -> AppResult<SearchQuery> {
        parse(input, tenant_id, project_ids)
    }
}

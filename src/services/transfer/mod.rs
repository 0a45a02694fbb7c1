//! Workspace export and import (issue 14, Data).
//!
//! - `export`: a workspace's rows and files into one archive (`archive`), run by the
//!   `workspace:export` job for the API and directly by `kanri export`.
//! - `import`: an archive back in, ids kept (refused if any collides) or remapped, users matched
//!   by email; `csv_tasks`: a CSV of tasks into a project with a column mapping; `trello`: a
//!   Trello board's JSON export into a new project.
//!
//! Every import is all or nothing: the rows go in one unit of work that records one
//! `workspace.imported` event; an archive's files are stored first, under keys only the new
//! rows name, and deleted again if the rows do not commit.

pub mod archive;
pub mod csv_tasks;
pub mod drafts;
pub mod export;
pub mod import;
pub mod queued;
pub mod remap;
pub mod trello;

use serde::Serialize;

/// Limits on what an import reads and an export writes.
pub mod limits {
    /// The largest archive (and the sum of its entries) an export writes or an import reads.
    pub const MAX_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;
    /// What all of an archive's entries may unpack to together (zip bombs stop here).
    pub const MAX_UNPACKED_BYTES: u64 = 4 * MAX_ARCHIVE_BYTES;
    /// Rows in one table of an archive, and tasks in one CSV or Trello import.
    pub const MAX_ROWS: u64 = 200_000;
    /// One JSON line of an archive, one CSV record.
    pub const MAX_LINE_BYTES: u64 = 1024 * 1024;
    /// A CSV or Trello file.
    pub const MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;
}

/// Progress of a long export or import: `done` of `total` steps (rows and files).
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) + Send);

/// What an import made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub workspace_id: String,
    /// The project the tasks went into (CSV, Trello).
    pub project_id: Option<String>,
    /// Rows written per table (`files` for stored attachment files, `users_created` for people
    /// the target did not know by email).
    pub counts: std::collections::BTreeMap<String, u64>,
}

/// Which kind of import recorded a `workspace.imported` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSource {
    Archive,
    Csv,
    Trello,
}

impl ImportSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Archive => "archive",
            Self::Csv => "csv",
            Self::Trello => "trello",
        }
    }
}

use crate::db;
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor};

/// A CSV import by a member who may create tasks in the project.
pub async fn import_csv_as(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    bytes: &[u8],
    mapping: &str,
) -> AppResult<ImportSummary> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::TASKS_CREATE)?;
    let mapping = csv_tasks::Mapping::parse(mapping).map_err(|e| AppError::Validation(vec![e]))?;
    let target = drafts::Target {
        tenant_id: &actor.tenant_id,
        workspace_id: &access.workspace.workspace_id,
        project_id,
        created_by: Some(&actor.user_id),
    };
    csv_tasks::import(cx, &target, Some(&actor.user_id), bytes, &mapping).await
}

/// A CSV import by the operator (`kanri import --format csv`).
pub async fn import_csv_operator(
    cx: &Ctx,
    tenant_id: &str,
    project_id: &str,
    bytes: &[u8],
    mapping: &str,
) -> AppResult<ImportSummary> {
    let project = db::projects::find(cx.db.read(), tenant_id, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let mapping = csv_tasks::Mapping::parse(mapping).map_err(|e| AppError::Validation(vec![e]))?;
    let target = drafts::Target {
        tenant_id,
        workspace_id: &project.workspace_id,
        project_id,
        created_by: None,
    };
    csv_tasks::import(cx, &target, None, bytes, &mapping).await
}

/// A Trello import into a new project by a member who may create projects.
pub async fn import_trello_as(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    bytes: &[u8],
    lists: &str,
) -> AppResult<ImportSummary> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::PROJECTS_CREATE)?;
    let lists = trello::parse_lists(lists).map_err(|e| AppError::Validation(vec![e]))?;
    trello::import(
        cx,
        &actor.tenant_id,
        workspace_id,
        Some(&actor.user_id),
        bytes,
        &lists,
    )
    .await
}

/// A Trello import by the operator (`kanri import --format trello`).
pub async fn import_trello_operator(
    cx: &Ctx,
    workspace_id: &str,
    bytes: &[u8],
    lists: &str,
) -> AppResult<ImportSummary> {
    let tenant_id = db::transfer::workspace_tenant(cx.db.read(), workspace_id)
        .await?
        .ok_or(AppError::NotFound("workspace"))?;
    let lists = trello::parse_lists(lists).map_err(|e| AppError::Validation(vec![e]))?;
    trello::import(cx, &tenant_id, workspace_id, None, bytes, &lists).await
}

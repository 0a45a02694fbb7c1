//! Attachments on tasks. An upload streams to storage first, then one transaction writes the
//! row, the workspace's byte counter and the activity event; if that fails the object is
//! deleted again, so a failed upload leaves nothing. Deleting an attachment, task or project
//! marks the rows, frees their bytes and enqueues the purge job in the deleting transaction;
//! the job deletes the objects.

mod download;
mod upload;
pub use download::*;
pub use upload::*;

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::attachments::{AttachmentRow, Scope};
use crate::db::{self};
use crate::domain::enums::WorkspaceRole;
use crate::domain::event::{AttachmentFacts, Detached, DomainEvent, InProject};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::access::{self, Actor, ProjectAccess};
use crate::services::{Ctx, page};
use crate::storage::Storage;
use crate::storage::signing::SigningKey;

/// What the file services need besides the database.
#[derive(Clone, Copy)]
pub struct Files<'a> {
    pub cx: &'a Ctx,
    pub storage: &'a Storage,
    pub signing_key: Option<&'a SigningKey>,
    /// Base of absolute links (`KANRI_APP_URL`).
    pub app_url: &'a str,
    pub max_upload_bytes: u64,
    pub signed_url_ttl_secs: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: String,
    pub task_id: String,
    pub project_id: String,
    pub workspace_id: String,
    /// The sanitised name the file was uploaded with.
    pub filename: String,
    /// Sniffed from the bytes, not taken from the client.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub uploaded_by: Option<String>,
    /// Needs a session that may read the task; `POST …/url` makes a link that does not.
    pub download_url: String,
    pub created_at: String,
}

impl Attachment {
    fn from_row(row: AttachmentRow, app_url: &str) -> Self {
        Self {
            download_url: download_url(app_url, &row.id),
            id: row.id,
            task_id: row.task_id,
            project_id: row.project_id,
            workspace_id: row.workspace_id,
            filename: row.filename,
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            uploaded_by: row.uploaded_by,
            created_at: to_rfc3339(row.created_at),
        }
    }
}

pub fn download_url(app_url: &str, id: &str) -> String {
    format!("{app_url}/v1/attachments/{id}/download")
}

fn at(row: &AttachmentRow) -> InProject {
    InProject {
        workspace_id: row.workspace_id.clone(),
        project_id: row.project_id.clone(),
    }
}

fn facts(row: &AttachmentRow) -> AttachmentFacts {
    AttachmentFacts {
        id: row.id.clone(),
        task_id: row.task_id.clone(),
        filename: row.filename.clone(),
        content_type: row.content_type.clone(),
        size_bytes: row.size_bytes,
    }
}

/// A live attachment the caller may read, with their standing in its project.
async fn readable(cx: &Ctx, actor: &Actor, id: &str) -> AppResult<(AttachmentRow, ProjectAccess)> {
    let row = db::attachments::find(cx.db.read(), &actor.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    let access = access::project_access(cx, actor, &row.project_id)
        .await
        .map_err(|e| e.not_found_as("attachment"))?;
    if !access.can(permission::TASKS_READ) {
        return Err(AppError::NotFound("attachment"));
    }
    Ok((row, access))
}

pub async fn get(files: Files<'_>, actor: &Actor, id: &str) -> AppResult<Attachment> {
    let (row, _) = readable(files.cx, actor, id).await?;
    Ok(Attachment::from_row(row, files.app_url))
}

/// A page of a task's attachments, oldest first.
pub async fn list(
    files: Files<'_>,
    actor: &Actor,
    task_id: &str,
    after: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Attachment>, Option<String>)> {
    let (_, access) = crate::services::tasks::task_access(files.cx, actor, task_id).await?;
    access.require(permission::TASKS_READ)?;
    let rows = db::attachments::list_for_task(
        files.cx.db.read(),
        &actor.tenant_id,
        task_id,
        after,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(|r| Attachment::from_row(r, files.app_url))
        .collect();
    Ok((items, next))
}

/// The first attachment of a task (the seed's `attachment_url`), if any.
pub async fn first_of_task(
    files: Files<'_>,
    actor: &Actor,
    task_id: &str,
) -> AppResult<Option<Attachment>> {
    let (items, _) = list(files, actor, task_id, None, 1).await?;
    Ok(items.into_iter().next())
}

/// Deletes an attachment: its uploader, or a workspace owner or admin, may. The object goes in
/// the purge job enqueued here.
pub async fn delete(files: Files<'_>, actor: &Actor, id: &str) -> AppResult<()> {
    let (row, access) = readable(files.cx, actor, id).await?;
    let is_uploader = row.uploaded_by.as_deref() == Some(actor.user_id.as_str());
    let moderates = matches!(
        access.workspace.role,
        WorkspaceRole::Owner | WorkspaceRole::Admin
    );
    if !((is_uploader && access.can(permission::TASKS_UPDATE)) || moderates) {
        return Err(AppError::Forbidden(
            "only the uploader or a workspace admin may delete this file",
        ));
    }
    let now = now_ms();
    let mut tx = files.cx.begin_as(actor).await?;
    let Some(freed) = db::attachments::mark_deleted(&mut *tx, &actor.tenant_id, id, now).await?
    else {
        return Err(AppError::NotFound("attachment"));
    };
    db::attachments::add_usage(
        &mut *tx,
        &actor.tenant_id,
        &freed.workspace_id,
        -freed.size_bytes,
        now,
    )
    .await?;
    tx.record(DomainEvent::AttachmentDeleted {
        at: at(&row),
        attachment: facts(&row),
    });
    tx.commit().await?;
    Ok(())
}

/// Marks the files of a task or project being deleted and frees their bytes: call it on the
/// deleting transaction. The deletion's event then implies their purge.
pub async fn detach(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    scope: Scope<'_>,
) -> AppResult<Detached> {
    let now = now_ms();
    let freed = db::attachments::mark_deleted_under(&mut *conn, tenant_id, scope, now).await?;
    if freed.is_empty() {
        return Ok(Detached::None);
    }
    let mut per_workspace: Vec<(String, i64)> = Vec::new();
    for f in freed {
        match per_workspace.iter_mut().find(|(w, _)| *w == f.workspace_id) {
            Some((_, bytes)) => *bytes += f.size_bytes,
            None => per_workspace.push((f.workspace_id, f.size_bytes)),
        }
    }
    for (workspace_id, bytes) in per_workspace {
        db::attachments::add_usage(&mut *conn, tenant_id, &workspace_id, -bytes, now).await?;
    }
    Ok(Detached::Some)
}

/// The bytes a workspace's attachments take, for its details.
pub async fn storage_bytes(cx: &Ctx, tenant_id: &str, workspace_id: &str) -> AppResult<i64> {
    Ok(db::attachments::storage_bytes(cx.db.read(), tenant_id, workspace_id).await?)
}

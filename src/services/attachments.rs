//! Attachments on tasks. An upload streams to storage first, then one transaction writes the
//! row, the workspace's byte counter and the activity event; if that fails the object is
//! deleted again, so a failed upload leaves nothing. Deleting an attachment, task or project
//! marks the rows, frees their bytes and enqueues the purge job in the deleting transaction;
//! the job deletes the objects.

use std::ops::Range;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::attachments::{AttachmentRow, Scope};
use crate::db::{self};
use crate::domain::enums::WorkspaceRole;
use crate::domain::event::{AttachmentFacts, Detached, DomainEvent, InProject};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::access::{self, Actor, ProjectAccess};
use crate::services::{Ctx, page};
use crate::storage::range::{self, Ranged};
use crate::storage::signing::SigningKey;
use crate::storage::sniff::{self, Serving};
use crate::storage::{PutError, Storage, names};

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

/// Why an upload failed: an ordinary service error, or a file over the limit (413).
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
}

/// Streams `body` into storage as an attachment of `task_id`, named after `filename`.
pub async fn upload<S, E>(
    files: Files<'_>,
    actor: &Actor,
    task_id: &str,
    filename: Option<&str>,
    body: S,
) -> Result<Attachment, UploadError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    upload_capped(
        files,
        actor,
        task_id,
        filename,
        body,
        files.max_upload_bytes,
    )
    .await
}

/// `upload` with a tighter cap (the seed's base64 form is held in memory whole).
pub async fn upload_capped<S, E>(
    files: Files<'_>,
    actor: &Actor,
    task_id: &str,
    filename: Option<&str>,
    body: S,
    limit: u64,
) -> Result<Attachment, UploadError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let (task, access) = crate::services::tasks::task_access(files.cx, actor, task_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    let id = new_id();
    let workspace_id = access.workspace.workspace_id.clone();
    let key = Storage::key(&actor.tenant_id, &workspace_id, &id);
    let stored = files
        .storage
        .put_stream(&key, body, limit)
        .await
        .map_err(|e| match e {
            PutError::TooLarge(limit) => UploadError::TooLarge(limit),
            PutError::Body(reason) => UploadError::App(AppError::validation("file", reason)),
            PutError::Store(e) => UploadError::App(AppError::Internal(e.into())),
        })?;
    let filename = names::sanitize(filename.unwrap_or_default());
    let row = AttachmentRow {
        content_type: sniff::content_type(&stored.head, &filename),
        id,
        tenant_id: actor.tenant_id.clone(),
        workspace_id,
        project_id: task.project_id,
        task_id: task.id,
        uploaded_by: Some(actor.user_id.clone()),
        filename,
        size_bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: stored.sha256,
        storage_key: key,
        created_at: now_ms(),
    };
    match record_upload(files.cx, actor, &row).await {
        Ok(()) => Ok(Attachment::from_row(row, files.app_url)),
        Err(e) => {
            if let Err(error) = files.storage.delete(&row.storage_key).await {
                tracing::warn!(%error, key = %row.storage_key, "could not delete the object of a failed upload");
            }
            Err(e.into())
        }
    }
}

async fn record_upload(cx: &Ctx, actor: &Actor, row: &AttachmentRow) -> AppResult<()> {
    let mut tx = cx.begin_as(actor).await?;
    // The task may have been deleted while the bytes were arriving.
    if !db::tasks::lock(&mut *tx, &actor.tenant_id, &row.task_id).await? {
        return Err(AppError::NotFound("task"));
    }
    db::attachments::insert(&mut *tx, row).await?;
    db::attachments::add_usage(
        &mut *tx,
        &actor.tenant_id,
        &row.workspace_id,
        row.size_bytes,
        row.created_at,
    )
    .await?;
    tx.record(DomainEvent::AttachmentCreated {
        at: at(row),
        attachment: facts(row),
    });
    tx.commit().await?;
    Ok(())
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

/// A download about to be streamed.
pub struct Download {
    pub filename: String,
    pub serving: Serving,
    pub size: u64,
    pub sha256: String,
    pub range: Ranged,
    /// The bytes of `range` (empty when it is unsatisfiable).
    pub body: Option<BoxStream<'static, object_store::Result<Bytes>>>,
}

impl Download {
    /// The bytes being sent, for `Content-Range`.
    pub fn sent(&self) -> Range<u64> {
        match &self.range {
            Ranged::Partial(r) => r.clone(),
            _ => 0..self.size,
        }
    }
}

pub async fn download(
    files: Files<'_>,
    actor: &Actor,
    id: &str,
    range_header: Option<&str>,
) -> AppResult<Download> {
    let (row, _) = readable(files.cx, actor, id).await?;
    open(files.storage, row, range_header).await
}

async fn open(
    storage: &Storage,
    row: AttachmentRow,
    range_header: Option<&str>,
) -> AppResult<Download> {
    let size = u64::try_from(row.size_bytes).unwrap_or(0);
    let range = range::parse(range_header, size);
    let body = match &range {
        Ranged::Unsatisfiable => None,
        // An empty object has no byte range to ask the store for.
        Ranged::Full if size == 0 => {
            Some(Box::pin(futures_util::stream::empty()) as BoxStream<'static, _>)
        }
        Ranged::Full => Some(open_object(storage, &row.storage_key, 0..size).await?),
        Ranged::Partial(r) => Some(open_object(storage, &row.storage_key, r.clone()).await?),
    };
    Ok(Download {
        serving: sniff::serving(&row.content_type),
        filename: row.filename,
        size,
        sha256: row.sha256,
        range,
        body,
    })
}

async fn open_object(
    storage: &Storage,
    key: &str,
    range: Range<u64>,
) -> AppResult<BoxStream<'static, object_store::Result<Bytes>>> {
    storage.open(key, Some(range)).await.map_err(|e| match e {
        // The row is live but the object is gone: the operator's problem, not the client's.
        object_store::Error::NotFound { .. } => {
            AppError::Internal(anyhow::anyhow!("stored object {key} is missing"))
        }
        e => AppError::Internal(e.into()),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignedUrl {
    /// Works without a session until `expires_at`.
    pub url: String,
    pub expires_at: String,
}

/// An expiring link to an attachment the caller may read.
pub async fn signed_url(files: Files<'_>, actor: &Actor, id: &str) -> AppResult<SignedUrl> {
    let (row, _) = readable(files.cx, actor, id).await?;
    let key = files.signing_key.ok_or(AppError::NotConfigured(
        "signed links need KANRI_SIGNING_KEY on this server",
    ))?;
    let expires = now_ms() / 1000 + files.signed_url_ttl_secs;
    Ok(SignedUrl {
        url: signed_link(files.app_url, key, &row.id, expires),
        expires_at: to_rfc3339(expires * 1000),
    })
}

/// The public link to attachment `id` valid until `expires` (epoch seconds).
pub fn signed_link(app_url: &str, key: &SigningKey, id: &str, expires: i64) -> String {
    let sig = key.sign(id, expires);
    format!("{app_url}/v1/files/{id}?expires={expires}&sig={sig}")
}

/// Opens an attachment through a signed link, without a session. The signature is checked
/// before anything is read, so a forged link learns nothing about which ids exist.
pub async fn download_signed(
    files: Files<'_>,
    id: &str,
    expires: i64,
    sig: &str,
    range_header: Option<&str>,
) -> AppResult<Download> {
    let key = files
        .signing_key
        .ok_or(AppError::NotConfigured("signed links are not configured"))?;
    if !key.verify(id, expires, sig) {
        return Err(AppError::Forbidden("the link is not valid"));
    }
    if expires <= now_ms() / 1000 {
        return Err(AppError::Forbidden("the link has expired"));
    }
    let row = db::attachments::find_signed(files.cx.db.read(), id)
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    open(files.storage, row, range_header).await
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

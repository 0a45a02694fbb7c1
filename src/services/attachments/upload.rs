//! Streaming an upload to storage, then recording it; a failed record deletes the object.

use super::*;
use crate::clock::now_ms;
use crate::db::attachments::AttachmentRow;
use crate::db::{self};
use crate::domain::billing::Resource;
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::storage::sniff::{self};
use crate::storage::{PutError, Storage, names};
use bytes::Bytes;

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
    // Refuse before receiving the bytes when the workspace is already full.
    crate::services::quotas::precheck(
        files.cx,
        &actor.tenant_id,
        &workspace_id,
        Resource::StorageBytes,
    )
    .await?;
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

pub(super) async fn record_upload(cx: &Ctx, actor: &Actor, row: &AttachmentRow) -> AppResult<()> {
    let mut tx = cx.begin_as(actor).await?;
    // The task may have been deleted while the bytes were arriving.
    if !db::tasks::lock(&mut *tx, &actor.tenant_id, &row.task_id).await? {
        return Err(AppError::NotFound("task"));
    }
    crate::services::quotas::reserve(
        &mut tx,
        &actor.tenant_id,
        &row.workspace_id,
        Resource::StorageBytes,
        row.size_bytes,
    )
    .await?;
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

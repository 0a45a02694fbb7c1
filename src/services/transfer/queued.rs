//! Archive imports over the API, as jobs: `POST /v1/imports` stores the uploaded archive under
//! a staging key (`{tenant}/imports/{id}.zip`) and enqueues `workspace:import`; the job runs
//! [`import::archive`] with its progress written to the `imports` row, records the summary or
//! the refusal (the same code, message and field details a synchronous answer would carry),
//! and deletes the staged archive. A large archive thus outlives no request timeout.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use super::import::{self, Ids};
use crate::clock::{now_ms, to_rfc3339};
use crate::db::imports::ImportRow;
use crate::db::{self};
use crate::domain::job::ImportArchive;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::jobs::NewJobSpec;
use crate::services::Ctx;
use crate::storage::Storage;

/// A queued import as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: String,
    /// `QUEUED`, `RUNNING`, `DONE` or `FAILED`.
    pub state: String,
    pub remap_ids: bool,
    /// Rows and files written so far, of `total`.
    pub progress: i64,
    pub total: i64,
    /// When done: what was made (`ImportSummary`).
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    /// When failed: `{code, message, details?}`, as the API's errors carry them.
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ImportRow> for ImportJob {
    fn from(row: ImportRow) -> Self {
        let result = row
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str::<Value>(r).ok());
        let (summary, error) = match row.state.as_str() {
            "DONE" => (result, None),
            "FAILED" => (None, result),
            _ => (None, None),
        };
        Self {
            id: row.id,
            state: row.state,
            remap_ids: row.remap_ids != 0,
            progress: row.progress,
            total: row.total,
            summary,
            error,
            created_at: to_rfc3339(row.created_at),
            updated_at: to_rfc3339(row.updated_at),
        }
    }
}

/// Stores the archive and queues its import into `tenant_id`.
pub async fn request(
    cx: &Ctx,
    storage: &Storage,
    tenant_id: &str,
    archive: Bytes,
    ids: Ids,
) -> AppResult<ImportJob> {
    // Refused now rather than queued to fail: an empty body or anything but a zip cannot be
    // an export archive.
    if !infer::archive::is_zip(&archive) {
        return Err(AppError::validation(
            "body",
            "must be a Kanri export archive (a zip file)",
        ));
    }
    let id = new_id();
    let key = format!("{tenant_id}/imports/{id}.zip");
    let size = archive.len() as u64;
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(archive)]);
    storage
        .put_stream(&key, body, size)
        .await
        .map_err(|e| anyhow::anyhow!("staging the archive: {e}"))?;
    let now = now_ms();
    let row = ImportRow {
        id: id.clone(),
        tenant_id: tenant_id.to_string(),
        state: "QUEUED".into(),
        remap_ids: i64::from(ids == Ids::Remap),
        staging_key: key.clone(),
        progress: 0,
        total: 0,
        result: None,
        created_at: now,
        updated_at: now,
    };
    let queued = async {
        let mut tx = cx.begin(tenant_id, None).await?;
        db::imports::insert(&mut *tx, &row).await?;
        tx.enqueue(NewJobSpec::of(tenant_id, &ImportArchive { import_id: id }));
        tx.commit().await
    }
    .await;
    if let Err(error) = queued {
        let _ = storage.delete(&key).await;
        return Err(error);
    }
    Ok(row.into())
}

pub async fn status(cx: &Ctx, tenant_id: &str, id: &str) -> AppResult<ImportJob> {
    db::imports::find(cx.db.read(), tenant_id, id)
        .await?
        .map(ImportJob::from)
        .ok_or(AppError::NotFound("import"))
}

/// An error as the API would have answered it.
fn error_json(error: &AppError) -> Value {
    match error {
        AppError::Validation(fields) => {
            json!({"code": "validation_failed", "message": "validation failed", "details": fields})
        }
        AppError::Conflict { code, message } => json!({"code": code, "message": message}),
        AppError::NotFound(what) => {
            json!({"code": "not_found", "message": format!("{what} not found")})
        }
        _ => {
            json!({"code": "internal", "message": "the import failed; the server log has the cause"})
        }
    }
}

/// The `workspace:import` job. A finished import (a retry after the last write) is left alone.
pub async fn run_job(cx: &Ctx, storage: &Storage, tenant_id: &str, id: &str) -> AppResult<()> {
    let Some(row) = db::imports::find(cx.db.read(), tenant_id, id).await? else {
        return Ok(());
    };
    if row.state == "DONE" || row.state == "FAILED" {
        return Ok(());
    }
    let db = cx.db.write().clone();
    db::imports::set_progress(&db, id, 0, 0, now_ms()).await?;
    let archive = super::export::read_all(storage, &row.staging_key).await?;
    let (send, mut seen) = tokio::sync::watch::channel((0u64, 0u64));
    let writer = {
        let (db, id) = (db.clone(), id.to_string());
        tokio::spawn(async move {
            while seen.changed().await.is_ok() {
                let (done, total) = *seen.borrow_and_update();
                let (done, total) = (
                    i64::try_from(done).unwrap_or(0),
                    i64::try_from(total).unwrap_or(0),
                );
                if let Err(error) = db::imports::set_progress(&db, &id, done, total, now_ms()).await
                {
                    tracing::warn!(%error, "could not record import progress");
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    };
    let ids = if row.remap_ids != 0 {
        Ids::Remap
    } else {
        Ids::Keep
    };
    let mut report = |done: u64, total: u64| {
        send.send_replace((done, total));
    };
    let outcome = import::archive(
        cx,
        storage,
        tenant_id,
        None,
        std::io::Cursor::new(archive),
        ids,
        &mut report,
    )
    .await;
    drop(send);
    let _ = writer.await;
    let (state, result) = match &outcome {
        Ok(summary) => ("DONE", serde_json::to_string(summary).unwrap_or_default()),
        Err(error) => ("FAILED", error_json(error).to_string()),
    };
    db::imports::finish(&db, id, state, &result, now_ms()).await?;
    if let Err(error) = storage.delete(&row.staging_key).await {
        tracing::warn!(%error, "could not delete a staged import archive");
    }
    match outcome {
        // A refusal is the client's: recorded, not a job failure.
        Ok(_) | Err(AppError::Validation(_) | AppError::Conflict { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

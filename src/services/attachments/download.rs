//! Serving a file (ranges, the inline policy) with a session or a signed link.

use super::*;
use crate::clock::{now_ms, to_rfc3339};
use crate::db::attachments::AttachmentRow;
use crate::db::{self};
use crate::error::{AppError, AppResult};
use crate::services::access::Actor;
use crate::storage::Storage;
use crate::storage::range::{self, Ranged};
use crate::storage::signing::SigningKey;
use crate::storage::sniff::{self, Serving};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use serde::Serialize;
use std::ops::Range;

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

pub(super) async fn open(
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

pub(super) async fn open_object(
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

/// How long seed 000's `attachmentUrl` works. The seed's storage URL needs no session and
/// does not expire; ours is a signed link for ten years, which ends sooner when the file is
/// deleted (`find_signed` skips deleted rows) or the signing key changes.
pub const LASTING_LINK_SECS: i64 = 10 * 365 * 24 * 3600;

/// A link to `attachment` (one the caller was allowed to read) that opens without a session
/// for `LASTING_LINK_SECS`. Without a signing key (Postgres with no `KANRI_SIGNING_KEY`) it is
/// the session link, `download_url`, as before.
pub fn lasting_url(files: Files<'_>, attachment: &Attachment) -> String {
    match files.signing_key {
        Some(key) => {
            let expires = now_ms() / 1000 + LASTING_LINK_SECS;
            signed_link(files.app_url, key, &attachment.id, expires)
        }
        None => attachment.download_url.clone(),
    }
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

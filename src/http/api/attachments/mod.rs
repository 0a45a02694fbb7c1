//! Task attachments: multipart upload (streamed to storage), metadata, lists, downloads with
//! ranges, expiring signed links and delete.
//!
//! - `upload.rs`: the multipart upload.
//! - `records.rs`: a task's list, one attachment's metadata, delete, and a signed link.
//! - `download.rs`: the file itself (by session or signed link), with ranges and the headers
//!   that serve it safely.
//!
//! This file has the routes, the body limits, the `Files` the service needs, and the upload
//! failure (the seed's inline upload uses it too).

pub mod download;
pub mod records;
pub mod upload;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::config::Config;
use crate::http::envelope::error_body;
use crate::http::error::ApiError;
use crate::services::attachments::{Files, UploadError};

/// Room for the multipart framing and small fields around the file.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;
/// The seed's base64 attachment is held in memory whole, so it has its own, smaller cap.
pub const SEED_ATTACHMENT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// The body limit of the seed's create-task route: the base64 of the largest attachment and
/// room for the task's fields.
pub const SEED_CREATE_TASK_BODY: usize =
    (SEED_ATTACHMENT_MAX_BYTES as usize).div_ceil(3) * 4 + 256 * 1024;

/// The largest body any route accepts; `http::router`'s outer limit. Every other route keeps
/// `KANRI_MAX_BODY_BYTES` through `DefaultBodyLimit`, which the extractors obey.
pub fn largest_body(config: &Config) -> usize {
    let upload =
        usize::try_from(config.storage.max_upload_bytes + MULTIPART_OVERHEAD).unwrap_or(usize::MAX);
    config
        .server
        .max_body_bytes
        .max(upload)
        .max(SEED_CREATE_TASK_BODY)
        .max(super::transfer::MAX_IMPORT_BODY)
}

pub fn routes() -> OpenApiRouter<AppState> {
    // Uploads are limited by `KANRI_MAX_UPLOAD_BYTES`, counted as they stream, not by the
    // JSON body limit.
    let uploads = OpenApiRouter::new()
        .routes(routes!(
            upload::upload_attachment,
            records::list_attachments
        ))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(records::get_attachment, records::delete_attachment))
        .routes(routes!(download::download_attachment))
        .routes(routes!(records::create_signed_url))
        .routes(routes!(download::download_signed))
}

pub fn files(state: &AppState) -> Files<'_> {
    Files {
        cx: &state.cx,
        storage: &state.storage,
        signing_key: state.signing_key.as_ref(),
        app_url: &state.config.server.app_url,
        max_upload_bytes: state.config.storage.max_upload_bytes,
        signed_url_ttl_secs: i64::try_from(state.config.storage.signed_url_ttl.as_secs())
            .unwrap_or(900),
    }
}

/// An upload's failure: the usual envelope, or 413 naming the limit.
pub enum UploadFailure {
    Api(ApiError),
    TooLarge(u64),
}

impl<E: Into<ApiError>> From<E> for UploadFailure {
    fn from(e: E) -> Self {
        Self::Api(e.into())
    }
}

impl From<UploadError> for UploadFailure {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::App(e) => Self::Api(e.into()),
            UploadError::TooLarge(limit) => Self::TooLarge(limit),
        }
    }
}

impl IntoResponse for UploadFailure {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::TooLarge(limit) => {
                let message = format!("the file is larger than the upload limit of {limit} bytes");
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    error_body("payload_too_large", &message, &[]),
                )
                    .into_response()
            }
        }
    }
}

//! Task attachments: multipart upload (streamed to storage), metadata, lists, downloads with
//! ranges, expiring signed links and delete.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::config::Config;
use crate::error::AppError;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody, error_body};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Path, Query};
use crate::http::pagination::PageParams;
use crate::services::attachments::{self, Attachment, Download, Files, SignedUrl, UploadError};
use crate::storage::range::Ranged;

/// Room for the multipart framing and small fields around the file.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;
/// Fields read before the `file` field; more is not a form we sent.
const MAX_FIELDS: usize = 16;
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
}

pub fn routes() -> OpenApiRouter<AppState> {
    // Uploads are limited by `KANRI_MAX_UPLOAD_BYTES`, counted as they stream, not by the
    // JSON body limit.
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload_attachment, list_attachments))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_attachment, delete_attachment))
        .routes(routes!(download_attachment))
        .routes(routes!(create_signed_url))
        .routes(routes!(download_signed))
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

#[utoipa::path(post, path = "/v1/tasks/{id}/attachments", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body(content_type = "multipart/form-data", description = "The file in a field named `file`; its type is sniffed from the bytes"),
    responses((status = 201, body = Success<Attachment>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "Larger than KANRI_MAX_UPLOAD_BYTES", body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
    request: Request,
) -> Result<Envelope<Attachment>, UploadFailure> {
    let limit = state.config.storage.max_upload_bytes;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + MULTIPART_OVERHEAD) {
        return Err(UploadFailure::TooLarge(limit));
    }
    let request = request.map(|body| {
        Body::new(http_body_util::Limited::new(
            body,
            usize::try_from(limit + MULTIPART_OVERHEAD).unwrap_or(usize::MAX),
        ))
    });
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|_| {
            ApiError::Status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected Content-Type: multipart/form-data",
            )
        })?;
    // The body as a whole outgrew the limit (fields besides the file): also a 413.
    let overflow = Arc::new(AtomicBool::new(false));
    for _ in 0..MAX_FIELDS {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(UploadFailure::TooLarge(limit));
            }
            Err(e) => return Err(AppError::validation("file", e.body_text()).into()),
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().map(str::to_string);
        let seen = overflow.clone();
        let body = field.map_err(move |e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                seen.store(true, Ordering::Relaxed);
            }
            e.body_text()
        });
        let actor = user.actor();
        let result =
            attachments::upload(files(&state), &actor, &task_id, filename.as_deref(), body).await;
        return match result {
            Ok(attachment) => Ok(Envelope::created(attachment)),
            Err(_) if overflow.load(Ordering::Relaxed) => Err(UploadFailure::TooLarge(limit)),
            Err(UploadError::TooLarge(limit)) => {
                drain(&mut multipart).await;
                Err(UploadFailure::TooLarge(limit))
            }
            Err(e) => Err(e.into()),
        };
    }
    Err(AppError::validation(
        "file",
        "is required: send the file in a multipart field named `file`",
    )
    .into())
}

/// Reads what is left of a refused upload (at most the body limit), so the client, still
/// sending, reads our 413 instead of a reset connection.
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

#[utoipa::path(get, path = "/v1/tasks/{id}/attachments", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id"), PageParams),
    responses((status = 200, description = "Oldest first", body = Success<Page<Attachment>>), (status = 404, body = ErrorBody)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Attachment>>> {
    let (items, next) = attachments::list(
        files(&state),
        &user.actor(),
        &task_id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, body = Success<Attachment>), (status = 404, body = ErrorBody)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Attachment>> {
    Ok(Envelope::ok(
        attachments::get(files(&state), &user.actor(), &id).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/attachments/{id}", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, body = Success<Deleted>), (status = 403, description = "Neither the uploader nor a workspace admin", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    attachments::delete(files(&state), &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

#[utoipa::path(get, path = "/v1/attachments/{id}/download", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Attachment id"),
        ("Range" = Option<String>, Header, description = "`bytes=a-b`, `bytes=a-` or `bytes=-n`")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody), (status = 416, description = "The range starts past the end", body = ErrorBody)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let range = headers.get(RANGE).and_then(|v| v.to_str().ok());
    let download = attachments::download(files(&state), &user.actor(), &id, range).await?;
    Ok(file_response(download))
}

#[utoipa::path(post, path = "/v1/attachments/{id}/url", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, description = "A link that works without a session until `expires_at` (KANRI_SIGNED_URL_TTL_SECS)", body = Success<SignedUrl>),
        (status = 404, body = ErrorBody), (status = 503, description = "No signing key configured", body = ErrorBody)))]
pub async fn create_signed_url(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<SignedUrl>> {
    Ok(Envelope::ok(
        attachments::signed_url(files(&state), &user.actor(), &id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SignedParams {
    /// Epoch seconds after which the link is refused.
    pub expires: i64,
    /// Hex HMAC-SHA256 of the id and expiry.
    pub sig: String,
}

#[utoipa::path(get, path = "/v1/files/{id}", tag = "attachments",
    params(("id" = String, Path, description = "Attachment id"), SignedParams,
        ("Range" = Option<String>, Header, description = "`bytes=a-b`, `bytes=a-` or `bytes=-n`")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 403, description = "Expired or tampered link", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 416, description = "The range starts past the end", body = ErrorBody)))]
pub async fn download_signed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<SignedParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let range = headers.get(RANGE).and_then(|v| v.to_str().ok());
    let download =
        attachments::download_signed(files(&state), &id, params.expires, &params.sig, range)
            .await?;
    Ok(file_response(download))
}

/// RFC 5987 `attr-char`s are sent as they are; everything else is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` with an ASCII `filename` for old clients and the exact UTF-8 name in
/// `filename*` (RFC 6266).
pub fn content_disposition(filename: &str, inline: bool) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    let encoded = utf8_percent_encode(filename, ATTR_CHAR);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

fn file_response(download: Download) -> Response {
    let size = download.size;
    let sent = download.sent();
    let mut headers = HeaderMap::new();
    let mut set = |name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(ACCEPT_RANGES, "bytes".into());
    set(X_CONTENT_TYPE_OPTIONS, "nosniff".into());
    set(CACHE_CONTROL, "private, no-cache".into());
    if let Ranged::Unsatisfiable = download.range {
        set(CONTENT_RANGE, format!("bytes */{size}"));
        let body = error_body(
            "range_not_satisfiable",
            &format!("the range starts past the end of the {size}-byte file"),
            &[],
        );
        return (StatusCode::RANGE_NOT_SATISFIABLE, headers, body).into_response();
    }
    set(ETAG, format!("\"{}\"", download.sha256));
    set(CONTENT_TYPE, download.serving.content_type.clone());
    set(
        CONTENT_DISPOSITION,
        content_disposition(&download.filename, download.serving.inline),
    );
    // Even a file that slips past sniffing cannot run script or load anything as a page.
    if download.serving.content_type != "application/pdf" {
        set(
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox".into(),
        );
    }
    set(CONTENT_LENGTH, (sent.end - sent.start).to_string());
    let status = match download.range {
        Ranged::Partial(_) => {
            set(
                CONTENT_RANGE,
                format!("bytes {}-{}/{size}", sent.start, sent.end.saturating_sub(1)),
            );
            StatusCode::PARTIAL_CONTENT
        }
        _ => StatusCode::OK,
    };
    let body = match download.body {
        Some(stream) => Body::from_stream(stream),
        None => Body::empty(),
    };
    (status, headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_carry_both_names() {
        assert_eq!(
            content_disposition("report.pdf", true),
            "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("Übersicht \"Q1\".pdf", false),
            "attachment; filename=\"_bersicht _Q1_.pdf\"; filename*=UTF-8''%C3%9Cbersicht%20%22Q1%22.pdf"
        );
    }
}

//! The file itself, by session (`/v1/attachments/{id}/download`) or by signed link
//! (`/v1/files/{id}`): ranges, and the headers that serve it safely (type, disposition, no
//! sniffing, a sandboxing CSP).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use utoipa::IntoParams;

use super::files;
use crate::app::AppState;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{ErrorBody, error_body};
use crate::http::error::ApiResult;
use crate::http::extract::{Path, Query};
use crate::services::attachments::{self, Download};
use crate::storage::range::Ranged;

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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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

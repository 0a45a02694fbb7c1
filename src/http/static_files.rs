//! Compiled-in static files (`/docs`, `/app/`): each answered with its type, a cache rule and a
//! content security policy.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// For files whose path names their version: cached for good.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For entry points that name the versioned files: checked on every load.
pub const NO_CACHE: &str = "no-cache";

pub const HTML: &str = "text/html; charset=utf-8";
pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";

/// One file's response.
pub fn respond(
    status: StatusCode,
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    cache: &'static str,
    policy: &'static str,
) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static(cache)),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy)),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        ],
        body.into(),
    )
        .into_response()
}

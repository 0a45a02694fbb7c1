//! `GET /metrics`: every metric in the Prometheus text format, outside the envelope. With
//! `KANRI_METRICS_TOKEN` set it takes `Authorization: Bearer <token>`.

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiError;

/// The text exposition format's content type, which every Prometheus version scrapes.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Every metric in the Prometheus text format (0.0.4)", content_type = "text/plain", body = String),
        (status = 401, description = "`KANRI_METRICS_TOKEN` is set and the request's bearer token is missing or wrong", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics.token
        && !authorized(&headers, token.expose())
    {
        let mut response = ApiError::Status(
            StatusCode::UNAUTHORIZED,
            "a valid metrics token is required",
        )
        .into_response();
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let body = crate::metrics::render(&state.cx.db).await;
    ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], body).into_response()
}

/// The bearer token equals `expected`, compared in constant time so the answer's timing says
/// nothing about how much of a guess was right. (Only the length can differ in timing, and a
/// length is no secret worth the bytes.)
fn authorized(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let token = "scrape-me-please-0123";
        assert!(authorized(&with("Bearer scrape-me-please-0123"), token));
        assert!(!authorized(&with("Bearer scrape-me-please-012"), token));
        assert!(!authorized(&with("Bearer scrape-me-please-01234"), token));
        assert!(!authorized(&with("Basic scrape-me-please-0123"), token));
        assert!(!authorized(&with("scrape-me-please-0123"), token));
        assert!(!authorized(&HeaderMap::new(), token));
    }
}

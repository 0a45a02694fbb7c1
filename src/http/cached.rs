//! Responses served through the cache: stored JSON bytes put into the response as they are
//! (no parse, no re-serialise), with `X-Cache: hit|miss`.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use crate::cache::Source;
use crate::error::{AppError, AppResult};

pub static X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// What a loader stores: the JSON of `value`.
pub fn to_json<T: Serialize>(value: &T) -> AppResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| AppError::Internal(e.into()))
}

/// `{"success":true,"data":<data>}`, where `data` is stored JSON.
pub fn envelope(data: &Bytes, source: Source) -> Response {
    wrap(&[br#"{"success":true,"data":"#, data, b"}"], source)
}

/// A 200 JSON response made of `pieces` in order (a seed's own shape around stored JSON).
pub fn wrap(pieces: &[&[u8]], source: Source) -> Response {
    let mut body = BytesMut::with_capacity(pieces.iter().map(|p| p.len()).sum());
    for piece in pieces {
        body.put_slice(piece);
    }
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (X_CACHE.clone(), HeaderValue::from_static(source.as_str())),
        ],
        Body::from(body.freeze()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wraps_stored_json_in_the_envelope() {
        let res = envelope(&Bytes::from_static(br#"{"items":[]}"#), Source::Hit);
        assert_eq!(res.headers()[&X_CACHE], "hit");
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"success": true, "data": {"items": []}})
        );
    }
}

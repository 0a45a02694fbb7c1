//! `Idempotency-Key` on creates: the first successful response to a (caller, key) pair is
//! stored and replayed for retries with the same request; the same key with a different request
//! is refused. Without the header, requests pass straight through.
//!
//! The caller is identified by a hash of the credentials it sent, so this layer needs no
//! database read of its own before the handler authenticates. Sign-in and sign-up routes are
//! excluded: their responses carry session tokens, which must never be stored. Any other
//! handler whose answer carries a secret (a webhook signing secret) marks it with [`NoStore`]:
//! the answer goes to the caller, the claim is released and nothing is kept, so a retry with
//! the same key runs afresh (as after a failure) instead of replaying the secret.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use sha2::{Digest, Sha256};

use super::cookie_session::{self, ADMIN_COOKIE, SESSION_COOKIE};
use super::error::ApiError;
use crate::app::AppState;
use crate::clock::now_ms;
use crate::db::idempotency::{self, IdempotencyRow};
use crate::error::AppError;
use crate::services::unit_of_work::{
    self,
    idempotency::{Claim, ClaimState},
};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const MAX_KEY_LEN: usize = 255;
/// Stored responses are kept this long.
const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Largest response body stored for replay; larger ones are returned but not kept.
const MAX_STORED_RESPONSE: usize = 1024 * 1024;
/// Largest response body this layer reads to decide (far above any handler's answer).
const MAX_BUFFERED_RESPONSE: usize = 64 * 1024 * 1024;

/// A response extension a handler sets when its answer carries a secret: this layer then
/// never stores it for replay. Return it beside the body: `Ok((NoStore, Envelope::ok(..)))`.
#[derive(Clone, Copy, Debug)]
pub struct NoStore;

impl IntoResponseParts for NoStore {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.extensions_mut().insert(self);
        Ok(res)
    }
}

/// What to do with a request whose key was seen before.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// Same request, finished: send the stored response again.
    Replay(u16, String),
    /// Same key, different request.
    Mismatch,
    /// The first request is still running.
    InProgress,
    /// The first request's change committed but its response was not kept (it was killed in
    /// between, or its answer was too large): never run it again.
    Unanswered,
    /// Expired, or abandoned by a request that never committed: start afresh.
    Stale,
}

/// Decides from the stored row; `abandon_after_ms` is how long an uncommitted claim is
/// honoured. A claim whose change committed is never abandoned (only expired), so a retry after
/// a crash cannot make the change twice.
pub fn classify(row: &IdempotencyRow, request_hash: &str, now: i64, abandon_after_ms: i64) -> Seen {
    let age = now - row.created_at;
    let committed = row.committed_at.is_some() || row.status_code.is_some();
    match (&row.status_code, &row.response) {
        _ if age > RETENTION_MS => Seen::Stale,
        _ if !committed && age > abandon_after_ms => Seen::Stale,
        _ if row.request_hash != request_hash => Seen::Mismatch,
        (Some(status), Some(body)) => {
            Seen::Replay(u16::try_from(*status).unwrap_or(200), body.clone())
        }
        _ if committed => Seen::Unanswered,
        _ => Seen::InProgress,
    }
}

fn valid_key(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    (!s.is_empty() && s.len() <= MAX_KEY_LEN && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| s.to_string())
}

fn is_excluded(path: &str) -> bool {
    path.starts_with("/v1/auth/") || path.starts_with("/auth/")
}

fn hash_parts(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (REPLAYED.clone(), HeaderValue::from_static("true")),
        ],
        body,
    )
        .into_response()
}

fn refuse(status: StatusCode, code: &'static str, message: &'static str) -> Response {
    let body = super::envelope::error_body(code, message, &[]);
    (status, body).into_response()
}

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(raw_key) = req.headers().get(&IDEMPOTENCY_KEY).cloned() else {
        return next.run(req).await;
    };
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_string(), |m| m.as_str().to_string());
    if req.method() != Method::POST || is_excluded(&path) {
        return next.run(req).await;
    }
    let Some(key) = valid_key(&raw_key) else {
        return ApiError::App(AppError::validation(
            "Idempotency-Key",
            "must be 1–255 visible ASCII characters",
        ))
        .into_response();
    };
    let scope = {
        let header = |name: &HeaderName| req.headers().get(name).map_or(&b""[..], |v| v.as_bytes());
        // The console's cookies are credentials too: without them two signed-in browsers
        // would share one scope.
        let cookie = |name| cookie_session::read(req.headers(), name).unwrap_or_default();
        let (session, admin) = (cookie(SESSION_COOKIE), cookie(ADMIN_COOKIE));
        hash_parts(&[
            header(&AUTHORIZATION),
            header(&HeaderName::from_static("x-api-key")),
            session.as_bytes(),
            admin.as_bytes(),
        ])
    };

    let (parts, body) = req.into_parts();
    let body = match to_bytes(body, state.config.server.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let request_hash = hash_parts(&[parts.method.as_str().as_bytes(), target.as_bytes(), &body]);

    match claim(&state, &scope, &key, &request_hash).await {
        Ok(None) => {}
        Ok(Some(response)) => return response,
        Err(error) => return ApiError::from(error).into_response(),
    }

    // The first unit of work that commits marks this claim in its own transaction (with the
    // answer when its use case gives one), so from here a kill at any instant leaves the
    // change and the mark together or neither.
    let slot = Claim::new(&scope, &key, render_created);
    let request = Request::from_parts(parts, Body::from(body));
    let response = unit_of_work::idempotency::within(slot.clone(), next.run(request)).await;
    let committed = slot.state();
    if !response.status().is_success() {
        if committed == ClaimState::Open {
            // Nothing was created; let a retry run again.
            release(&state, &scope, &key).await;
        }
        // Otherwise the change committed before the failure: a retry must not make it again.
        return response;
    }
    if response.extensions().get::<NoStore>().is_some() {
        // The answer carries a secret: it must not sit in the table for a day. A retry runs the
        // request again, as it would after a failure.
        release(&state, &scope, &key).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes: Bytes = match to_bytes(body, MAX_BUFFERED_RESPONSE).await {
        Ok(bytes) => bytes,
        Err(error) => {
            // The handler's own body failed to stream; the change is committed either way.
            tracing::error!(%error, "could not read a response to store it");
            if committed == ClaimState::Open {
                release(&state, &scope, &key).await;
            }
            return ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR, "response unavailable")
                .into_response();
        }
    };
    let status = parts.status.as_u16();
    let kept = committed == ClaimState::Answered
        && render_matches(&state, &scope, &key, status, &bytes).await;
    if !kept {
        // No use case kept the answer in its transaction (or it differs from what the handler
        // sent): store the real one now. A crash before this line leaves a committed mark
        // without a response, which a retry is told about instead of running again.
        let stored = if bytes.len() <= MAX_STORED_RESPONSE {
            let text = String::from_utf8_lossy(&bytes);
            idempotency::complete(state.cx.db.write(), &scope, &key, i64::from(status), &text).await
        } else {
            Err(sqlx::Error::Protocol(
                "response too large to keep for replay".into(),
            ))
        };
        if let Err(error) = stored {
            tracing::warn!(%error, "could not store an idempotent response");
            if committed == ClaimState::Open {
                // A retry will run the request again rather than wait on a claim that never
                // finishes; nothing committed under the mark, so that makes no duplicate.
                release(&state, &scope, &key).await;
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// How a created resource is answered: 201 with the success envelope, byte for byte as
/// [`Envelope::created`](super::envelope::Envelope::created) sends it.
fn render_created(data: &serde_json::Value) -> (u16, String) {
    let body = serde_json::json!({"success": true, "data": data});
    (201, body.to_string())
}

/// Whether the answer kept in the transaction is the one the handler sent. Re-reads the row, so
/// a handler whose answer differs from its use case's resource is caught and stored correctly.
async fn render_matches(
    state: &AppState,
    scope: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> bool {
    match idempotency::find(state.cx.db.write(), scope, key).await {
        Ok(Some(row)) => {
            let same = row.status_code == Some(i64::from(status))
                && row.response.as_deref().map(str::as_bytes) == Some(body);
            if !same {
                tracing::warn!(
                    "an idempotent answer kept at commit differs from the response sent"
                );
            }
            same
        }
        _ => false,
    }
}

async fn release(state: &AppState, scope: &str, key: &str) {
    if let Err(error) = idempotency::release(state.cx.db.write(), scope, key).await {
        tracing::warn!(%error, "could not release an idempotency key");
    }
}

/// Claims the key for this request. `Some(response)` answers the request without running it.
async fn claim(
    state: &AppState,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> sqlx::Result<Option<Response>> {
    let db = state.cx.db.write();
    let abandon_after = i64::try_from(state.config.server.request_timeout.as_millis() * 2)
        .unwrap_or(i64::MAX)
        .max(60_000);
    for _ in 0..2 {
        let now = now_ms();
        if idempotency::reserve(db, scope, key, request_hash, now).await? {
            return Ok(None);
        }
        let Some(row) = idempotency::find(db, scope, key).await? else {
            continue; // released in between: try to claim again
        };
        match classify(&row, request_hash, now, abandon_after) {
            Seen::Replay(status, body) => return Ok(Some(replay(status, body))),
            Seen::Mismatch => {
                return Ok(Some(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request",
                )));
            }
            Seen::Unanswered => {
                return Ok(Some(refuse(
                    StatusCode::CONFLICT,
                    "idempotency_response_lost",
                    "the request with this Idempotency-Key completed, but its response was not kept; read the resource instead",
                )));
            }
            Seen::InProgress => {
                return Ok(Some(refuse(
                    StatusCode::CONFLICT,
                    "idempotency_in_progress",
                    "a request with this Idempotency-Key is still being processed",
                )));
            }
            Seen::Stale => {
                idempotency::delete_if_older(db, scope, key, row.created_at + 1).await?;
            }
        }
    }
    Ok(Some(refuse(
        StatusCode::CONFLICT,
        "idempotency_in_progress",
        "a request with this Idempotency-Key is still being processed",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hash: &str, status: Option<i64>, created_at: i64) -> IdempotencyRow {
        IdempotencyRow {
            request_hash: hash.into(),
            status_code: status,
            response: status.map(|_| "{}".into()),
            created_at,
            committed_at: None,
        }
    }

    #[test]
    fn classifies_seen_keys() {
        assert_eq!(
            classify(&row("a", Some(201), 0), "a", 10, 60_000),
            Seen::Replay(201, "{}".into())
        );
        assert_eq!(
            classify(&row("a", Some(201), 0), "b", 10, 60_000),
            Seen::Mismatch
        );
        assert_eq!(
            classify(&row("a", None, 0), "a", 10, 60_000),
            Seen::InProgress
        );
        assert_eq!(
            classify(&row("a", None, 0), "a", 60_001, 60_000),
            Seen::Stale
        );
        assert_eq!(
            classify(&row("a", Some(201), 0), "a", RETENTION_MS + 1, 60_000),
            Seen::Stale
        );
    }

    #[test]
    fn a_committed_claim_is_never_abandoned() {
        let committed = IdempotencyRow {
            committed_at: Some(5),
            ..row("a", None, 0)
        };
        assert_eq!(classify(&committed, "a", 10, 60_000), Seen::Unanswered);
        assert_eq!(classify(&committed, "a", 60_001, 60_000), Seen::Unanswered);
        assert_eq!(classify(&committed, "b", 60_001, 60_000), Seen::Mismatch);
        assert_eq!(
            classify(&committed, "a", RETENTION_MS + 1, 60_000),
            Seen::Stale
        );
    }

    #[tokio::test]
    async fn created_answers_render_as_the_envelope_does() {
        use crate::http::envelope::Envelope;
        let data = serde_json::json!({"id": "t1", "title": "x", "n": 1});
        let (status, body) = render_created(&data);
        let sent = Envelope::created(data).into_response();
        assert_eq!(status, sent.status().as_u16());
        let bytes = to_bytes(sent.into_body(), 1 << 20).await.unwrap();
        assert_eq!(body.as_bytes(), &bytes[..]);
    }

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(valid_key(&HeaderValue::from_static("order-123")).is_some());
        assert!(valid_key(&HeaderValue::from_static("")).is_none());
        assert!(valid_key(&HeaderValue::from_static("has space")).is_none());
        assert!(valid_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_none());
    }

    #[test]
    fn hashing_separates_parts() {
        assert_ne!(hash_parts(&[b"ab", b"c"]), hash_parts(&[b"a", b"bc"]));
    }
}

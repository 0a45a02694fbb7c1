//! W3C trace context: a valid `traceparent` header's trace id is the request's, anything else
//! (absent, malformed, an unknown version) starts a fresh trace. The id goes into a request
//! extension for the request span, and into the task-local `crate::trace` reads when a job is
//! enqueued, so the jobs the request causes carry it.

use axum::extract::Request;
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;

use crate::trace::{self, TraceId};

pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

pub async fn trace_context(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceId::from_traceparent)
        .unwrap_or_else(TraceId::generate);
    req.extensions_mut().insert(id.clone());
    trace::scope(Some(id), next.run(req)).await
}

//! The MCP endpoint (`/mcp`, Model Context Protocol over Streamable HTTP): an AI assistant
//! works with a team's board as the person whose session token it holds. Every tool is a
//! normal use case — the same access checks, events, limits and errors as the REST API.
//!
//! Served statelessly with JSON responses: no MCP session lives in one process, so any
//! instance answers any call. `tools.rs` holds the tools, their input schemas and dispatch.

mod tools;

use axum::extract::{Request, State};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

use crate::app::AppState;
use crate::http::auth::CurrentUser;
use crate::http::error::ApiError;
use crate::services::access::Actor;

/// The `/mcp` service: authentication in front of the MCP transport.
pub fn service(
    state: AppState,
) -> BoxCloneSyncService<Request, Response, std::convert::Infallible> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(state.config.server.max_body_bytes)
        // Host checks guard local servers against DNS rebinding, which reaches them with the
        // browser's cookies; this endpoint takes only an Authorization header, which a
        // rebound page cannot send, so the public host names need not be listed here.
        .disable_allowed_hosts();
    let tools_state = state.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(tools::Board::new(tools_state.clone())),
        NeverSessionManager::default().into(),
        config,
    );
    let service = ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(state, authenticate))
        .service(mcp);
    BoxCloneSyncService::new(service)
}

/// Resolves the caller exactly as the REST API does and hands the tools its `Actor`; without a
/// valid session the answer is the envelope's 401 with a Bearer challenge.
async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, body) = req.into_parts();
    match CurrentUser::from_request_parts(&mut parts, &state).await {
        Ok(user) => {
            parts.extensions.insert::<Actor>(user.actor());
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => {
            let mut response = e.into_response();
            if response.status() == StatusCode::UNAUTHORIZED {
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        }
    }
}

/// The message an error shows an assistant: the API's code and message, and each field's
/// complaint.
fn describe(error: ApiError) -> String {
    let (_, code, message) = error.parts();
    let mut text = format!("{code}: {message}");
    if let ApiError::App(crate::error::AppError::Validation(fields)) = &error {
        for f in fields {
            text.push_str(&format!("\n- {}: {}", f.field, f.message));
        }
    }
    text
}

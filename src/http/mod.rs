//! The HTTP layer: one route table (with its OpenAPI document), the middleware stack, and the
//! mapping of every failure to the envelope.

pub mod api;
pub mod auth;
pub mod cached;
pub mod console;
pub mod cookie_session;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod mcp;
pub mod metrics;
mod openapi_doc;
pub mod pagination;
pub mod rate_limit;
pub mod request_id;
pub mod static_files;
pub mod trace_context;

use std::any::Any;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any as AnyOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::config::ServerConfig;
use crate::trace::TraceId;
use error::{ApiError, code_for_status};
use request_id::{RequestId, X_REQUEST_ID};

#[derive(OpenApi)]
#[openapi(
    info(title = "Kanri", description = "Self-hostable project-management backend"),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "secret_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// Every route, registered once; the OpenAPI document is derived from this same table.
fn route_table() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::health::routes())
        .merge(api::metrics::routes())
        .merge(api::docs::routes())
        .merge(console::routes())
        .merge(api::auth::routes())
        .merge(api::oidc::routes())
        .merge(api::two_factor::routes())
        .merge(api::admin_users::routes())
        .merge(api::admin_activity::routes())
        .merge(api::admin_jobs::routes())
        .merge(api::admin_keys::routes())
        .merge(api::admin_webhooks::routes())
        .merge(api::admin_workspaces::routes())
        .merge(api::admin_health::routes())
        .merge(api::workspaces::routes())
        .merge(api::roles::routes())
        .merge(api::invitations::routes())
        .merge(api::projects::routes())
        .merge(api::tasks::routes())
        .merge(api::labels::routes())
        .merge(api::transfer::routes())
        .merge(api::attachments::routes())
        .merge(api::webhooks::routes())
        .merge(api::webhook_endpoints::routes())
        .merge(api::realtime::routes())
        .merge(api::search::routes())
        .merge(api::seed000::routes())
        .merge(api::seed001::routes())
        .merge(api::seed002::routes())
        .merge(api::plans::routes())
        .merge(api::billing::routes())
        .merge(api::stripe::routes())
}

/// The routes and their finished document. The shared responses are added after the routes
/// are merged in: `ApiDoc`'s own modifiers run before there are any operations.
fn routes_and_document() -> (Router<AppState>, OpenApiDoc) {
    let (routes, mut doc) = route_table().split_for_parts();
    openapi_doc::StandardResponses.modify(&mut doc);
    (routes, doc)
}

/// The OpenAPI 3.1 document for every route.
pub fn openapi() -> OpenApiDoc {
    routes_and_document().1
}

/// The complete application: routes, fallbacks and middleware, bound to its state.
pub fn router(mut state: AppState) -> Router {
    let (routes, doc) = routes_and_document();
    state.openapi = Bytes::from(doc.to_json().expect("the OpenAPI document serialises"));
    let config = state.config.clone();
    routes
        .nest_service("/mcp", mcp::service(state.clone()))
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // Innermost, so the handler runs in the request's usage-metering scope.
        .layer(middleware::from_fn(metered))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::rate_limit,
        ))
        .layer(DefaultBodyLimit::max(config.server.max_body_bytes))
        // The largest any route takes (uploads); `DefaultBodyLimit` keeps the rest at
        // `max_body_bytes`.
        .layer(RequestBodyLimitLayer::new(api::attachments::largest_body(
            &config,
        )))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.server.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(envelope_bare_errors))
        .layer(cors(&config.server))
        .layer(middleware::from_fn(metrics::record))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(middleware::from_fn(trace_context::trace_context))
        .layer(middleware::from_fn(request_id::request_id))
        .with_state(state)
}

/// Counts the request toward the workspace whose access it resolves (`services::usage`).
async fn metered(req: Request, next: Next) -> Response {
    crate::services::usage::metered(next.run(req)).await
}

/// One span per request with the id, the trace id and the route template, never the raw path
/// or query.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let id = req.extensions().get::<RequestId>().map(|r| r.0.as_str());
    let trace = req.extensions().get::<TraceId>().map(TraceId::as_str);
    tracing::info_span!("request", method = %req.method(), route, request_id = id, trace_id = trace)
}

/// A panicking handler becomes an opaque 500, logged once with the panic message.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "handler panicked");
    let body = envelope::error_body("internal_error", "internal server error", &[]);
    (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

/// Gives the envelope to error responses made outside our handlers (body limit, timeout),
/// keeping their headers.
async fn envelope_bare_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    // JSON errors are ours already; an HTML one is the console's "not found" page.
    let is_ours = response.headers().get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/json") || v.starts_with(b"text/html")
    });
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return response;
    }
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    let body = envelope::error_body(code_for_status(status), &message, &[]);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body.0.to_string()))
}

fn cors(config: &ServerConfig) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers(AnyOrigin)
        .expose_headers([
            X_REQUEST_ID.clone(),
            cached::X_CACHE.clone(),
            rate_limit::RATELIMIT_LIMIT.clone(),
            rate_limit::RATELIMIT_REMAINING.clone(),
            rate_limit::RATELIMIT_RESET.clone(),
            axum::http::header::RETRY_AFTER,
        ]);
    if config.cors_origins.iter().any(|o| o == "*") {
        return layer.allow_origin(AnyOrigin);
    }
    let origins: Vec<HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(origins))
}

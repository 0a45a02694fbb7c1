//! `/docs`: interactive API documentation (Swagger UI, vendored under `assets/swagger-ui/` and
//! compiled in) over this server's own `/openapi.json`. The page is not an API operation, so
//! it is routed beside the document rather than in it.

use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// The vendored version; part of the vendored assets' paths, so they can be cached for good.
const SWAGGER_UI: &str = "5.35.0";

/// Scripts and styles from this origin only; Swagger UI draws its icons from `data:` URLs and
/// sets element styles, and talks only to this server.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../../../assets/swagger-ui/index.html");
const BUNDLE: &str = include_str!("../../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &str = include_str!("../../../assets/swagger-ui/swagger-ui.css");
const INIT: &str = include_str!("../../../assets/swagger-ui/init.js");

pub fn routes() -> OpenApiRouter<AppState> {
    let asset = |path: &str| format!("/docs/assets/{SWAGGER_UI}/{path}");
    OpenApiRouter::new()
        .route(
            "/docs",
            get(|| async { page(INDEX, "text/html; charset=utf-8", "no-cache") }),
        )
        .route("/docs/", get(|| async { Redirect::permanent("/docs") }))
        .route(
            &asset("swagger-ui-bundle.js"),
            get(|| async { page(BUNDLE, "text/javascript; charset=utf-8", IMMUTABLE) }),
        )
        .route(
            &asset("swagger-ui.css"),
            get(|| async { page(CSS, "text/css; charset=utf-8", IMMUTABLE) }),
        )
        .route(
            &asset("init.js"),
            get(|| async { page(INIT, "text/javascript; charset=utf-8", "no-cache") }),
        )
        // 1.7 MB of script: gzip it for the browsers that ask (all of them).
        .layer(CompressionLayer::new())
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn page(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static(cache)),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response()
}

//! `/docs`: interactive API documentation (Swagger UI, vendored under `assets/swagger-ui/` and
//! compiled in) over this server's own `/openapi.json`. The page is not an API operation, so
//! it is routed beside the document rather than in it.

use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::http::static_files::{self, CSS as CSS_TYPE, HTML, IMMUTABLE, JAVASCRIPT, NO_CACHE};

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
        .route("/docs", get(|| async { page(INDEX, HTML, NO_CACHE) }))
        .route("/docs/", get(|| async { Redirect::permanent("/docs") }))
        .route(
            &asset("swagger-ui-bundle.js"),
            get(|| async { page(BUNDLE, JAVASCRIPT, IMMUTABLE) }),
        )
        .route(
            &asset("swagger-ui.css"),
            get(|| async { page(CSS, CSS_TYPE, IMMUTABLE) }),
        )
        .route(
            &asset("init.js"),
            get(|| async { page(INIT, JAVASCRIPT, NO_CACHE) }),
        )
        // 1.7 MB of script: gzip it for the browsers that ask (all of them).
        .layer(CompressionLayer::new())
}

fn page(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    static_files::respond(StatusCode::OK, body, content_type, cache, POLICY)
}

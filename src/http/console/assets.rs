//! The console's files, compiled in. Their paths carry a version made from their contents, so a
//! browser caches them for good and a new build is picked up by the next page load.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::domain::secret_token::sha256_hex;
use crate::http::error::ApiError;
use crate::http::static_files::{self, CSS, HTML, IMMUTABLE, JAVASCRIPT, NO_CACHE};

/// Scripts and styles from this origin only, never inline; fetches and sockets to this server
/// only; images from here or made in the page (file previews).
pub const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

macro_rules! console_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../assets/console/", $name)))),*]
    };
}

static FILES: &[(&str, &str)] = console_files!(
    "app.css",
    "main.js",
    "api.js",
    "dom.js",
    "router.js",
    "live.js",
    "auth.js",
    "workspaces.js",
    "board.js",
    "task.js",
    "search.js",
    "admin.js",
    "admin.css",
);

const INDEX: &str = include_str!("../../../assets/console/index.html");

/// The first 12 hex digits of the SHA-256 of every file.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let all: String = FILES.iter().map(|(_, body)| *body).collect();
    sha256_hex(&all)[..12].to_string()
});

/// The shell as a page (200) and as "not found" (404): the status is in the markup too, so the
/// script draws the page the server decided on.
static SHELLS: LazyLock<[String; 2]> = LazyLock::new(|| {
    let page = INDEX.replace("{{version}}", &VERSION);
    [
        page.replace("{{status}}", "200"),
        page.replace("{{status}}", "404"),
    ]
});

pub fn shell(status: StatusCode) -> Response {
    let body = if status == StatusCode::OK {
        &SHELLS[0]
    } else {
        &SHELLS[1]
    };
    static_files::respond(status, body.as_str(), HTML, NO_CACHE, POLICY)
}

pub async fn serve(Path((version, file)): Path<(String, String)>) -> Response {
    let found = FILES.iter().find(|(name, _)| *name == file);
    match found {
        Some((name, body)) if version == *VERSION => {
            let kind = if name.ends_with(".css") {
                CSS
            } else {
                JAVASCRIPT
            };
            static_files::respond(StatusCode::OK, *body, kind, IMMUTABLE, POLICY)
        }
        _ => ApiError::RouteNotFound.into_response(),
    }
}

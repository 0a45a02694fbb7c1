//! Task search: within a project, or across the projects of a workspace the caller may read.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::cache::Source;
use crate::error::AppResult;
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services::access::Actor;
use crate::services::list_cache;
use crate::services::search::{SearchFilters, SearchInput, SearchResults};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_project))
        .routes(routes!(search_workspace))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SearchBody {
    /// 1–500 characters. Words are matched by full text (the last one as a prefix) and by
    /// meaning.
    pub query: String,
    /// 1–100 (default 20).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `hybrid` (default), `text` or `semantic`.
    #[schema(value_type = Option<crate::domain::search_mode::SearchMode>)]
    pub mode: Option<String>,
    pub filters: Option<SearchFilters>,
}

impl SearchBody {
    fn input(&self) -> SearchInput<'_> {
        SearchInput {
            query: &self.query,
            limit: self.limit,
            mode: self.mode.as_deref(),
            filters: self.filters.as_ref(),
        }
    }
}

#[utoipa::path(post, path = "/v1/projects/{id}/search", tag = "search",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    request_body = SearchBody,
    responses(
        (status = 200, description = "Matching tasks, best first", body = Success<SearchResults>),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "Semantic mode while the embedder is unreachable", body = ErrorBody),
    ))]
pub async fn search_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Json(body): Json<SearchBody>,
) -> ApiResult<Response> {
    let (data, source) = cached_project_search(
        &state,
        &user.actor(),
        &project_id,
        &body.input(),
        "v1-search",
        |found| cached::to_json(&found),
    )
    .await?;
    Ok(cached::envelope(&data, source))
}

/// One project's search through the result cache (10 minutes; invalidated when the project's
/// tasks, its workspace or their embeddings change). Access is checked before the cache is
/// read; the key is the parsed query, so equivalent requests share an entry. `shape` turns
/// the results into the JSON a route stores, under `namespace`.
pub async fn cached_project_search(
    state: &AppState,
    actor: &Actor,
    project_id: &str,
    input: &SearchInput<'_>,
    namespace: &'static str,
    shape: impl FnOnce(SearchResults) -> AppResult<Vec<u8>>,
) -> ApiResult<(Bytes, Source)> {
    let lookup = list_cache::project_search(&state.cx, actor, project_id, namespace).await?;
    let query = state
        .search
        .system_scope(&actor.tenant_id, vec![project_id.to_string()], input)?;
    let key = cached::to_json(&query)?;
    let lookup = lookup.part(String::from_utf8_lossy(&key).as_ref());
    let found = state
        .cx
        .cache
        .fetch(&lookup, || async {
            shape(state.search.search(&query).await?)
        })
        .await?;
    Ok(found)
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/search", tag = "search",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = SearchBody,
    responses(
        (status = 200, description = "Matching tasks of the projects the caller may read, best first", body = Success<SearchResults>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "Semantic mode while the embedder is unreachable", body = ErrorBody),
    ))]
pub async fn search_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
    Json(body): Json<SearchBody>,
) -> ApiResult<Envelope<SearchResults>> {
    let query = state
        .search
        .workspace_scope(&user.actor(), &workspace_id, &body.input())
        .await?;
    Ok(Envelope::ok(state.search.search(&query).await?))
}

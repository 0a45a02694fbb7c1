//! Seed 000's `POST /api/search-tasks` (`{query, projectId}` → `{results}`), a thin adapter
//! over the hybrid search: ten results, as the seed asks its vector search for.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::api::search::cached_project_search;
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiResult;
use crate::http::extract::LenientJson;
use crate::services::search::{Matched, SearchInput, SearchResults};

/// The seed's result count.
const SEED_RESULTS: u32 = 10;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedSearch {
    pub query: String,
    #[serde(rename = "projectId")]
    pub project_id: String,
}

/// A found task in the seed's shape: its row (camelCase, epoch-ms times) and the match.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedSearchResult {
    pub id: String,
    #[serde(rename = "projectId")]
    pub project_id: String,
    pub title: String,
    pub description: Option<String>,
    /// Lower-case, as the seed shows it (`todo`).
    pub status: String,
    #[serde(rename = "assignedTo")]
    pub assigned_to: Option<String>,
    pub score: f64,
    pub matched: Matched,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedSearchResults {
    pub success: bool,
    pub results: Vec<SeedSearchResult>,
}

#[utoipa::path(post, path = "/api/search-tasks", tag = "seed",
    security(("session" = [])),
    request_body = SeedSearch,
    responses(
        (status = 200, description = "The ten best matches, best first", body = SeedSearchResults),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn seed_search_tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    LenientJson(body): LenientJson<SeedSearch>,
) -> ApiResult<Response> {
    let input = SearchInput {
        query: &body.query,
        limit: Some(SEED_RESULTS),
        ..SearchInput::default()
    };
    let (results, source) = cached_project_search(
        &state,
        &user.actor(),
        &body.project_id,
        &input,
        "seed000-search",
        |found| cached::to_json(&seed_results(found)),
    )
    .await?;
    // The seed's shape around the stored list, with `success` as on every seed answer.
    Ok(cached::wrap(
        &[br#"{"success":true,"results":"#, &results, b"}"],
        source,
    ))
}

fn seed_results(found: SearchResults) -> Vec<SeedSearchResult> {
    found
        .items
        .into_iter()
        .map(|hit| SeedSearchResult {
            id: hit.task.id,
            project_id: hit.task.project_id,
            title: hit.task.title,
            description: hit.task.description,
            status: hit.task.status.as_str().to_ascii_lowercase(),
            assigned_to: hit.task.assignee_id,
            score: hit.score,
            matched: hit.matched,
        })
        .collect()
}

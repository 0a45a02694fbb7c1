//! Workspace export and import: `POST /v1/workspaces/{id}/exports` (a job; 202),
//! `GET /v1/workspaces/{id}/exports/{export_id}` (state, progress, the download link) and
//! `…/download`; `POST /v1/imports` (an export archive, with the secret key: a job, 202) and
//! `GET /v1/imports/{id}`,
//! `POST /v1/projects/{id}/imports/csv` and `POST /v1/workspaces/{id}/imports/trello`.
//! Import bodies are the raw file, up to `transfer::limits` (not the JSON body limit).

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::http::auth::{CurrentUser, SecretKey};
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Path, Query};
use crate::services::transfer::export::{self, Export};
use crate::services::transfer::import::Ids;
use crate::services::transfer::queued::{self, ImportJob};
use crate::services::transfer::{self, ImportSummary, limits};

pub fn routes() -> OpenApiRouter<AppState> {
    let imports = OpenApiRouter::new()
        .routes(routes!(import_archive))
        .routes(routes!(import_csv))
        .routes(routes!(import_trello))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(imports)
        .routes(routes!(get_import))
        .routes(routes!(create_export))
        .routes(routes!(get_export))
        .routes(routes!(download_export))
}

/// The largest body an import route reads (`http::router`'s outer limit takes it into account).
pub const MAX_IMPORT_BODY: usize = limits::MAX_ARCHIVE_BYTES as usize;

async fn body(request: Request, limit: u64) -> ApiResult<Bytes> {
    axum::body::to_bytes(
        request.into_body(),
        usize::try_from(limit).unwrap_or(usize::MAX),
    )
    .await
    .map_err(|_| ApiError::PayloadTooLarge)
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/exports", tag = "transfer",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    responses((status = 202, description = "Queued; poll its state", body = Success<Export>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
) -> ApiResult<Response> {
    let export = export::request(
        &state.cx,
        &user.actor(),
        &workspace_id,
        &state.config.server.app_url,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Envelope::ok(export)).into_response())
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/exports/{export_id}", tag = "transfer",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), ("export_id" = String, Path, description = "Export id")),
    responses((status = 200, body = Success<Export>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((workspace_id, export_id)): Path<(String, String)>,
) -> ApiResult<Envelope<Export>> {
    let app_url = &state.config.server.app_url;
    Ok(Envelope::ok(
        export::status(&state.cx, &user.actor(), &workspace_id, &export_id, app_url).await?,
    ))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/exports/{export_id}/download", tag = "transfer",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), ("export_id" = String, Path, description = "Export id")),
    responses((status = 200, description = "The archive, a zip. Sent as `application/zip`; documented as `application/octet-stream` too, for generators that only know that name for bytes", content(("application/zip"), ("application/octet-stream"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`export_not_ready`", body = ErrorBody)))]
pub async fn download_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((workspace_id, export_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let download = export::download(
        &state.cx,
        &state.storage,
        &user.actor(),
        &workspace_id,
        &export_id,
    )
    .await?;
    Ok((
        [
            (CONTENT_TYPE, "application/zip".to_string()),
            (CONTENT_LENGTH, download.size.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", download.file_name),
            ),
        ],
        Body::from_stream(download.body),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveParams {
    /// Give every row a new id (a second copy) instead of keeping the archive's ids.
    #[serde(default)]
    pub remap_ids: bool,
}

#[utoipa::path(post, path = "/v1/imports", tag = "transfer",
    security(("secret_key" = [])),
    params(ArchiveParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A Kanri export archive (the zip's bytes; any content type is read as the archive; anything but a zip is 422 `validation_failed`)"),
    responses((status = 202, description = "Queued (a `workspace:import` job); poll its state", body = Success<ImportJob>),
        (status = 413, body = ErrorBody)))]
pub async fn import_archive(
    State(state): State<AppState>,
    key: SecretKey,
    Query(params): Query<ArchiveParams>,
    request: Request,
) -> ApiResult<Response> {
    let bytes = body(request, limits::MAX_ARCHIVE_BYTES).await?;
    let ids = if params.remap_ids {
        Ids::Remap
    } else {
        Ids::Keep
    };
    let job = queued::request(&state.cx, &state.storage, &key.0.tenant_id, bytes, ids).await?;
    Ok((StatusCode::ACCEPTED, Envelope::ok(job)).into_response())
}

#[utoipa::path(get, path = "/v1/imports/{id}", tag = "transfer",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Import id")),
    responses((status = 200, description = "`DONE` with the summary, or `FAILED` with the error: `import_conflict` (an id exists here: import with `remap_ids`) or `validation_failed` naming the file, line and column", body = Success<ImportJob>),
        (status = 404, body = ErrorBody)))]
pub async fn get_import(
    State(state): State<AppState>,
    key: SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<ImportJob>> {
    Ok(Envelope::ok(
        queued::status(&state.cx, &key.0.tenant_id, &id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvParams {
    /// `field=Column` pairs, comma-separated (`title=Summary,status=State,assignee=Owner`);
    /// fields: title, description, status, priority, type, assignee (an email), due_date,
    /// labels (`;`-separated names). Unnamed fields are found by their own name.
    #[serde(default)]
    pub mapping: String,
}

#[utoipa::path(post, path = "/v1/projects/{id}/imports/csv", tag = "transfer",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id"), CsvParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "CSV: a header line, then one task a record (send it as `text/csv` or any other type; the body is read as CSV)"),
    responses((status = 201, body = Success<ImportSummary>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, description = "The first bad record's line and field; nothing imported", body = ErrorBody)))]
pub async fn import_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Query(params): Query<CsvParams>,
    request: Request,
) -> ApiResult<Envelope<ImportSummary>> {
    let bytes = body(request, limits::MAX_SOURCE_BYTES).await?;
    let summary = transfer::import_csv_as(
        &state.cx,
        &user.actor(),
        &project_id,
        &bytes,
        &params.mapping,
    )
    .await?;
    Ok(Envelope::created(summary))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrelloParams {
    /// `List name=STATUS` pairs, comma-separated; other lists by their names ("Done" → DONE,
    /// "Doing"/"In progress"/"Review" → IN_PROGRESS, else TODO).
    #[serde(default)]
    pub lists: String,
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/imports/trello", tag = "transfer",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), TrelloParams),
    request_body(content = serde_json::Value, content_type = "application/json", description = "Trello's board JSON export"),
    responses((status = 201, description = "A new project with the board's cards", body = Success<ImportSummary>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_trello(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
    Query(params): Query<TrelloParams>,
    request: Request,
) -> ApiResult<Envelope<ImportSummary>> {
    let bytes = body(request, limits::MAX_SOURCE_BYTES).await?;
    let summary = transfer::import_trello_as(
        &state.cx,
        &user.actor(),
        &workspace_id,
        &bytes,
        &params.lists,
    )
    .await?;
    Ok(Envelope::created(summary))
}

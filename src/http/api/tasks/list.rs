//! A project's task list: the query parameters (filters, sort, cursor), their cache key, and
//! `GET /v1/projects/{id}/tasks` through the response cache.

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::cache::Lookup;
use crate::domain::permission;
use crate::error::AppError;
use crate::http::api::{Page, Success};
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiResult;
use crate::http::extract::{Path, Query};
use crate::http::pagination::PageParams;
use crate::services::list_cache;
use crate::services::task_list::{self, ListQuery, TaskCursor};
use crate::services::tasks::Task;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListParams {
    /// Items per page, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// position (default), due_date, priority, created_at, updated_at; prefix `-` for descending.
    pub sort: Option<String>,
    #[param(value_type = Option<crate::domain::enums::TaskStatus>)]
    pub status: Option<String>,
    pub assignee_id: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    #[param(value_type = Option<crate::domain::enums::TaskType>)]
    pub kind: Option<String>,
    #[param(value_type = Option<crate::domain::enums::Priority>)]
    pub priority: Option<String>,
    /// Tasks due before this time or date.
    pub due_before: Option<String>,
    pub due_after: Option<String>,
    /// Text the title or description contains (case-insensitive).
    pub q: Option<String>,
    /// Tasks carrying this label.
    pub label_id: Option<String>,
    /// Subtasks of this task.
    pub parent_id: Option<String>,
}

impl TaskListParams {
    pub fn query(&self) -> ListQuery<'_> {
        ListQuery {
            status: self.status.as_deref(),
            assignee_id: self.assignee_id.as_deref(),
            kind: self.kind.as_deref(),
            priority: self.priority.as_deref(),
            due_before: self.due_before.as_deref(),
            due_after: self.due_after.as_deref(),
            q: self.q.as_deref(),
            sort: self.sort.as_deref(),
            label_id: self.label_id.as_deref(),
            parent_id: self.parent_id.as_deref(),
        }
    }

    /// Adds every parameter that selects the page to a cache lookup (each as sent: two
    /// spellings of one query are two entries, never one entry for two queries).
    pub fn key_parts(&self, lookup: Lookup, limit: u32) -> Lookup {
        let Self {
            limit: _,
            cursor,
            sort,
            status,
            assignee_id,
            kind,
            priority,
            due_before,
            due_after,
            q,
            label_id,
            parent_id,
        } = self;
        [
            cursor,
            sort,
            status,
            assignee_id,
            kind,
            priority,
            due_before,
            due_after,
            q,
            label_id,
            parent_id,
        ]
        .into_iter()
        .fold(lookup.part(limit.to_string().as_str()), |l, p| {
            l.part(p.as_deref())
        })
    }

    pub fn page(&self) -> Result<(Option<TaskCursor>, u32), AppError> {
        let page = PageParams {
            limit: self.limit,
            cursor: None,
        };
        let cursor = self
            .cursor
            .as_deref()
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<TaskCursor>(&bytes).ok())
                    .ok_or_else(|| AppError::validation("cursor", "is not a valid cursor"))
            })
            .transpose()?;
        Ok((cursor, page.limit()?))
    }
}

pub fn encode_task_cursor(cursor: &TaskCursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("a cursor serialises"))
}

#[utoipa::path(get, path = "/v1/projects/{id}/tasks", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id"), TaskListParams),
    responses((status = 200, body = Success<Page<Task>>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Query(params): Query<TaskListParams>,
) -> ApiResult<Response> {
    let (actor, (cursor, limit)) = (user.actor(), params.page()?);
    let lookup = list_cache::task_list(
        &state.cx,
        &actor,
        &project_id,
        "v1-tasks",
        &[permission::TASKS_READ],
    )
    .await?;
    let lookup = params.key_parts(lookup, limit);
    let (data, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            let (items, next) = task_list::list(
                &state.cx,
                &actor,
                &project_id,
                &params.query(),
                cursor,
                limit,
            )
            .await?;
            cached::to_json(&Page {
                items,
                next_cursor: next.as_ref().map(encode_task_cursor),
            })
        })
        .await?;
    Ok(cached::envelope(&data, source))
}

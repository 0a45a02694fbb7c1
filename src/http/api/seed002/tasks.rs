//! Seed 002's task and comment lists: a project's tasks, each with its assignee and comments
//! (cached), and a task's comments, each with its author again as `user`.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::permission;
use crate::error::AppResult;
use crate::http::api::Success;
use crate::http::api::seed_lists::{SEED_LIST_CAP, all_comments, all_tasks};
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::Path;
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::comments::{self, Author, Comment};
use crate::services::list_cache;
use crate::services::tasks::Task;

/// Comments in one tasks-with-comments answer, across all its tasks (bounds its memory).
const COMMENTS_PER_RESPONSE: usize = 5_000;

/// A task with all its comments (each with its author), as seed 002 lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskWithComments {
    #[serde(flatten)]
    pub task: Task,
    pub comments: Vec<Comment>,
}

/// A comment with the seed's `user` field: its author again (`null` for a deleted account).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentWithUser {
    #[serde(flatten)]
    pub comment: Comment,
    pub user: Option<Author>,
}

#[utoipa::path(get, path = "/api/tasks/project/{projectId}/tasks", tag = "seed",
    security(("session" = [])),
    params(("projectId" = String, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project's tasks in board order (at most 1000), each with assignee and comments", body = Success<Vec<TaskWithComments>>),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_project_tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
) -> ApiResult<Response> {
    let actor = user.actor();
    let lookup = list_cache::task_list(
        &state.cx,
        &actor,
        &project_id,
        "seed002-tasks",
        &[permission::TASKS_READ, permission::COMMENTS_READ],
    )
    .await?;
    let (data, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            cached::to_json(&tasks_with_comments(&state.cx, &actor, &project_id).await?)
        })
        .await?;
    Ok(cached::envelope(&data, source))
}

/// Every task of the project (board order) with its comments, within the response's budgets:
/// at most [`SEED_LIST_CAP`] comments a task and [`COMMENTS_PER_RESPONSE`] in all, given to the
/// tasks in board order. Past the budget, tasks carry an empty list (their `comments_count`
/// still says how many there are).
///
/// The comments of all the tasks come in one query, with one access check: every task of the
/// list is of this one project. The tasks' counts say which of them the budget reaches, so only
/// their comments are read.
async fn tasks_with_comments(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
) -> AppResult<Vec<TaskWithComments>> {
    let tasks = all_tasks(cx, actor, project_id).await?;
    let mut planned = COMMENTS_PER_RESPONSE;
    let mut with_comments = Vec::new();
    for task in &tasks {
        if planned == 0 {
            break;
        }
        let count = usize::try_from(task.comments_count).unwrap_or(0);
        let take = count.min(SEED_LIST_CAP).min(planned);
        if take > 0 {
            with_comments.push(task.id.as_str());
            planned -= take;
        }
    }
    let per_task = u32::try_from(SEED_LIST_CAP).unwrap_or(u32::MAX);
    let mut by_task: HashMap<String, Vec<Comment>> = HashMap::new();
    for comment in comments::list_for_tasks(cx, actor, project_id, &with_comments, per_task).await?
    {
        by_task
            .entry(comment.task_id.clone())
            .or_default()
            .push(comment);
    }
    let mut budget = COMMENTS_PER_RESPONSE;
    Ok(tasks
        .into_iter()
        .map(|task| {
            let mut comments = by_task.remove(&task.id).unwrap_or_default();
            comments.truncate(budget.min(SEED_LIST_CAP));
            budget -= comments.len();
            TaskWithComments { task, comments }
        })
        .collect())
}

#[utoipa::path(get, path = "/api/comments/task/{taskId}/comments", tag = "seed",
    security(("session" = [])),
    params(("taskId" = String, Path, description = "Task id")),
    responses(
        (status = 200, description = "The task's comments, oldest first (at most 1000), each with its author as `user`", body = Success<Vec<CommentWithUser>>),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_task_comments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
) -> ApiResult<Envelope<Vec<CommentWithUser>>> {
    let comments = all_comments(&state.cx, &user.actor(), &task_id).await?;
    Ok(Envelope::ok(
        comments
            .into_iter()
            .map(|comment| CommentWithUser {
                user: comment.author.clone(),
                comment,
            })
            .collect(),
    ))
}

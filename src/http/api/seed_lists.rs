//! The lists the seeds return whole: read page by page through the same services as the v1
//! lists, and capped at [`SEED_LIST_CAP`] items.

use std::future::Future;

use crate::error::AppResult;
use crate::http::pagination::MAX_LIMIT;
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::comments::{self, Comment};
use crate::services::projects::{self, Project};
use crate::services::task_list::{self, ListQuery};
use crate::services::tasks::Task;
use crate::services::workspaces::{self, Workspace};

/// The most items a whole-list seed route returns.
pub const SEED_LIST_CAP: usize = 1000;

/// Every item `page` yields, from the first page to the last or until `cap` items are in.
async fn whole<T, C, F, Fut>(cap: usize, mut page: F) -> AppResult<Vec<T>>
where
    F: FnMut(Option<C>) -> Fut,
    Fut: Future<Output = AppResult<(Vec<T>, Option<C>)>>,
{
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (items, next) = page(after.take()).await?;
        all.extend(items);
        match next {
            Some(next) if all.len() < cap => after = Some(next),
            _ => break,
        }
    }
    all.truncate(cap);
    Ok(all)
}

/// Every workspace the caller belongs to, with their role (not capped).
pub async fn all_workspaces(cx: &Ctx, actor: &Actor) -> AppResult<Vec<Workspace>> {
    whole(usize::MAX, |after: Option<String>| async move {
        workspaces::list_mine(cx, actor, after.as_deref(), MAX_LIMIT).await
    })
    .await
}

/// The workspace's projects the caller may see.
pub async fn all_projects(cx: &Ctx, actor: &Actor, workspace_id: &str) -> AppResult<Vec<Project>> {
    whole(SEED_LIST_CAP, |after: Option<String>| async move {
        projects::list(cx, actor, workspace_id, after.as_deref(), MAX_LIMIT).await
    })
    .await
}

/// The project's tasks in board order.
pub async fn all_tasks(cx: &Ctx, actor: &Actor, project_id: &str) -> AppResult<Vec<Task>> {
    whole(SEED_LIST_CAP, |cursor| async move {
        task_list::list(
            cx,
            actor,
            project_id,
            &ListQuery::default(),
            cursor,
            MAX_LIMIT,
        )
        .await
    })
    .await
}

/// The task's comments, oldest first.
pub async fn all_comments(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<Vec<Comment>> {
    whole(SEED_LIST_CAP, |after: Option<String>| async move {
        comments::list(cx, actor, task_id, after.as_deref(), MAX_LIMIT).await
    })
    .await
}

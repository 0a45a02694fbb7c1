//! Comments on tasks: members write them, authors edit and delete their own, moderators
//! (admins) may delete any.

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db;
use crate::db::comments::{CommentRow, CommentWithAuthor};
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::domain::task::parse_text;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::access::{Actor, ProjectAccess};
use crate::services::tasks::{in_project, task_access};
use crate::services::{Ctx, page};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Author {
    pub id: String,
    pub name: String,
    pub email: String,
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comment {
    pub id: String,
    pub task_id: String,
    pub content: String,
    pub author_id: Option<String>,
    /// `null` when the author's account was deleted.
    pub author: Option<Author>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CommentWithAuthor> for Comment {
    fn from(c: CommentWithAuthor) -> Self {
        let author = match (&c.comment.author_id, c.author_name, c.author_email) {
            (Some(id), Some(name), Some(email)) => Some(Author {
                id: id.clone(),
                name,
                email,
                image_url: c.author_image_url,
            }),
            _ => None,
        };
        Self {
            id: c.comment.id,
            task_id: c.comment.task_id,
            content: c.comment.content,
            author_id: c.comment.author_id,
            author,
            created_at: to_rfc3339(c.comment.created_at),
            updated_at: to_rfc3339(c.comment.updated_at),
        }
    }
}

fn parse_content(content: &str) -> AppResult<String> {
    Ok(parse_text("content", content, true)?.expect("required text is present"))
}

pub async fn create(cx: &Ctx, actor: &Actor, task_id: &str, content: &str) -> AppResult<Comment> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::COMMENTS_CREATE)?;
    let content = parse_content(content)?;
    let now = now_ms();
    let row = CommentRow {
        id: new_id(),
        task_id: task_id.to_string(),
        author_id: Some(actor.user_id.clone()),
        content,
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin_as(actor).await?;
    db::comments::insert(&mut *tx, &actor.tenant_id, &row).await?;
    tx.record(DomainEvent::CommentCreated {
        at: in_project(&access),
        comment_id: row.id.clone(),
        task_id: task_id.to_string(),
    });
    tx.commit().await?;
    load(cx, &actor.tenant_id, &row.id).await
}

async fn load(cx: &Ctx, tenant_id: &str, id: &str) -> AppResult<Comment> {
    db::comments::find(cx.db.read(), tenant_id, id)
        .await?
        .map(Comment::from)
        .ok_or(AppError::NotFound("comment"))
}

pub async fn list(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
    after: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Comment>, Option<String>)> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::COMMENTS_READ)?;
    let rows = db::comments::list_page(
        cx.db.read(),
        &actor.tenant_id,
        task_id,
        after,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.comment.id.clone());
    Ok((rows.into_iter().map(Comment::from).collect(), next))
}

/// The comment and the caller's standing in its project; not found when invisible.
async fn comment_access(
    cx: &Ctx,
    actor: &Actor,
    comment_id: &str,
) -> AppResult<(CommentWithAuthor, ProjectAccess)> {
    let comment = db::comments::find(cx.db.read(), &actor.tenant_id, comment_id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    let (_, access) = task_access(cx, actor, &comment.comment.task_id)
        .await
        .map_err(|e| e.not_found_as("comment"))?;
    Ok((comment, access))
}

/// Only the author may edit a comment.
pub async fn edit(cx: &Ctx, actor: &Actor, comment_id: &str, content: &str) -> AppResult<Comment> {
    let (comment, access) = comment_access(cx, actor, comment_id).await?;
    if comment.comment.author_id.as_deref() != Some(actor.user_id.as_str()) {
        return Err(AppError::Forbidden("only the author can edit a comment"));
    }
    let content = parse_content(content)?;
    let mut tx = cx.begin_as(actor).await?;
    db::comments::update_content(&mut *tx, &actor.tenant_id, comment_id, &content, now_ms())
        .await?;
    tx.record(DomainEvent::CommentUpdated {
        at: in_project(&access),
        comment_id: comment_id.to_string(),
        task_id: comment.comment.task_id,
    });
    tx.commit().await?;
    load(cx, &actor.tenant_id, comment_id).await
}

/// The author, or anyone who may moderate comments (admins), may delete a comment.
pub async fn delete(cx: &Ctx, actor: &Actor, comment_id: &str) -> AppResult<()> {
    let (comment, access) = comment_access(cx, actor, comment_id).await?;
    let is_author = comment.comment.author_id.as_deref() == Some(actor.user_id.as_str());
    if !is_author {
        access.require(permission::COMMENTS_MODERATE)?;
    }
    let mut tx = cx.begin_as(actor).await?;
    db::comments::delete(&mut *tx, &actor.tenant_id, comment_id).await?;
    tx.record(DomainEvent::CommentDeleted {
        at: in_project(&access),
        comment_id: comment_id.to_string(),
        task_id: comment.comment.task_id,
    });
    tx.commit().await?;
    Ok(())
}

/// The comments of several of a project's tasks (at most `per_task` each, oldest first,
/// ordered by task), with one access check for the project and one query in all. Comments of
/// tasks outside the project are not returned.
pub async fn list_for_tasks(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    task_ids: &[&str],
    per_task: u32,
) -> AppResult<Vec<Comment>> {
    let access = crate::services::access::project_access(cx, actor, project_id).await?;
    access.require(permission::COMMENTS_READ)?;
    let rows = db::comments::list_for_tasks(
        cx.db.read(),
        &actor.tenant_id,
        project_id,
        task_ids,
        i64::from(per_task),
    )
    .await?;
    Ok(rows.into_iter().map(Comment::from).collect())
}

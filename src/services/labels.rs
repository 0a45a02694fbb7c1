//! Workspace labels: members create and edit them (`labels:manage`), everyone who can read the
//! workspace sees them; tasks carry them (`TaskInput::label_ids`).

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::labels::LabelRow;
use crate::db::{self, is_unique_violation};
use crate::domain::Validator;
use crate::domain::event::DomainEvent;
use crate::domain::label::{DEFAULT_COLOR, parse_color, parse_name};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor};

/// Labels one workspace may define.
pub const MAX_PER_WORKSPACE: i64 = 500;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Label {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<LabelRow> for Label {
    fn from(l: LabelRow) -> Self {
        Self {
            id: l.id,
            workspace_id: l.workspace_id,
            name: l.name,
            color: l.color,
            created_at: to_rfc3339(l.created_at),
            updated_at: to_rfc3339(l.updated_at),
        }
    }
}

fn name_taken() -> AppError {
    AppError::Conflict {
        code: "label_exists",
        message: "the workspace already has a label with this name".into(),
    }
}

pub async fn list(cx: &Ctx, actor: &Actor, workspace_id: &str) -> AppResult<Vec<Label>> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::WORKSPACE_READ)?;
    let rows = db::labels::list(cx.db.read(), &actor.tenant_id, workspace_id).await?;
    Ok(rows.into_iter().map(Label::from).collect())
}

pub async fn create(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    name: &str,
    color: Option<&str>,
) -> AppResult<Label> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::LABELS_MANAGE)?;
    let mut v = Validator::default();
    let name = v.field(parse_name("name", name));
    let color = v.field(parse_color("color", color.unwrap_or(DEFAULT_COLOR)));
    v.finish()?;
    let (name, color) = (name.expect("validated"), color.expect("validated"));
    let now = now_ms();
    let row = LabelRow {
        id: new_id(),
        workspace_id: workspace_id.to_string(),
        name,
        color,
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin_as(actor).await?;
    if db::labels::count(&mut *tx, workspace_id).await? >= MAX_PER_WORKSPACE {
        return Err(AppError::Conflict {
            code: "too_many_labels",
            message: format!("a workspace holds at most {MAX_PER_WORKSPACE} labels"),
        });
    }
    match db::labels::insert(&mut *tx, &actor.tenant_id, &row).await {
        Err(e) if is_unique_violation(&e) => return Err(name_taken()),
        other => other?,
    }
    tx.record(DomainEvent::LabelCreated {
        workspace_id: workspace_id.to_string(),
        label_id: row.id.clone(),
        name: row.name.clone(),
        color: row.color.clone(),
    });
    let label = Label::from(row);
    tx.created(&label)?;
    tx.commit().await?;
    Ok(label)
}

/// The label and the caller's standing in its workspace; not found when invisible.
async fn label_access(
    cx: &Ctx,
    actor: &Actor,
    label_id: &str,
) -> AppResult<(LabelRow, access::WorkspaceAccess)> {
    let label = db::labels::find(cx.db.read(), &actor.tenant_id, label_id)
        .await?
        .ok_or(AppError::NotFound("label"))?;
    let access = access::workspace_access(cx, actor, &label.workspace_id)
        .await
        .map_err(|e| e.not_found_as("label"))?;
    Ok((label, access))
}

pub async fn update(
    cx: &Ctx,
    actor: &Actor,
    label_id: &str,
    name: Option<&str>,
    color: Option<&str>,
) -> AppResult<Label> {
    let (label, access) = label_access(cx, actor, label_id).await?;
    access.require(permission::LABELS_MANAGE)?;
    let mut v = Validator::default();
    let name = name.map(|n| v.field(parse_name("name", n)));
    let color = color.map(|c| v.field(parse_color("color", c)));
    v.finish()?;
    let name = name.flatten().unwrap_or(label.name);
    let color = color.flatten().unwrap_or(label.color);
    let mut tx = cx.begin_as(actor).await?;
    match db::labels::update(
        &mut *tx,
        &actor.tenant_id,
        label_id,
        &name,
        &color,
        now_ms(),
    )
    .await
    {
        Err(e) if is_unique_violation(&e) => return Err(name_taken()),
        Ok(false) => return Err(AppError::NotFound("label")),
        other => other?,
    };
    tx.record(DomainEvent::LabelUpdated {
        workspace_id: label.workspace_id.clone(),
        label_id: label_id.to_string(),
        name,
        color,
    });
    let updated = db::labels::find(&mut *tx, &actor.tenant_id, label_id)
        .await?
        .map(Label::from)
        .ok_or(AppError::NotFound("label"))?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the label; the tasks that carried it lose it.
pub async fn delete(cx: &Ctx, actor: &Actor, label_id: &str) -> AppResult<()> {
    let (label, access) = label_access(cx, actor, label_id).await?;
    access.require(permission::LABELS_MANAGE)?;
    let mut tx = cx.begin_as(actor).await?;
    if !db::labels::delete(&mut *tx, &actor.tenant_id, label_id).await? {
        return Err(AppError::NotFound("label"));
    }
    tx.record(DomainEvent::LabelDeleted {
        workspace_id: label.workspace_id,
        label_id: label_id.to_string(),
        name: label.name,
    });
    tx.commit().await
}

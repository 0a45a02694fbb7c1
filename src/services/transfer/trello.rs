//! A Trello board's JSON export ("Menu → Print, export and share → Export as JSON") into a
//! new project: open lists become statuses (by a mapping, else by their names), open cards
//! tasks (name, desc, due, labels), checklist items subtasks (done when complete), and
//! `commentCard` actions comments (with the Trello author's name, since Trello members are not
//! Kanri users). Archived lists and cards are left out.

use std::collections::HashMap;

use serde::Deserialize;

use super::drafts::{self, Draft, DraftComment, Target};
use super::{ImportSource, ImportSummary, limits};
use crate::clock::{now_ms, parse_time};
use crate::db;
use crate::db::projects::ProjectRow;
use crate::domain::FieldError;
use crate::domain::enums::{Priority, ProjectStatus, TaskStatus};
use crate::domain::event::DomainEvent;
use crate::domain::task::{Title, parse_text};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;

#[derive(Debug, Deserialize)]
pub struct Board {
    pub name: String,
    #[serde(default)]
    pub lists: Vec<List>,
    #[serde(default)]
    pub cards: Vec<Card>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub checklists: Vec<Checklist>,
    #[serde(default)]
    pub actions: Vec<Action>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub closed: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub desc: String,
    pub id_list: String,
    #[serde(default)]
    pub id_labels: Vec<String>,
    #[serde(default)]
    pub closed: bool,
    pub due: Option<String>,
    #[serde(default)]
    pub pos: f64,
}

#[derive(Debug, Deserialize)]
pub struct Label {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub color: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checklist {
    pub id_card: String,
    #[serde(default)]
    pub check_items: Vec<CheckItem>,
}

#[derive(Debug, Deserialize)]
pub struct CheckItem {
    pub name: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub pos: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: String,
    pub date: Option<String>,
    #[serde(default)]
    pub data: ActionData,
    pub member_creator: Option<Member>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionData {
    pub text: Option<String>,
    pub card: Option<CardRef>,
}

#[derive(Debug, Deserialize)]
pub struct CardRef {
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub full_name: Option<String>,
    pub username: Option<String>,
}

/// Trello's label colours as `#rrggbb`.
fn color(name: Option<&str>) -> String {
    let base = name.unwrap_or("").split('_').next().unwrap_or("");
    match base {
        "green" => "#61bd4f",
        "yellow" => "#f2d600",
        "orange" => "#ff9f1a",
        "red" => "#eb5a46",
        "purple" => "#c377e0",
        "blue" => "#0079bf",
        "sky" => "#00c2e0",
        "lime" => "#51e898",
        "pink" => "#ff78cb",
        "black" => "#344563",
        _ => crate::domain::label::DEFAULT_COLOR,
    }
    .to_string()
}

/// A list's status by its name when no mapping names it.
pub fn status_by_name(list: &str) -> TaskStatus {
    let name = list.to_lowercase();
    if ["done", "complete", "finished", "shipped", "closed"]
        .iter()
        .any(|w| name.contains(w))
    {
        TaskStatus::Done
    } else if ["doing", "progress", "review", "started", "working"]
        .iter()
        .any(|w| name.contains(w))
    {
        TaskStatus::InProgress
    } else {
        TaskStatus::Todo
    }
}

/// `To Do=TODO,Doing=IN_PROGRESS`: list name → status.
pub fn parse_lists(input: &str) -> Result<HashMap<String, TaskStatus>, FieldError> {
    let mut out = HashMap::new();
    for pair in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (list, status) = pair
            .rsplit_once('=')
            .ok_or_else(|| FieldError::new("lists", format!("{pair:?} is not List=STATUS")))?;
        out.insert(
            list.trim().to_lowercase(),
            TaskStatus::parse("lists", status)?,
        );
    }
    Ok(out)
}

/// The board as drafts (cards, then each card's checklist items right after it) and the new
/// labels' colours.
pub fn plan(
    board: &Board,
    lists: &HashMap<String, TaskStatus>,
) -> Result<(Vec<Draft>, HashMap<String, String>), FieldError> {
    let statuses: HashMap<&str, (usize, TaskStatus)> = board
        .lists
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.closed)
        .map(|(i, l)| {
            let status = lists
                .get(&l.name.trim().to_lowercase())
                .copied()
                .unwrap_or_else(|| status_by_name(&l.name));
            (l.id.as_str(), (i, status))
        })
        .collect();
    let labels: HashMap<&str, &Label> = board.labels.iter().map(|l| (l.id.as_str(), l)).collect();
    let label_name = |l: &Label| {
        if l.name.trim().is_empty() {
            l.color.clone().unwrap_or_else(|| "label".into())
        } else {
            l.name.trim().to_string()
        }
    };
    let colors = board
        .labels
        .iter()
        .map(|l| (label_name(l).to_lowercase(), color(l.color.as_deref())))
        .collect();
    let mut comments: HashMap<&str, Vec<DraftComment>> = HashMap::new();
    for action in board.actions.iter().filter(|a| a.kind == "commentCard") {
        let (Some(card), Some(text)) = (&action.data.card, &action.data.text) else {
            continue;
        };
        let who = action
            .member_creator
            .as_ref()
            .and_then(|m| m.full_name.clone().or_else(|| m.username.clone()))
            .unwrap_or_else(|| "someone".into());
        let content =
            parse_text("comment", &format!("{who} (on Trello): {text}"), true)?.unwrap_or_default();
        let created_at = action
            .date
            .as_deref()
            .and_then(|d| parse_time("date", d).ok());
        comments
            .entry(card.id.as_str())
            .or_default()
            .push(DraftComment {
                content,
                created_at,
            });
    }
    let mut cards: Vec<&Card> = board
        .cards
        .iter()
        .filter(|c| !c.closed && statuses.contains_key(c.id_list.as_str()))
        .collect();
    cards.sort_by(|a, b| {
        let (la, lb) = (
            statuses[a.id_list.as_str()].0,
            statuses[b.id_list.as_str()].0,
        );
        la.cmp(&lb).then(a.pos.total_cmp(&b.pos))
    });
    if cards.len() as u64 > limits::MAX_ROWS {
        return Err(FieldError::new(
            "cards",
            format!("more than {} cards", limits::MAX_ROWS),
        ));
    }
    let mut drafts = Vec::new();
    for card in cards {
        let origin = format!("card {}", card.id);
        let title = Title::parse(&format!("{origin}, name"), &card.name)?;
        let mut d = Draft::new(origin.clone(), title.as_str().to_string());
        d.description = parse_text(&format!("{origin}, desc"), &card.desc, false)?;
        d.status = statuses[card.id_list.as_str()].1;
        d.priority = Priority::Medium;
        d.due_date = match card.due.as_deref() {
            Some(due) => Some(parse_time(&format!("{origin}, due"), due)?),
            None => None,
        };
        d.labels = card
            .id_labels
            .iter()
            .filter_map(|id| labels.get(id.as_str()).map(|l| label_name(l)))
            .collect();
        let mut card_comments = comments.remove(card.id.as_str()).unwrap_or_default();
        // Trello lists actions newest first.
        card_comments.sort_by_key(|c| c.created_at);
        d.comments = card_comments;
        let parent = drafts.len();
        drafts.push(d);
        let mut items: Vec<&CheckItem> = board
            .checklists
            .iter()
            .filter(|c| c.id_card == card.id)
            .flat_map(|c| &c.check_items)
            .collect();
        items.sort_by(|a, b| a.pos.total_cmp(&b.pos));
        for item in items {
            let title = Title::parse(&format!("{origin}, checklist item"), &item.name)?;
            let mut sub = Draft::new(origin.clone(), title.as_str().to_string());
            sub.parent = Some(parent);
            if item.state == "complete" {
                sub.status = TaskStatus::Done;
            }
            drafts.push(sub);
        }
    }
    Ok((drafts, colors))
}

/// Imports the board into a new project of `workspace_id` (access already checked, or the
/// operator); `created_by` leads it and joins it.
pub async fn import(
    cx: &Ctx,
    tenant_id: &str,
    workspace_id: &str,
    created_by: Option<&str>,
    bytes: &[u8],
    lists: &HashMap<String, TaskStatus>,
) -> AppResult<ImportSummary> {
    if bytes.len() as u64 > limits::MAX_SOURCE_BYTES {
        return Err(AppError::validation(
            "file",
            format!("is larger than {} bytes", limits::MAX_SOURCE_BYTES),
        ));
    }
    let board: Board = serde_json::from_slice(bytes).map_err(|e| {
        AppError::validation(
            &format!("line {}", e.line()),
            format!("is not a Trello board export: {e}"),
        )
    })?;
    let (drafts, colors) = plan(&board, lists).map_err(|e| AppError::Validation(vec![e]))?;
    let name = Title::parse("name", &board.name).map_err(|e| AppError::Validation(vec![e]))?;
    let now = now_ms();
    let project = ProjectRow {
        id: new_id(),
        tenant_id: tenant_id.to_string(),
        workspace_id: workspace_id.to_string(),
        name: name.as_str().chars().take(200).collect(),
        description: Some("Imported from Trello".into()),
        status: ProjectStatus::Active,
        priority: Priority::Medium,
        start_date: None,
        end_date: None,
        team_lead_id: created_by.map(str::to_string),
        created_by: created_by.map(str::to_string),
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin(tenant_id, created_by).await?;
    // A new project counts against the plan like any other.
    crate::services::quotas::reserve(
        &mut tx,
        tenant_id,
        workspace_id,
        crate::domain::billing::Resource::Projects,
        1,
    )
    .await?;
    db::projects::insert(&mut *tx, &project).await?;
    if let Some(user) = created_by {
        db::project_members::insert(&mut *tx, tenant_id, &project.id, user, now).await?;
    }
    let target = Target {
        tenant_id,
        workspace_id,
        project_id: &project.id,
        created_by,
    };
    let written = drafts::write(&mut tx, &target, &drafts, &colors).await?;
    tx.record(DomainEvent::WorkspaceImported {
        workspace_id: workspace_id.to_string(),
        project_id: Some(project.id.clone()),
        project_created: true,
        source: ImportSource::Trello.as_str(),
        tasks: written.task_ids.len() as u64,
    });
    tx.commit().await?;
    Ok(ImportSummary {
        workspace_id: workspace_id.to_string(),
        project_id: Some(project.id),
        counts: [
            ("tasks".to_string(), written.task_ids.len() as u64),
            ("comments".to_string(), written.comments),
            ("labels_created".to_string(), written.labels_created),
        ]
        .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_map_by_mapping_then_by_name() {
        assert_eq!(status_by_name("Done ✅"), TaskStatus::Done);
        assert_eq!(status_by_name("Doing"), TaskStatus::InProgress);
        assert_eq!(status_by_name("Backlog"), TaskStatus::Todo);
        let m = parse_lists("Backlog=DONE, QA = in progress").unwrap();
        assert_eq!(m["backlog"], TaskStatus::Done);
        assert_eq!(m["qa"], TaskStatus::InProgress);
        assert!(parse_lists("Backlog=LATER").is_err());
    }
}

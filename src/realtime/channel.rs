//! Channels: their names, which events belong to each, and who may read them.

use std::fmt;

use crate::db::activity::{ChannelColumn, FeedRow};
use crate::domain::event::EventKind;
use crate::domain::permission;
use crate::error::AppError;
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::services::tasks;

/// Ids are UUIDs; anything longer than this is not one of ours.
const MAX_ID_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Channel {
    Project(String),
    Task(String),
    User(String),
}

impl Channel {
    /// `project/{id}`, `task/{id}` or `user/{id}`; ids of letters, digits, `-` and `_`.
    pub fn parse(name: &str) -> Option<Self> {
        let (kind, id) = name.split_once('/')?;
        let id_ok = !id.is_empty()
            && id.len() <= MAX_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return None;
        }
        let id = id.to_string();
        match kind {
            "project" => Some(Self::Project(id)),
            "task" => Some(Self::Task(id)),
            "user" => Some(Self::User(id)),
            _ => None,
        }
    }

    /// The activity column that selects this channel's events, and its value.
    pub fn selector(&self) -> (ChannelColumn, &str) {
        match self {
            Self::Project(id) => (ChannelColumn::Project, id),
            Self::Task(id) => (ChannelColumn::Task, id),
            Self::User(id) => (ChannelColumn::User, id),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Project(id) => write!(f, "project/{id}"),
            Self::Task(id) => write!(f, "task/{id}"),
            Self::User(id) => write!(f, "user/{id}"),
        }
    }
}

/// The channels an event is published on. These are the rows `channel_after` finds for each
/// channel, so a resumed subscription sees what a live one would have; the one exception is
/// `project.deleted`, kept at workspace level, which a deleted project cannot be resumed for.
pub fn routes(row: &FeedRow) -> Vec<Channel> {
    let mut out = Vec::with_capacity(3);
    if let Some(p) = &row.project_id {
        out.push(Channel::Project(p.clone()));
    } else if EventKind::from_wire(&row.kind) == Some(EventKind::ProjectDeleted) {
        out.push(Channel::Project(row.subject_id.clone()));
    }
    if let Some(t) = &row.task_id {
        out.push(Channel::Task(t.clone()));
    }
    if let Some(u) = &row.user_id {
        out.push(Channel::User(u.clone()));
    }
    out
}

/// Whose access an event may have changed, so their subscriptions are checked again after it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recheck {
    /// Every connection of this user.
    pub user: Option<String>,
    /// Every connection subscribed to this channel.
    pub channel: Option<Channel>,
}

pub fn recheck_after(row: &FeedRow) -> Recheck {
    use EventKind as K;
    let Some(kind) = EventKind::from_wire(&row.kind) else {
        // Written by a newer version: the 60 s re-check covers it.
        return Recheck::default();
    };
    match kind {
        K::MemberRemoved | K::MemberLeft | K::MemberRoleChanged | K::ProjectMemberRemoved => {
            Recheck {
                user: Some(row.subject_id.clone()),
                channel: None,
            }
        }
        // A deleted project's own events are deleted with it, so this one (kept at workspace
        // level) names the project only as its subject.
        K::ProjectDeleted | K::ProjectUpdated => Recheck {
            user: None,
            channel: Some(Channel::Project(row.subject_id.clone())),
        },
        K::TaskDeleted => Recheck {
            user: None,
            channel: Some(Channel::Task(row.subject_id.clone())),
        },
        // A deleted user's sessions went with them; a changed password ended them.
        K::UserDeleted | K::UserPasswordChanged => Recheck {
            user: Some(row.subject_id.clone()),
            channel: None,
        },
        K::TaskCreated
        | K::TaskUpdated
        | K::TaskAssigned
        | K::TaskMoved
        | K::TaskUnassigned
        | K::TaskRelationAdded
        | K::TaskRelationRemoved
        | K::TimeEntryCreated
        | K::TimeEntryStopped
        | K::TimeEntryDeleted
        | K::LabelCreated
        | K::LabelUpdated
        | K::LabelDeleted
        | K::CommentCreated
        | K::CommentUpdated
        | K::CommentDeleted
        | K::AttachmentCreated
        | K::AttachmentDeleted
        | K::ProjectCreated
        | K::ProjectArchived
        | K::ProjectUnarchived
        | K::ProjectMemberAdded
        | K::MemberAdded
        | K::InvitationCreated
        | K::InvitationRevoked
        | K::InvitationAccepted
        | K::InvitationRejected
        | K::WorkspaceCreated
        | K::WorkspaceUpdated
        | K::WorkspaceDeleted
        | K::WorkspaceExported
        | K::WorkspaceImported
        | K::RoleCreated
        | K::RoleUpdated
        | K::RoleDeleted
        | K::KeyCreated
        | K::KeyRevoked
        | K::UserCreated
        | K::UserUpdated
        | K::UserTwoFactorEnabled
        | K::UserTwoFactorDisabled
        | K::UserRecoveryCodesRegenerated
        | K::WebhookCreated
        | K::WebhookUpdated
        | K::WebhookDeleted
        | K::WebhookDisabled
        | K::PlanCreated
        | K::PlanUpdated
        | K::PlanDeleted
        | K::SubscriptionUpdated => Recheck::default(),
    }
}

/// Why a channel may not be read, as an error frame's `code` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// May `actor` read `channel`? Invisible is `not_found`, as everywhere in the API; visible but
/// not readable (a custom role without `tasks:read`) is `forbidden`. `Err(Err(_))` is a
/// failure to find out (the database), which is not a refusal.
pub async fn check(
    cx: &Ctx,
    actor: &Actor,
    channel: &Channel,
) -> Result<(), Result<Refusal, AppError>> {
    let outcome = match channel {
        Channel::Project(id) => match access::project_access(cx, actor, id).await {
            Ok(a) => a.require(permission::TASKS_READ),
            Err(e) => Err(e),
        },
        Channel::Task(id) => match tasks::task_access(cx, actor, id).await {
            Ok((_, a)) => a.require(permission::TASKS_READ),
            Err(e) => Err(e),
        },
        Channel::User(id) if *id == actor.user_id => Ok(()),
        Channel::User(_) => Err(AppError::NotFound("user")),
    };
    match outcome {
        Ok(()) => Ok(()),
        Err(AppError::NotFound(_)) => Err(Ok(Refusal {
            code: "not_found",
            message: format!("{channel} not found"),
        })),
        Err(AppError::Forbidden(m)) => Err(Ok(Refusal {
            code: "forbidden",
            message: m.to_string(),
        })),
        Err(e) => Err(Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, project: Option<&str>, task: Option<&str>, user: Option<&str>) -> FeedRow {
        FeedRow {
            id: 1,
            tenant_id: "t".into(),
            workspace_id: Some("w".into()),
            project_id: project.map(Into::into),
            actor_id: None,
            kind: kind.into(),
            subject_type: "user".into(),
            subject_id: "s".into(),
            payload: "{}".into(),
            task_id: task.map(Into::into),
            user_id: user.map(Into::into),
            created_at: 0,
        }
    }

    #[test]
    fn names_round_trip_and_bad_ones_are_refused() {
        for name in ["project/01abc-DEF_9", "task/x", "user/u-1"] {
            assert_eq!(Channel::parse(name).unwrap().to_string(), name);
        }
        let long = format!("project/{}", "a".repeat(65));
        for bad in [
            "project/",
            "project",
            "board/1",
            "project/a/b",
            "task/a b",
            long.as_str(),
        ] {
            assert_eq!(Channel::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_event_goes_to_its_project_task_and_user() {
        let r = row("task.assigned", Some("p"), Some("t"), Some("u"));
        assert_eq!(
            routes(&r),
            [
                Channel::Project("p".into()),
                Channel::Task("t".into()),
                Channel::User("u".into())
            ]
        );
        assert!(routes(&row("workspace.updated", None, None, None)).is_empty());
    }

    #[test]
    fn membership_and_deletion_events_trigger_rechecks() {
        let removed = recheck_after(&row("member.removed", None, None, Some("s")));
        assert_eq!(removed.user.as_deref(), Some("s"));
        let deleted = recheck_after(&row("project.deleted", None, None, None));
        assert_eq!(deleted.channel, Some(Channel::Project("s".into())));
        assert_eq!(
            recheck_after(&row("task.created", Some("p"), None, None)),
            Recheck::default()
        );
    }
}

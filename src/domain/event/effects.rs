//! The jobs an event implies, enqueued in the same transaction as the change. Plain functions
//! of the event, so they are tested without a database.

use super::{Detached, DomainEvent, TaskChange};

/// A job a change implies, enqueued in the same transaction as the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// (Re-)embed the task for semantic search.
    Embed { task_id: String },
    /// Email the new assignee; `event_id` is the causing event's, filled in at commit.
    AssignmentEmail {
        task_id: String,
        assignee_id: String,
    },
    /// Move the task's due-date reminder from one date to another.
    Reminder {
        task_id: String,
        from: Option<i64>,
        to: Option<i64>,
    },
    /// Email an invitation.
    InvitationEmail { invitation_id: String },
    /// Delete the stored bytes of files marked deleted (`cause` names why, for its dedupe key).
    PurgeFiles { cause: String },
}

impl DomainEvent {
    /// The jobs this event implies. `actor_id` is who made the change: nobody is emailed about
    /// their own assignment.
    pub fn follow_ups(&self, actor_id: Option<&str>) -> Vec<FollowUp> {
        use DomainEvent as E;
        let mut out = Vec::new();
        match self {
            E::TaskCreated { task, .. } => {
                out.push(FollowUp::Embed {
                    task_id: task.id.clone(),
                });
                if let Some(assignee) = task.assignee_id.as_deref().filter(|a| Some(*a) != actor_id)
                {
                    out.push(FollowUp::AssignmentEmail {
                        task_id: task.id.clone(),
                        assignee_id: assignee.to_string(),
                    });
                }
                out.extend(reminder(&task.id, None, task.due_date));
            }
            E::TaskUpdated(c) | E::TaskMoved(c) => task_change(c, &mut out),
            E::TaskAssigned(c) => {
                task_change(c, &mut out);
                if let Some(assignee) = c
                    .task
                    .assignee_id
                    .as_deref()
                    .filter(|a| Some(*a) != actor_id)
                {
                    out.push(FollowUp::AssignmentEmail {
                        task_id: c.task.id.clone(),
                        assignee_id: assignee.to_string(),
                    });
                }
            }
            E::TaskDeleted { task_id, files, .. } => {
                out.extend(purge(*files, format!("task:{task_id}")));
            }
            E::ProjectDeleted {
                project_id, files, ..
            } => {
                out.extend(purge(*files, format!("project:{project_id}")));
            }
            E::AttachmentDeleted { attachment, .. } => {
                out.push(FollowUp::PurgeFiles {
                    cause: format!("attachment:{}", attachment.id),
                });
            }
            E::InvitationCreated { invitation_id, .. } => {
                out.push(FollowUp::InvitationEmail {
                    invitation_id: invitation_id.clone(),
                });
            }
            // The update's own event (`task.assigned`) carries its jobs.
            E::TaskUnassigned { .. }
            | E::TaskRelationAdded { .. }
            | E::TaskRelationRemoved { .. }
            | E::TimeEntryCreated { .. }
            | E::TimeEntryStopped { .. }
            | E::TimeEntryDeleted { .. }
            | E::LabelCreated { .. }
            | E::LabelUpdated { .. }
            | E::LabelDeleted { .. }
            | E::CommentCreated { .. }
            | E::CommentUpdated { .. }
            | E::CommentDeleted { .. }
            | E::AttachmentCreated { .. }
            | E::ProjectCreated { .. }
            | E::ProjectUpdated { .. }
            | E::ProjectArchived { .. }
            | E::ProjectUnarchived { .. }
            | E::ProjectMemberAdded { .. }
            | E::ProjectMemberRemoved { .. }
            | E::MemberAdded { .. }
            | E::MemberRoleChanged { .. }
            | E::MemberRemoved { .. }
            | E::MemberLeft { .. }
            | E::InvitationRevoked { .. }
            | E::InvitationAccepted { .. }
            | E::InvitationRejected { .. }
            | E::WorkspaceCreated { .. }
            | E::WorkspaceUpdated { .. }
            | E::WorkspaceDeleted { .. }
            // An import enqueues its tasks' embeddings itself (one job a task).
            | E::WorkspaceExported { .. }
            | E::WorkspaceImported { .. }
            | E::RoleCreated { .. }
            | E::RoleUpdated { .. }
            | E::RoleDeleted { .. }
            | E::KeyCreated { .. }
            | E::KeyRevoked { .. }
            | E::UserCreated { .. }
            | E::UserUpdated { .. }
            | E::UserDeleted { .. }
            | E::UserPasswordChanged { .. }
            | E::UserTwoFactorEnabled { .. }
            | E::UserTwoFactorDisabled { .. }
            | E::UserRecoveryCodesRegenerated { .. }
            | E::WebhookCreated { .. }
            | E::WebhookUpdated { .. }
            | E::WebhookDeleted { .. }
            | E::WebhookDisabled { .. }
            | E::PlanCreated { .. }
            | E::PlanUpdated { .. }
            | E::PlanDeleted { .. }
            | E::SubscriptionUpdated { .. } => {}
        }
        out
    }
}

/// A title or description edit re-embeds the task; a due-date change moves its reminder.
fn task_change(c: &TaskChange, out: &mut Vec<FollowUp>) {
    if c.changes
        .iter()
        .any(|f| matches!(*f, "title" | "description"))
    {
        out.push(FollowUp::Embed {
            task_id: c.task.id.clone(),
        });
    }
    out.extend(reminder(&c.task.id, c.previous_due_date, c.task.due_date));
}

fn reminder(task_id: &str, from: Option<i64>, to: Option<i64>) -> Option<FollowUp> {
    (from != to).then(|| FollowUp::Reminder {
        task_id: task_id.to_string(),
        from,
        to,
    })
}

fn purge(files: Detached, cause: String) -> Option<FollowUp> {
    match files {
        Detached::None => None,
        Detached::Some => Some(FollowUp::PurgeFiles { cause }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enums::TaskStatus;
    use crate::domain::event::{CacheScope, InProject, TaskFacts};

    fn at() -> InProject {
        InProject {
            workspace_id: "w".into(),
            project_id: "p".into(),
        }
    }

    fn task(assignee: Option<&str>, due: Option<i64>) -> TaskFacts {
        TaskFacts {
            id: "t".into(),
            project_id: "p".into(),
            title: "x".into(),
            status: TaskStatus::Todo,
            assignee_id: assignee.map(Into::into),
            due_date: due,
        }
    }

    #[test]
    fn a_new_task_is_embedded_its_assignee_emailed_and_its_reminder_set() {
        let e = DomainEvent::TaskCreated {
            at: at(),
            task: task(Some("u"), Some(9)),
        };
        assert_eq!(
            e.follow_ups(Some("me")),
            [
                FollowUp::Embed {
                    task_id: "t".into()
                },
                FollowUp::AssignmentEmail {
                    task_id: "t".into(),
                    assignee_id: "u".into()
                },
                FollowUp::Reminder {
                    task_id: "t".into(),
                    from: None,
                    to: Some(9)
                },
            ]
        );
        // Assigning yourself sends no email.
        assert_eq!(e.follow_ups(Some("u")).len(), 2);
        assert_eq!(e.cache_scope(), Some(CacheScope::Project("p".into())));
    }

    #[test]
    fn only_text_edits_re_embed_and_only_date_changes_move_reminders() {
        let change = |changes: Vec<&'static str>, before| {
            DomainEvent::TaskUpdated(TaskChange {
                at: at(),
                task: task(None, Some(5)),
                changes,
                previous_due_date: before,
            })
        };
        assert!(
            change(vec!["priority"], Some(5))
                .follow_ups(None)
                .is_empty()
        );
        assert_eq!(
            change(vec!["description"], Some(5)).follow_ups(None),
            [FollowUp::Embed {
                task_id: "t".into()
            }]
        );
        assert_eq!(
            change(vec!["due_date"], None).follow_ups(None),
            [FollowUp::Reminder {
                task_id: "t".into(),
                from: None,
                to: Some(5)
            }]
        );
    }

    #[test]
    fn deletions_purge_files_only_when_some_were_detached() {
        let deleted = |files| DomainEvent::TaskDeleted {
            at: at(),
            task_id: "t".into(),
            title: "x".into(),
            files,
        };
        assert!(deleted(Detached::None).follow_ups(None).is_empty());
        assert_eq!(
            deleted(Detached::Some).follow_ups(None),
            [FollowUp::PurgeFiles {
                cause: "task:t".into()
            }]
        );
    }
}

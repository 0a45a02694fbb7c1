//! The task and the user an event concerns: the `task/{id}` and `user/{id}` channels it is
//! published on (its project is its place).

use super::{DomainEvent, Subject};

impl DomainEvent {
    /// The task the event concerns (a `task/{id}` channel's events): its subject, or the task
    /// of a comment or attachment.
    pub fn concerned_task(&self) -> Option<&str> {
        use DomainEvent as E;
        match self {
            E::TaskCreated { task, .. } | E::TaskUnassigned { task, .. } => Some(&task.id),
            E::TaskUpdated(c) | E::TaskAssigned(c) | E::TaskMoved(c) => Some(&c.task.id),
            E::TaskDeleted { task_id, .. }
            | E::CommentCreated { task_id, .. }
            | E::CommentUpdated { task_id, .. }
            | E::CommentDeleted { task_id, .. } => Some(task_id),
            E::AttachmentCreated { attachment, .. } | E::AttachmentDeleted { attachment, .. } => {
                Some(&attachment.task_id)
            }
            E::TaskRelationAdded { relation, .. } | E::TaskRelationRemoved { relation, .. } => {
                Some(&relation.task_id)
            }
            E::TimeEntryCreated { entry, .. }
            | E::TimeEntryStopped { entry, .. }
            | E::TimeEntryDeleted { entry, .. } => Some(&entry.task_id),
            E::LabelCreated { .. } | E::LabelUpdated { .. } | E::LabelDeleted { .. } => None,
            E::ProjectCreated { .. }
            | E::ProjectUpdated { .. }
            | E::ProjectArchived { .. }
            | E::ProjectUnarchived { .. }
            | E::ProjectDeleted { .. }
            | E::ProjectMemberAdded { .. }
            | E::ProjectMemberRemoved { .. }
            | E::MemberAdded { .. }
            | E::MemberRoleChanged { .. }
            | E::MemberRemoved { .. }
            | E::MemberLeft { .. }
            | E::InvitationCreated { .. }
            | E::InvitationRevoked { .. }
            | E::InvitationAccepted { .. }
            | E::InvitationRejected { .. }
            | E::WorkspaceCreated { .. }
            | E::WorkspaceUpdated { .. }
            | E::WorkspaceDeleted { .. }
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
            | E::SubscriptionUpdated { .. } => None,
        }
    }

    /// The user the event concerns (a `user/{id}` channel's events): a member added, removed
    /// or changed, a user changed, a task's assignee when it is created or assigned, and its
    /// former assignee when it is unassigned.
    pub fn concerned_user(&self) -> Option<&str> {
        match self.kind().subject() {
            Subject::User => Some(self.subject_id()),
            _ => match self {
                DomainEvent::TaskCreated { task, .. } => task.assignee_id.as_deref(),
                DomainEvent::TaskAssigned(c) => c.task.assignee_id.as_deref(),
                DomainEvent::TaskUnassigned {
                    previous_assignee_id,
                    ..
                } => Some(previous_assignee_id),
                _ => None,
            },
        }
    }
}

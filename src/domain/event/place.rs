//! Where an event is filed (its workspace and project) and what it happened to.

use super::{DomainEvent, TaskChange};

impl DomainEvent {
    /// Where the event is filed: its workspace and project, when it has them.
    pub fn place(&self) -> (Option<&str>, Option<&str>) {
        use DomainEvent as E;
        match self {
            E::TaskCreated { at, .. }
            | E::TaskUpdated(TaskChange { at, .. })
            | E::TaskAssigned(TaskChange { at, .. })
            | E::TaskMoved(TaskChange { at, .. })
            | E::TaskUnassigned { at, .. }
            | E::TaskDeleted { at, .. }
            | E::TaskRelationAdded { at, .. }
            | E::TaskRelationRemoved { at, .. }
            | E::TimeEntryCreated { at, .. }
            | E::TimeEntryStopped { at, .. }
            | E::TimeEntryDeleted { at, .. }
            | E::CommentCreated { at, .. }
            | E::CommentUpdated { at, .. }
            | E::CommentDeleted { at, .. }
            | E::AttachmentCreated { at, .. }
            | E::AttachmentDeleted { at, .. }
            | E::ProjectCreated { at, .. }
            | E::ProjectUpdated { at, .. }
            | E::ProjectArchived { at, .. }
            | E::ProjectUnarchived { at, .. }
            | E::ProjectMemberAdded { at, .. }
            | E::ProjectMemberRemoved { at, .. } => (Some(&at.workspace_id), Some(&at.project_id)),
            E::ProjectDeleted { workspace_id, .. }
            | E::MemberAdded { workspace_id, .. }
            | E::MemberRoleChanged { workspace_id, .. }
            | E::MemberRemoved { workspace_id, .. }
            | E::MemberLeft { workspace_id, .. }
            | E::InvitationCreated { workspace_id, .. }
            | E::InvitationRevoked { workspace_id, .. }
            | E::InvitationAccepted { workspace_id, .. }
            | E::InvitationRejected { workspace_id, .. }
            | E::WorkspaceCreated { workspace_id, .. }
            | E::WorkspaceUpdated { workspace_id, .. }
            | E::WorkspaceExported { workspace_id, .. }
            | E::WebhookCreated { workspace_id, .. }
            | E::WebhookUpdated { workspace_id, .. }
            | E::WebhookDeleted { workspace_id, .. }
            | E::WebhookDisabled { workspace_id, .. }
            | E::SubscriptionUpdated { workspace_id, .. }
            | E::LabelCreated { workspace_id, .. }
            | E::LabelUpdated { workspace_id, .. }
            | E::LabelDeleted { workspace_id, .. } => (Some(workspace_id), None),
            E::WorkspaceImported {
                workspace_id,
                project_id,
                ..
            } => (Some(workspace_id), project_id.as_deref()),
            E::WorkspaceDeleted { .. }
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
            | E::PlanCreated { .. }
            | E::PlanUpdated { .. }
            | E::PlanDeleted { .. } => (None, None),
        }
    }

    /// The id of what the event happened to (of type `self.kind().subject()`).
    pub fn subject_id(&self) -> &str {
        use DomainEvent as E;
        match self {
            E::TaskCreated { task, .. } | E::TaskUnassigned { task, .. } => &task.id,
            E::TaskUpdated(c) | E::TaskAssigned(c) | E::TaskMoved(c) => &c.task.id,
            E::TaskDeleted { task_id, .. } => task_id,
            E::TaskRelationAdded { relation, .. } | E::TaskRelationRemoved { relation, .. } => {
                &relation.task_id
            }
            E::TimeEntryCreated { entry, .. }
            | E::TimeEntryStopped { entry, .. }
            | E::TimeEntryDeleted { entry, .. } => &entry.id,
            E::LabelCreated { label_id, .. }
            | E::LabelUpdated { label_id, .. }
            | E::LabelDeleted { label_id, .. } => label_id,
            E::CommentCreated { comment_id, .. }
            | E::CommentUpdated { comment_id, .. }
            | E::CommentDeleted { comment_id, .. } => comment_id,
            E::AttachmentCreated { attachment, .. } | E::AttachmentDeleted { attachment, .. } => {
                &attachment.id
            }
            E::ProjectCreated { at, .. }
            | E::ProjectUpdated { at, .. }
            | E::ProjectArchived { at, .. }
            | E::ProjectUnarchived { at, .. } => &at.project_id,
            E::ProjectDeleted { project_id, .. } => project_id,
            E::ProjectMemberAdded { user_id, .. }
            | E::ProjectMemberRemoved { user_id, .. }
            | E::MemberAdded { user_id, .. }
            | E::MemberRoleChanged { user_id, .. }
            | E::MemberRemoved { user_id, .. }
            | E::MemberLeft { user_id, .. }
            | E::UserCreated { user_id }
            | E::UserUpdated { user_id }
            | E::UserDeleted { user_id }
            | E::UserPasswordChanged { user_id }
            | E::UserTwoFactorEnabled { user_id }
            | E::UserTwoFactorDisabled { user_id }
            | E::UserRecoveryCodesRegenerated { user_id } => user_id,
            E::InvitationCreated { invitation_id, .. }
            | E::InvitationRevoked { invitation_id, .. }
            | E::InvitationAccepted { invitation_id, .. }
            | E::InvitationRejected { invitation_id, .. } => invitation_id,
            E::WorkspaceCreated { workspace_id, .. }
            | E::WorkspaceUpdated { workspace_id, .. }
            | E::WorkspaceDeleted { workspace_id }
            | E::WorkspaceExported { workspace_id, .. }
            | E::WorkspaceImported { workspace_id, .. }
            | E::SubscriptionUpdated { workspace_id, .. } => workspace_id,
            E::RoleCreated { role_id, .. }
            | E::RoleUpdated { role_id, .. }
            | E::RoleDeleted { role_id } => role_id,
            E::KeyCreated { key_id, .. } | E::KeyRevoked { key_id } => key_id,
            E::WebhookCreated { endpoint_id, .. }
            | E::WebhookUpdated { endpoint_id, .. }
            | E::WebhookDeleted { endpoint_id, .. }
            | E::WebhookDisabled { endpoint_id, .. } => endpoint_id,
            E::PlanCreated { plan_id, .. }
            | E::PlanUpdated { plan_id, .. }
            | E::PlanDeleted { plan_id } => plan_id,
        }
    }
}

//! Which cached results an event makes stale.

use super::{DomainEvent, TaskChange};

/// The narrowest cache scope covering everything an event changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheScope {
    Tenant,
    Workspace(String),
    Project(String),
}

impl DomainEvent {
    /// Whether the change can alter a workspace's API-call allowance (its plan's limit, its
    /// subscription's period), which `services::usage` remembers for a moment.
    pub fn changes_allowances(&self) -> bool {
        matches!(
            self,
            DomainEvent::PlanCreated { .. }
                | DomainEvent::PlanUpdated { .. }
                | DomainEvent::PlanDeleted { .. }
                | DomainEvent::SubscriptionUpdated { .. }
        )
    }

    /// Which cached results this event makes stale; `None` when no cached read shows it.
    pub fn cache_scope(&self) -> Option<CacheScope> {
        use DomainEvent as E;
        match self {
            // Task lists show tasks with their comment and attachment counts.
            E::TaskCreated { at, .. }
            | E::TaskUpdated(TaskChange { at, .. })
            | E::TaskAssigned(TaskChange { at, .. })
            | E::TaskMoved(TaskChange { at, .. })
            | E::TaskUnassigned { at, .. }
            | E::TaskDeleted { at, .. }
            | E::CommentCreated { at, .. }
            | E::CommentUpdated { at, .. }
            | E::CommentDeleted { at, .. }
            | E::AttachmentCreated { at, .. }
            | E::AttachmentDeleted { at, .. }
            | E::TimeEntryCreated { at, .. }
            | E::TimeEntryStopped { at, .. }
            | E::TimeEntryDeleted { at, .. } => Some(CacheScope::Project(at.project_id.clone())),
            // Relations are not in cached reads; their tasks' lists are unchanged.
            E::TaskRelationAdded { .. } | E::TaskRelationRemoved { .. } => None,
            // Project lists depend on the workspace's projects and on who belongs to what.
            E::ProjectCreated { at, .. }
            | E::ProjectUpdated { at, .. }
            | E::ProjectArchived { at, .. }
            | E::ProjectUnarchived { at, .. }
            | E::ProjectMemberAdded { at, .. }
            | E::ProjectMemberRemoved { at, .. } => {
                Some(CacheScope::Workspace(at.workspace_id.clone()))
            }
            E::ProjectDeleted { workspace_id, .. }
            | E::MemberAdded { workspace_id, .. }
            | E::MemberRoleChanged { workspace_id, .. }
            | E::MemberRemoved { workspace_id, .. }
            | E::MemberLeft { workspace_id, .. }
            | E::InvitationAccepted { workspace_id, .. }
            | E::WorkspaceUpdated { workspace_id, .. }
            | E::WorkspaceDeleted { workspace_id }
            // Task lists show their tasks' labels.
            | E::LabelCreated { workspace_id, .. }
            | E::LabelUpdated { workspace_id, .. }
            | E::LabelDeleted { workspace_id, .. } => {
                Some(CacheScope::Workspace(workspace_id.clone()))
            }
            // Cached results show users' names and pictures.
            E::WorkspaceImported {
                project_id: Some(project_id),
                project_created: false,
                ..
            } => Some(CacheScope::Project(project_id.clone())),
            E::WorkspaceImported { workspace_id, .. } => {
                Some(CacheScope::Workspace(workspace_id.clone()))
            }
            E::UserCreated { .. } | E::UserUpdated { .. } | E::UserDeleted { .. } => {
                Some(CacheScope::Tenant)
            }
            E::InvitationCreated { .. }
            | E::InvitationRevoked { .. }
            | E::InvitationRejected { .. }
            | E::WorkspaceCreated { .. }
            | E::WorkspaceExported { .. }
            | E::RoleCreated { .. }
            | E::RoleUpdated { .. }
            | E::RoleDeleted { .. }
            | E::KeyCreated { .. }
            | E::KeyRevoked { .. }
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
}

//! Domain events: one value per change the API makes. Everything a change implies besides its
//! own rows — the activity log entry, realtime routing and access re-checks, cache
//! invalidation, follow-up jobs — is derived from its event by exhaustive `match`es (here, in
//! `effects.rs`, and in `realtime::channel`), so a variant some consumer forgot does not
//! compile. `services::unit_of_work` records events and carries out what they imply.

mod cache_scope;
mod concerns;
mod effects;
mod kind;
mod payload;
mod place;

pub use cache_scope::CacheScope;
pub use effects::FollowUp;
pub use kind::{EventKind, Subject};

use crate::domain::billing::SubscriptionStatus;
use crate::domain::enums::{RelationKind, TaskStatus, WorkspaceRole};

/// Where in a workspace a project-level change happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProject {
    pub workspace_id: String,
    pub project_id: String,
}

/// A task as events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFacts {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub status: TaskStatus,
    pub assignee_id: Option<String>,
    pub due_date: Option<i64>,
}

/// A change to an existing task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskChange {
    pub at: InProject,
    /// The task after the change.
    pub task: TaskFacts,
    /// The fields the client sent (`title`, `status`, `position`, …).
    pub changes: Vec<&'static str>,
    /// The due date before the change, to move its reminder.
    pub previous_due_date: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentFacts {
    pub id: String,
    pub task_id: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
}

/// A time entry as events describe it; `ended_at` is `None` while its timer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeEntryFacts {
    pub id: String,
    pub task_id: String,
    pub user_id: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// A relation between two tasks, read from `task_id` (the task it was added or removed on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationFacts {
    pub id: String,
    pub task_id: String,
    pub related_id: String,
    pub kind: RelationKind,
}

/// Files of a task or project marked deleted with it: their purge follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detached {
    None,
    Some,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    TaskCreated {
        at: InProject,
        task: TaskFacts,
    },
    TaskUpdated(TaskChange),
    /// An update that gave the task a new assignee.
    TaskAssigned(TaskChange),
    /// An update that changed only the task's place on the board.
    TaskMoved(TaskChange),
    /// The task's assignee changed away from `previous_assignee_id` (to someone else, or to
    /// nobody): recorded beside that update's own event, so the former assignee's `user/{id}`
    /// channel hears of it.
    TaskUnassigned {
        at: InProject,
        /// The task after the change.
        task: TaskFacts,
        previous_assignee_id: String,
    },
    TaskDeleted {
        at: InProject,
        task_id: String,
        title: String,
        files: Detached,
    },
    TaskRelationAdded {
        at: InProject,
        relation: RelationFacts,
    },
    TaskRelationRemoved {
        at: InProject,
        relation: RelationFacts,
    },
    /// A logged entry, or a timer started.
    TimeEntryCreated {
        at: InProject,
        entry: TimeEntryFacts,
    },
    TimeEntryStopped {
        at: InProject,
        entry: TimeEntryFacts,
    },
    TimeEntryDeleted {
        at: InProject,
        entry: TimeEntryFacts,
    },
    CommentCreated {
        at: InProject,
        comment_id: String,
        task_id: String,
    },
    CommentUpdated {
        at: InProject,
        comment_id: String,
        task_id: String,
    },
    CommentDeleted {
        at: InProject,
        comment_id: String,
        task_id: String,
    },
    AttachmentCreated {
        at: InProject,
        attachment: AttachmentFacts,
    },
    AttachmentDeleted {
        at: InProject,
        attachment: AttachmentFacts,
    },
    ProjectCreated {
        at: InProject,
        name: String,
        members: Vec<String>,
    },
    ProjectUpdated {
        at: InProject,
        fields: Vec<&'static str>,
    },
    ProjectArchived {
        at: InProject,
        fields: Vec<&'static str>,
    },
    ProjectUnarchived {
        at: InProject,
        fields: Vec<&'static str>,
    },
    /// Recorded at workspace level: the project's own events go with it.
    ProjectDeleted {
        workspace_id: String,
        project_id: String,
        files: Detached,
    },
    ProjectMemberAdded {
        at: InProject,
        user_id: String,
    },
    ProjectMemberRemoved {
        at: InProject,
        user_id: String,
    },
    MemberAdded {
        workspace_id: String,
        user_id: String,
        role: WorkspaceRole,
    },
    MemberRoleChanged {
        workspace_id: String,
        user_id: String,
        from: WorkspaceRole,
        to: WorkspaceRole,
        custom_role_id: Option<String>,
    },
    MemberRemoved {
        workspace_id: String,
        user_id: String,
        role: WorkspaceRole,
    },
    MemberLeft {
        workspace_id: String,
        user_id: String,
        role: WorkspaceRole,
    },
    InvitationCreated {
        workspace_id: String,
        invitation_id: String,
        email: String,
        role: WorkspaceRole,
    },
    InvitationRevoked {
        workspace_id: String,
        invitation_id: String,
        email: String,
    },
    InvitationAccepted {
        workspace_id: String,
        invitation_id: String,
        role: WorkspaceRole,
    },
    InvitationRejected {
        workspace_id: String,
        invitation_id: String,
    },
    WorkspaceCreated {
        workspace_id: String,
        name: String,
        slug: String,
    },
    WorkspaceUpdated {
        workspace_id: String,
        name: Option<String>,
        slug: Option<String>,
    },
    /// Recorded at tenant level: the workspace's own events go with it.
    WorkspaceDeleted {
        workspace_id: String,
    },
    /// An export of the workspace was requested: who took its data out is on record.
    WorkspaceExported {
        workspace_id: String,
        export_id: String,
    },
    /// Rows came in by an import: a whole workspace from an archive, or tasks into a project
    /// (an existing one from a CSV, a new one from a Trello board).
    WorkspaceImported {
        workspace_id: String,
        project_id: Option<String>,
        project_created: bool,
        /// `archive`, `csv` or `trello`.
        source: &'static str,
        tasks: u64,
    },
    LabelCreated {
        workspace_id: String,
        label_id: String,
        name: String,
        color: String,
    },
    LabelUpdated {
        workspace_id: String,
        label_id: String,
        name: String,
        color: String,
    },
    /// Its tasks lose it with it.
    LabelDeleted {
        workspace_id: String,
        label_id: String,
        name: String,
    },
    RoleCreated {
        role_id: String,
        name: String,
    },
    RoleUpdated {
        role_id: String,
        name: String,
    },
    RoleDeleted {
        role_id: String,
    },
    KeyCreated {
        key_id: String,
        kind: &'static str,
        name: String,
    },
    KeyRevoked {
        key_id: String,
    },
    UserCreated {
        user_id: String,
    },
    UserUpdated {
        user_id: String,
    },
    UserDeleted {
        user_id: String,
    },
    UserPasswordChanged {
        user_id: String,
    },
    /// Two-factor sign-in confirmed with a first code.
    UserTwoFactorEnabled {
        user_id: String,
    },
    /// Two-factor sign-in turned off, by the user (with a code) or by an operator.
    UserTwoFactorDisabled {
        user_id: String,
    },
    UserRecoveryCodesRegenerated {
        user_id: String,
    },
    WebhookCreated {
        workspace_id: String,
        endpoint_id: String,
        /// Only the host: the full URL often holds the receiver's token, and this event reaches
        /// other subscribers and the activity log.
        host: String,
    },
    WebhookUpdated {
        workspace_id: String,
        endpoint_id: String,
        /// The fields the client sent (`url`, `events`, `enabled`, …; `secret` on rotation).
        fields: Vec<&'static str>,
    },
    WebhookDeleted {
        workspace_id: String,
        endpoint_id: String,
    },
    /// Disabled by the server after failing continuously (a client's `enabled: false` is an
    /// update).
    WebhookDisabled {
        workspace_id: String,
        endpoint_id: String,
        reason: String,
    },
    PlanCreated {
        plan_id: String,
        key: String,
    },
    PlanUpdated {
        plan_id: String,
        key: String,
    },
    PlanDeleted {
        plan_id: String,
    },
    /// A workspace's plan, status or period changed (by the tenant's server or Stripe).
    SubscriptionUpdated {
        workspace_id: String,
        plan_id: String,
        plan_key: String,
        status: SubscriptionStatus,
    },
}

impl DomainEvent {
    pub fn kind(&self) -> EventKind {
        use DomainEvent as E;
        use EventKind as K;
        match self {
            E::TaskCreated { .. } => K::TaskCreated,
            E::TaskUpdated(_) => K::TaskUpdated,
            E::TaskAssigned(_) => K::TaskAssigned,
            E::TaskMoved(_) => K::TaskMoved,
            E::TaskUnassigned { .. } => K::TaskUnassigned,
            E::TaskDeleted { .. } => K::TaskDeleted,
            E::TaskRelationAdded { .. } => K::TaskRelationAdded,
            E::TaskRelationRemoved { .. } => K::TaskRelationRemoved,
            E::TimeEntryCreated { .. } => K::TimeEntryCreated,
            E::TimeEntryStopped { .. } => K::TimeEntryStopped,
            E::TimeEntryDeleted { .. } => K::TimeEntryDeleted,
            E::LabelCreated { .. } => K::LabelCreated,
            E::LabelUpdated { .. } => K::LabelUpdated,
            E::LabelDeleted { .. } => K::LabelDeleted,
            E::CommentCreated { .. } => K::CommentCreated,
            E::CommentUpdated { .. } => K::CommentUpdated,
            E::CommentDeleted { .. } => K::CommentDeleted,
            E::AttachmentCreated { .. } => K::AttachmentCreated,
            E::AttachmentDeleted { .. } => K::AttachmentDeleted,
            E::ProjectCreated { .. } => K::ProjectCreated,
            E::ProjectUpdated { .. } => K::ProjectUpdated,
            E::ProjectArchived { .. } => K::ProjectArchived,
            E::ProjectUnarchived { .. } => K::ProjectUnarchived,
            E::ProjectDeleted { .. } => K::ProjectDeleted,
            E::ProjectMemberAdded { .. } => K::ProjectMemberAdded,
            E::ProjectMemberRemoved { .. } => K::ProjectMemberRemoved,
            E::MemberAdded { .. } => K::MemberAdded,
            E::MemberRoleChanged { .. } => K::MemberRoleChanged,
            E::MemberRemoved { .. } => K::MemberRemoved,
            E::MemberLeft { .. } => K::MemberLeft,
            E::InvitationCreated { .. } => K::InvitationCreated,
            E::InvitationRevoked { .. } => K::InvitationRevoked,
            E::InvitationAccepted { .. } => K::InvitationAccepted,
            E::InvitationRejected { .. } => K::InvitationRejected,
            E::WorkspaceCreated { .. } => K::WorkspaceCreated,
            E::WorkspaceUpdated { .. } => K::WorkspaceUpdated,
            E::WorkspaceDeleted { .. } => K::WorkspaceDeleted,
            E::WorkspaceExported { .. } => K::WorkspaceExported,
            E::WorkspaceImported { .. } => K::WorkspaceImported,
            E::RoleCreated { .. } => K::RoleCreated,
            E::RoleUpdated { .. } => K::RoleUpdated,
            E::RoleDeleted { .. } => K::RoleDeleted,
            E::KeyCreated { .. } => K::KeyCreated,
            E::KeyRevoked { .. } => K::KeyRevoked,
            E::UserCreated { .. } => K::UserCreated,
            E::UserUpdated { .. } => K::UserUpdated,
            E::UserDeleted { .. } => K::UserDeleted,
            E::UserPasswordChanged { .. } => K::UserPasswordChanged,
            E::UserTwoFactorEnabled { .. } => K::UserTwoFactorEnabled,
            E::UserTwoFactorDisabled { .. } => K::UserTwoFactorDisabled,
            E::UserRecoveryCodesRegenerated { .. } => K::UserRecoveryCodesRegenerated,
            E::WebhookCreated { .. } => K::WebhookCreated,
            E::WebhookUpdated { .. } => K::WebhookUpdated,
            E::WebhookDeleted { .. } => K::WebhookDeleted,
            E::WebhookDisabled { .. } => K::WebhookDisabled,
            E::PlanCreated { .. } => K::PlanCreated,
            E::PlanUpdated { .. } => K::PlanUpdated,
            E::PlanDeleted { .. } => K::PlanDeleted,
            E::SubscriptionUpdated { .. } => K::SubscriptionUpdated,
        }
    }
}

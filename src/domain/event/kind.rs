//! What kind of change an event records, by its wire name, and what it happened to.

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name clients see (activity `kind`, realtime `event`, webhooks).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The variant a stored name stands for; `None` for a name this build does not know
            /// (a row written by a newer version).
            pub fn from_wire(name: &str) -> Option<Self> {
                match name { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// The kinds of change, one per thing the API can do to stored data.
    EventKind {
        TaskCreated => "task.created",
        TaskUpdated => "task.updated",
        TaskAssigned => "task.assigned",
        TaskMoved => "task.moved",
        TaskUnassigned => "task.unassigned",
        TaskDeleted => "task.deleted",
        TaskRelationAdded => "task.relation_added",
        TaskRelationRemoved => "task.relation_removed",
        TimeEntryCreated => "time_entry.created",
        TimeEntryStopped => "time_entry.stopped",
        TimeEntryDeleted => "time_entry.deleted",
        LabelCreated => "label.created",
        LabelUpdated => "label.updated",
        LabelDeleted => "label.deleted",
        CommentCreated => "comment.created",
        CommentUpdated => "comment.updated",
        CommentDeleted => "comment.deleted",
        AttachmentCreated => "attachment.created",
        AttachmentDeleted => "attachment.deleted",
        ProjectCreated => "project.created",
        ProjectUpdated => "project.updated",
        ProjectArchived => "project.archived",
        ProjectUnarchived => "project.unarchived",
        ProjectDeleted => "project.deleted",
        ProjectMemberAdded => "project.member_added",
        ProjectMemberRemoved => "project.member_removed",
        MemberAdded => "member.added",
        MemberRoleChanged => "member.role_changed",
        MemberRemoved => "member.removed",
        MemberLeft => "member.left",
        InvitationCreated => "invitation.created",
        InvitationRevoked => "invitation.revoked",
        InvitationAccepted => "invitation.accepted",
        InvitationRejected => "invitation.rejected",
        WorkspaceCreated => "workspace.created",
        WorkspaceUpdated => "workspace.updated",
        WorkspaceDeleted => "workspace.deleted",
        WorkspaceExported => "workspace.exported",
        WorkspaceImported => "workspace.imported",
        RoleCreated => "role.created",
        RoleUpdated => "role.updated",
        RoleDeleted => "role.deleted",
        KeyCreated => "key.created",
        KeyRevoked => "key.revoked",
        UserCreated => "user.created",
        UserUpdated => "user.updated",
        UserDeleted => "user.deleted",
        UserPasswordChanged => "user.password_changed",
        UserTwoFactorEnabled => "user.two_factor_enabled",
        UserTwoFactorDisabled => "user.two_factor_disabled",
        UserRecoveryCodesRegenerated => "user.recovery_codes_regenerated",
        WebhookCreated => "webhook.created",
        WebhookUpdated => "webhook.updated",
        WebhookDeleted => "webhook.deleted",
        WebhookDisabled => "webhook.disabled",
        PlanCreated => "plan.created",
        PlanUpdated => "plan.updated",
        PlanDeleted => "plan.deleted",
        SubscriptionUpdated => "subscription.updated",
    }
);

wire_enum!(
    /// What an event happened to: its `subject_type`.
    Subject {
        Task => "task",
        Comment => "comment",
        TimeEntry => "time_entry",
        Label => "label",
        Attachment => "attachment",
        Project => "project",
        User => "user",
        Invitation => "invitation",
        Workspace => "workspace",
        Role => "role",
        Key => "key",
        Webhook => "webhook",
        Plan => "plan",
        Subscription => "subscription",
    }
);

impl EventKind {
    pub fn subject(self) -> Subject {
        use EventKind::*;
        match self {
            TaskCreated | TaskUpdated | TaskAssigned | TaskMoved | TaskUnassigned | TaskDeleted
            | TaskRelationAdded | TaskRelationRemoved => Subject::Task,
            TimeEntryCreated | TimeEntryStopped | TimeEntryDeleted => Subject::TimeEntry,
            LabelCreated | LabelUpdated | LabelDeleted => Subject::Label,
            CommentCreated | CommentUpdated | CommentDeleted => Subject::Comment,
            AttachmentCreated | AttachmentDeleted => Subject::Attachment,
            ProjectCreated | ProjectUpdated | ProjectArchived | ProjectUnarchived
            | ProjectDeleted => Subject::Project,
            ProjectMemberAdded | ProjectMemberRemoved | MemberAdded | MemberRoleChanged
            | MemberRemoved | MemberLeft => Subject::User,
            InvitationCreated | InvitationRevoked | InvitationAccepted | InvitationRejected => {
                Subject::Invitation
            }
            WorkspaceCreated | WorkspaceUpdated | WorkspaceDeleted | WorkspaceExported
            | WorkspaceImported => Subject::Workspace,
            RoleCreated | RoleUpdated | RoleDeleted => Subject::Role,
            KeyCreated | KeyRevoked => Subject::Key,
            UserCreated
            | UserUpdated
            | UserDeleted
            | UserPasswordChanged
            | UserTwoFactorEnabled
            | UserTwoFactorDisabled
            | UserRecoveryCodesRegenerated => Subject::User,
            WebhookCreated | WebhookUpdated | WebhookDeleted | WebhookDisabled => Subject::Webhook,
            PlanCreated | PlanUpdated | PlanDeleted => Subject::Plan,
            SubscriptionUpdated => Subject::Subscription,
        }
    }

    /// Whether the subject is gone after this event (its payload is not enriched with it).
    pub fn removes_subject(self) -> bool {
        use EventKind::*;
        match self {
            TaskDeleted | CommentDeleted | AttachmentDeleted | ProjectDeleted
            | WorkspaceDeleted | RoleDeleted | KeyRevoked | UserDeleted | WebhookDeleted
            | PlanDeleted | TimeEntryDeleted | LabelDeleted => true,
            TaskCreated
            | TaskUpdated
            | TaskAssigned
            | TaskMoved
            | TaskUnassigned
            | CommentCreated
            | CommentUpdated
            | AttachmentCreated
            | ProjectCreated
            | ProjectUpdated
            | ProjectArchived
            | ProjectUnarchived
            | ProjectMemberAdded
            | ProjectMemberRemoved
            | MemberAdded
            | MemberRoleChanged
            | MemberRemoved
            | MemberLeft
            | InvitationCreated
            | InvitationRevoked
            | InvitationAccepted
            | InvitationRejected
            | WorkspaceCreated
            | WorkspaceUpdated
            | RoleCreated
            | RoleUpdated
            | KeyCreated
            | UserCreated
            | UserUpdated
            | UserPasswordChanged
            | UserTwoFactorEnabled
            | UserTwoFactorDisabled
            | UserRecoveryCodesRegenerated
            | WebhookCreated
            | WebhookUpdated
            | WebhookDisabled
            | PlanCreated
            | PlanUpdated
            | SubscriptionUpdated
            | TaskRelationAdded
            | TaskRelationRemoved
            | TimeEntryCreated
            | TimeEntryStopped
            | LabelCreated
            | LabelUpdated
            | WorkspaceExported
            | WorkspaceImported => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_wire(kind.as_str()), Some(*kind));
            assert!(seen.insert(kind.as_str()), "{kind} twice");
            // The wire name starts with its subject, except project membership, which is
            // named after the project it changes.
            let prefix = kind.as_str().split('.').next().unwrap();
            assert!(prefix == kind.subject().as_str() || prefix == "project" || prefix == "member");
        }
        assert_eq!(EventKind::from_wire("task.exploded"), None);
    }
}

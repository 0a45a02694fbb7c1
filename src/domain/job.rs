//! The job kinds: one struct per kind, holding its arguments, with the name it is stored under
//! (the shape of crates.io's `BackgroundJob`). Jobs carry ids, not payloads: a handler
//! re-reads what it needs and treats a vanished subject as done.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A kind of job: its stored name and its arguments (`Self`, as JSON).
pub trait JobKind: Serialize + DeserializeOwned {
    const NAME: &'static str;
}

macro_rules! job_kind {
    ($(#[$meta:meta])* $name:ident = $text:literal { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name { $(pub $field: $ty),* }

        impl JobKind for $name {
            const NAME: &'static str = $text;
        }
    };
}

job_kind!(
    /// Email a task's new assignee (the seed's queue name).
    AssignmentEmail = "task:assigned" { task_id: String, assignee_id: String }
);
job_kind!(
    /// Remind the assignee of a task due at `due_date`.
    DueReminder = "task:due_reminder" { task_id: String, due_date: i64 }
);
job_kind!(
    /// Email an invitation to its address.
    InvitationEmail = "invitation:email" { invitation_id: String }
);
job_kind!(
    /// Mint a password-reset token and email its link.
    PasswordResetEmail = "password_reset:email" { user_id: String }
);
job_kind!(
    /// Compute a task's embedding after its title or description changed.
    EmbedTask = "search:embed" { task_id: String }
);
job_kind!(
    /// Delete the stored objects of attachments marked deleted; `cause` names why.
    PurgeFiles = "attachments:purge" { cause: String }
);
job_kind!(
    /// Make the next attempt of an outgoing-webhook delivery (the delivery row holds the body).
    DeliverWebhook = "webhook:deliver" { delivery_id: String }
);
job_kind!(
    /// Delete expired sessions, tokens, receipts and stored responses; sweep orphaned files.
    Housekeeping = "housekeeping:purge" {}
);

/// Apply one verified identity-provider event to the user it names. Its arguments are the
/// event as the webhook stated it, small and self-contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySync {
    /// The delivery's `svix-id`.
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: IdentityEvent,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub image_url: Option<String>,
}

impl JobKind for IdentitySync {
    const NAME: &'static str = "identity:sync";
}

/// The identity provider's user events that kanri applies, by their provider names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityEvent {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
}

impl IdentityEvent {
    /// The event a provider's `type` names; `None` for the ones kanri does not apply.
    pub fn from_provider(name: &str) -> Option<Self> {
        match name {
            "user.created" => Some(Self::UserCreated),
            "user.updated" => Some(Self::UserUpdated),
            "user.deleted" => Some(Self::UserDeleted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeleted => "user.deleted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_round_trip_under_their_stored_names() {
        let job = AssignmentEmail {
            task_id: "t".into(),
            assignee_id: "u".into(),
        };
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"task_id": "t", "assignee_id": "u"})
        );
        assert_eq!(
            serde_json::from_value::<AssignmentEmail>(json).unwrap(),
            job
        );
        let sync: IdentitySync = serde_json::from_value(serde_json::json!({
            "event_id": "e", "type": "user.deleted", "external_id": "x",
            "email": null, "name": null, "image_url": null,
        }))
        .unwrap();
        assert_eq!(sync.kind, IdentityEvent::UserDeleted);
        assert_eq!(Housekeeping::NAME, "housekeeping:purge");
    }
}

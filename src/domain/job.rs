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
    /// Build a requested workspace export's archive and store it (`services::transfer`).
    ExportWorkspace = "workspace:export" { export_id: String }
);
job_kind!(
    /// Import a staged archive uploaded to `POST /v1/imports` (`services::transfer::queued`).
    ImportArchive = "workspace:import" { import_id: String }
);
job_kind!(
    /// Delete expired sessions, tokens, receipts and stored responses; sweep orphaned files.
    Housekeeping = "housekeeping:purge" {}
);
job_kind!(
    /// Take the backup `KANRI_BACKUP_CRON` names for `slot` (epoch ms of the cron time).
    ScheduledBackup = "backup:scheduled" { slot: i64 }
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

/// Apply one verified Stripe event to the workspace's subscription. Its arguments are the
/// facts the event stated (small, self-contained); the handler re-reads the subscription and
/// applies them only when the event is not older than the newest one applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeSync {
    /// Stripe's event id (`evt_…`).
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: StripeEventKind,
    /// The event's `created` (epoch seconds): its place in Stripe's order.
    pub created: i64,
    pub workspace_id: String,
    pub customer_id: Option<String>,
    pub subscription_id: Option<String>,
    /// The subscription's first item's price: which plan it is on.
    pub price_id: Option<String>,
    /// Stripe's subscription status (`active`, `past_due`, …) when the event carries one.
    pub status: Option<String>,
    /// Epoch seconds.
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
}

impl JobKind for StripeSync {
    const NAME: &'static str = "billing:stripe";
}

/// The Stripe events kanri applies, by their Stripe names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StripeEventKind {
    #[serde(rename = "checkout.session.completed")]
    CheckoutCompleted,
    #[serde(rename = "customer.subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "customer.subscription.updated")]
    SubscriptionUpdated,
    #[serde(rename = "customer.subscription.deleted")]
    SubscriptionDeleted,
    #[serde(rename = "invoice.paid")]
    InvoicePaid,
    #[serde(rename = "invoice.payment_failed")]
    InvoicePaymentFailed,
}

impl StripeEventKind {
    /// The kind a Stripe `type` names; `None` for the ones kanri ignores.
    pub fn from_stripe(name: &str) -> Option<Self> {
        Some(match name {
            "checkout.session.completed" => Self::CheckoutCompleted,
            "customer.subscription.created" => Self::SubscriptionCreated,
            "customer.subscription.updated" => Self::SubscriptionUpdated,
            "customer.subscription.deleted" => Self::SubscriptionDeleted,
            "invoice.paid" => Self::InvoicePaid,
            "invoice.payment_failed" => Self::InvoicePaymentFailed,
            _ => return None,
        })
    }
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

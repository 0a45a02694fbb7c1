//! Identity-provider sync: applies one verified `user.*` webhook event to the user with that
//! external id (the `identity:sync` job runs it). It reads the user when it runs, so a repeated
//! run changes nothing more, and a deletion whose user is already gone is done.

use crate::clock::now_ms;
use crate::db::users::ExternalProfile;
use crate::db::{self, is_unique_violation};
use crate::domain::event::DomainEvent;
use crate::domain::job::{IdentityEvent, IdentitySync};
use crate::domain::{Email, FieldError, UserName, Validator};
use crate::error::AppError;
use crate::ids::new_id;
use crate::services::Ctx;

const MAX_EXTERNAL_ID_LEN: usize = 255;
const MAX_IMAGE_URL_LEN: usize = 2048;

/// Why an event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// It can never apply: the job stays dead with the reason, for an operator to look at.
    #[error("{0}")]
    Invalid(String),
    /// Someone else changed the user meanwhile: the next attempt decides again.
    #[error("{0}")]
    Raced(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        Self::App(e.into())
    }
}

fn fatal(reason: impl Into<String>) -> SyncError {
    SyncError::Invalid(reason.into())
}

/// Creates, updates or removes the user the event names. A payload that can never apply (no
/// external id, a missing or invalid email or name, a bad image URL) is `Invalid`.
pub async fn sync(cx: &Ctx, tenant_id: &str, args: &serde_json::Value) -> Result<(), SyncError> {
    let a: IdentitySync = serde_json::from_value(args.clone())
        .map_err(|e| fatal(format!("bad job arguments: {e}")))?;
    let external_id = a
        .external_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= MAX_EXTERNAL_ID_LEN)
        .ok_or_else(|| fatal("the event has no usable user id"))?;
    match a.kind {
        IdentityEvent::UserCreated | IdentityEvent::UserUpdated => {
            upsert(cx, tenant_id, external_id, &a).await
        }
        IdentityEvent::UserDeleted => remove(cx, tenant_id, external_id).await,
    }
}

/// Only http(s) URLs of a sane length; none is fine.
fn image_url(field: &str, input: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(input) = input.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let parsed = url::Url::parse(input).map_err(|_| FieldError::new(field, "is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || input.len() > MAX_IMAGE_URL_LEN {
        return Err(FieldError::new(field, "must be an http(s) URL"));
    }
    Ok(Some(input.to_string()))
}

/// The user with this external id gets the event's email, name and image. Without one, a user
/// with that email and no external id is linked; otherwise a user is created, without a
/// password (they sign in through the provider).
async fn upsert(
    cx: &Ctx,
    tenant_id: &str,
    external_id: &str,
    a: &IdentitySync,
) -> Result<(), SyncError> {
    let mut v = Validator::default();
    let email = v.field(Email::parse("email", a.email.as_deref().unwrap_or("")));
    let name = v.field(UserName::parse("name", a.name.as_deref().unwrap_or("")));
    let image = v.field(image_url("image_url", a.image_url.as_deref()));
    if let Err(errors) = v.finish() {
        let reasons: Vec<String> = errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect();
        return Err(fatal(format!(
            "bad {} payload: {}",
            a.kind.as_str(),
            reasons.join(", ")
        )));
    }
    let (Some(email), Some(name), Some(image)) = (email, name, image) else {
        unreachable!("the validator reports every field that failed to parse");
    };
    let profile = ExternalProfile {
        external_id,
        email: email.as_str(),
        email_normalized: email.normalized(),
        name: name.as_str(),
        image_url: image.as_deref(),
        now: now_ms(),
    };

    let mut tx = cx.begin(tenant_id, None).await?;
    let linked = db::users::find_by_external_id(&mut *tx, tenant_id, external_id).await?;
    let target = match linked {
        Some(user) => Some(user.id),
        None => match db::users::find_by_email(&mut *tx, tenant_id, email.normalized()).await? {
            Some(user) if user.external_id.is_none() => {
                // Linking a local account to the provider's identity: the provider now vouches
                // for this address, and a password or session set by whoever registered the
                // address first (unverified) must not survive the link.
                db::users::clear_password(&mut *tx, tenant_id, &user.id).await?;
                db::sessions::delete_for_user(&mut *tx, tenant_id, &user.id).await?;
                Some(user.id)
            }
            Some(_) => {
                return Err(fatal(
                    "the email belongs to a user linked to another external id",
                ));
            }
            None => None,
        },
    };
    let event = match target {
        Some(id) => {
            match db::users::apply_external_profile(&mut *tx, tenant_id, &id, &profile).await {
                Ok(true) => {}
                // Linked elsewhere or deleted since we read it: look again on the next attempt.
                Ok(false) => return Err(SyncError::Raced("the user changed meanwhile".into())),
                Err(e) if is_unique_violation(&e) => {
                    return Err(fatal("the new email belongs to another user"));
                }
                Err(e) => return Err(e.into()),
            }
            DomainEvent::UserUpdated { user_id: id }
        }
        None => {
            let id = new_id();
            match db::users::insert_external(&mut *tx, &id, tenant_id, &profile).await {
                Ok(()) => DomainEvent::UserCreated { user_id: id },
                // Another worker created this user (or took the email) meanwhile; the next attempt
                // finds it and decides again.
                Err(e) if is_unique_violation(&e) => {
                    return Err(SyncError::Raced("the user was created meanwhile".into()));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    // The name, email and picture show in task and comment lists of every workspace: the
    // event's cache scope is the tenant.
    tx.record(event);
    tx.commit().await?;
    Ok(())
}

/// The provider deleted the person, so kanri deletes the user — with their workspace and
/// project memberships and their sessions — rather than anonymising the row. The provider is
/// the source of truth and has erased them; keeping their email, name and picture would defeat
/// that, and an anonymised row would need a "deleted" marker that every user query (sign-in,
/// member lists, the external-id lookup that a later event makes) must then respect. What they
/// did stays: tasks, comments and projects keep existing with the assignee, author or lead
/// cleared by the foreign keys (`ON DELETE SET NULL`). A user already gone is done.
async fn remove(cx: &Ctx, tenant_id: &str, external_id: &str) -> Result<(), SyncError> {
    let mut tx = cx.begin(tenant_id, None).await?;
    let Some(user) = db::users::find_by_external_id(&mut *tx, tenant_id, external_id).await? else {
        return Ok(());
    };
    db::identity::remove_user(&mut tx, tenant_id, &user.id).await?;
    tx.record(DomainEvent::UserDeleted {
        user_id: user.id.clone(),
    });
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "removed a user deleted at the identity provider");
    Ok(())
}

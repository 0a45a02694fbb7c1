//! Identity-provider sync: verifying Svix-signed webhook deliveries (Clerk's), reading the user
//! events out of them, and recording each delivery with its job. The job
//! (`services::identity_sync`) applies the change to the user later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::clock::now_ms;
use crate::db;
use crate::domain::job::{IdentityEvent, IdentitySync, JobKind};
use crate::error::AppResult;
use crate::jobs::NewJobSpec;
use crate::services::Ctx;

pub use crate::config::WebhookKey;

/// The provider name receipts are recorded under. Both webhook routes use it, so a message
/// delivered to both addresses is still applied once.
pub const PROVIDER: &str = "clerk";

/// How far a delivery's `svix-timestamp` may be from our clock, either way.
pub const TOLERANCE_SECS: u64 = 300;

/// The longest `svix-id` we record (Svix's are about 30 characters).
const MAX_EVENT_ID_LEN: usize = 255;

/// The three Svix headers of a delivery, as sent.
#[derive(Debug, Clone, Copy)]
pub struct SvixHeaders<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

/// Why a delivery was not accepted as the provider's. Clients get one answer for all of them;
/// the reason is for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFailure {
    #[error("a svix header is missing")]
    MissingHeader,
    #[error("svix-id is empty, too long or not printable")]
    BadId,
    #[error("svix-timestamp is not a number")]
    BadTimestamp,
    #[error("svix-timestamp is more than five minutes off")]
    OutsideTolerance,
    #[error("no signature matches")]
    NoMatch,
}

/// Checks a delivery the way Svix signs it: HMAC-SHA256 over `{id}.{timestamp}.{body}`, with
/// any of the space-separated `v1,<base64>` entries matching (compared in constant time), and
/// the timestamp within five minutes of `now_ms`.
pub fn verify(
    key: &WebhookKey,
    headers: &SvixHeaders<'_>,
    body: &[u8],
    now_ms: i64,
) -> Result<(), SignatureFailure> {
    let id = headers.id;
    if id.is_empty() || id.len() > MAX_EVENT_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SignatureFailure::BadId);
    }
    let timestamp: i64 = headers
        .timestamp
        .parse()
        .map_err(|_| SignatureFailure::BadTimestamp)?;
    if now_ms.div_euclid(1000).abs_diff(timestamp) > TOLERANCE_SECS {
        return Err(SignatureFailure::OutsideTolerance);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(headers.timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let matches = headers
        .signature
        .split_whitespace()
        .filter_map(|entry| match entry.split_once(',') {
            Some(("v1", signature)) => STANDARD.decode(signature).ok(),
            _ => None,
        })
        .any(|signature| mac.clone().verify_slice(&signature).is_ok());
    if matches {
        Ok(())
    } else {
        Err(SignatureFailure::NoMatch)
    }
}

/// A Clerk webhook event. Only `user.created`, `user.updated` and `user.deleted` are applied;
/// any other type is acknowledged and ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClerkEvent {
    /// e.g. `user.created`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The user for `user.*` events; other events carry other objects.
    #[serde(default)]
    #[schema(value_type = ClerkUser)]
    pub data: serde_json::Value,
}

/// The parts of Clerk's user object that kanri keeps. `user.deleted` carries only `id` (and
/// `deleted: true`).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ClerkUser {
    /// The provider's user id (`user_…`), kept as the user's `external_id`.
    pub id: Option<String>,
    pub email_addresses: Vec<ClerkEmail>,
    pub primary_email_address_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub image_url: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ClerkEmail {
    pub id: Option<String>,
    pub email_address: Option<String>,
}

impl ClerkUser {
    /// The primary address, or the first one when none is marked primary.
    fn email(&self) -> Option<String> {
        let primary = self.primary_email_address_id.as_deref();
        self.email_addresses
            .iter()
            .find(|e| primary.is_some() && e.id.as_deref() == primary)
            .or_else(|| self.email_addresses.first())
            .and_then(|e| e.email_address.clone())
    }

    /// "First Last"; else the username; else the email's local part. The job validates it.
    fn name(&self, email: Option<&str>) -> Option<String> {
        let full = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let username = self.username.as_deref().map(str::trim);
        let local_part = email.and_then(|e| e.split('@').next()).map(str::trim);
        [Some(full.as_str()), username, local_part]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .map(str::to_string)
    }
}

/// The job arguments for a delivery, or `None` for an event type kanri ignores. A user event
/// whose `data` has the wrong shape is an error (`Err` with serde's reason); a well-shaped but
/// unusable one (no email, a bad address) is left for the job to refuse.
pub fn sync_args(event: ClerkEvent, event_id: &str) -> Result<Option<IdentitySync>, String> {
    let Some(kind) = IdentityEvent::from_provider(&event.kind) else {
        return Ok(None);
    };
    let user: ClerkUser = serde_json::from_value(event.data).map_err(|e| format!("data: {e}"))?;
    let (email, name, image_url) = if kind == IdentityEvent::UserDeleted {
        (None, None, None)
    } else {
        let email = user.email();
        let name = user.name(email.as_deref());
        (email, name, user.image_url.clone())
    };
    Ok(Some(IdentitySync {
        event_id: event_id.to_string(),
        kind,
        external_id: user.id,
        email,
        name,
        image_url,
    }))
}

/// What became of a verified delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Recorded, and its job enqueued.
    Queued,
    /// Its id was recorded before: acknowledged, nothing done.
    Replayed,
    /// An event type kanri does not apply.
    Ignored,
}

/// Records the delivery `event_id` and enqueues its job, in one transaction; a replayed id
/// enqueues nothing.
pub async fn receive(
    cx: &Ctx,
    tenant_id: &str,
    event_id: &str,
    args: Option<IdentitySync>,
) -> AppResult<Received> {
    let Some(args) = args else {
        return Ok(Received::Ignored);
    };
    let mut tx = cx.begin(tenant_id, None).await?;
    if !db::webhook_receipts::insert(&mut *tx, tenant_id, PROVIDER, event_id, now_ms()).await? {
        return Ok(Received::Replayed);
    }
    // The user changes when the job applies the event; that commit records its event.
    // One job per delivery, even if the receipt check were bypassed.
    let dedupe = format!(
        "{}:{tenant_id}:{PROVIDER}:{}",
        IdentitySync::NAME,
        args.event_id
    );
    tx.enqueue(NewJobSpec::of(tenant_id, &args).dedupe(dedupe));
    tx.commit().await?;
    Ok(Received::Queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn sign(key: &WebhookKey, id: &str, ts: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).unwrap();
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn matches_svix_reference_vector() {
        // The example from Svix's documentation on verifying payloads manually.
        let key = WebhookKey::parse(SECRET).unwrap();
        let body = br#"{"test": 2432232314}"#;
        let headers = SvixHeaders {
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: "1614265330",
            signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        };
        assert_eq!(verify(&key, &headers, body, 1_614_265_330_000), Ok(()));
    }

    #[test]
    fn accepts_any_listed_signature_and_rejects_the_rest() {
        let key = WebhookKey::parse(SECRET).unwrap();
        let now = 1_700_000_000_000;
        let good = sign(&key, "msg_1", "1700000000", b"{}");
        let listed = format!("v1,AAAA v2,xyz {good}");
        let h = |signature| SvixHeaders {
            id: "msg_1",
            timestamp: "1700000000",
            signature,
        };
        assert_eq!(verify(&key, &h(&listed), b"{}", now), Ok(()));
        assert_eq!(
            verify(&key, &h(&good), b"{ }", now),
            Err(SignatureFailure::NoMatch)
        );
        assert_eq!(
            verify(&key, &h("v1,not base64!"), b"{}", now),
            Err(SignatureFailure::NoMatch)
        );
        let other = WebhookKey::parse("whsec_c2VjcmV0").unwrap();
        assert_eq!(
            verify(&other, &h(&good), b"{}", now),
            Err(SignatureFailure::NoMatch)
        );
        assert_eq!(
            verify(&key, &h(&good), b"{}", now + 301_000),
            Err(SignatureFailure::OutsideTolerance)
        );
        assert_eq!(
            verify(&key, &h(&good), b"{}", now - 301_000),
            Err(SignatureFailure::OutsideTolerance)
        );
        assert_eq!(verify(&key, &h(&good), b"{}", now + 299_000), Ok(()));
    }

    #[test]
    fn parses_secrets_in_the_whsec_format() {
        assert!(WebhookKey::parse(SECRET).is_ok());
        for bad in [
            "",
            "whsec_",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_***",
        ] {
            assert!(WebhookKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{:?}", WebhookKey::parse(SECRET).unwrap()).contains("MfKQ"));
    }

    #[test]
    fn reads_the_primary_email_and_a_name() {
        let event: ClerkEvent = serde_json::from_str(
            r#"{"type": "user.created", "data": {"id": "user_1",
                "email_addresses": [{"id": "e1", "email_address": "old@example.com"},
                                    {"id": "e2", "email_address": "ada@example.com"}],
                "primary_email_address_id": "e2", "first_name": "Ada", "last_name": null,
                "image_url": "https://img.example.com/a.png"}}"#,
        )
        .unwrap();
        let args = sync_args(event, "msg_1").unwrap().unwrap();
        assert_eq!(args.external_id.as_deref(), Some("user_1"));
        assert_eq!(args.email.as_deref(), Some("ada@example.com"));
        assert_eq!(args.name.as_deref(), Some("Ada"));

        let nameless = ClerkUser {
            email_addresses: vec![ClerkEmail {
                id: None,
                email_address: Some("grace@example.com".into()),
            }],
            ..ClerkUser::default()
        };
        assert_eq!(nameless.name(Some("grace@example.com")).unwrap(), "grace");

        let other: ClerkEvent =
            serde_json::from_str(r#"{"type": "session.created", "data": {"id": 5}}"#).unwrap();
        assert!(sync_args(other, "msg_2").unwrap().is_none());
        let bad: ClerkEvent =
            serde_json::from_str(r#"{"type": "user.updated", "data": {"id": 5}}"#).unwrap();
        assert!(sync_args(bad, "msg_3").is_err());
    }
}

//! Outgoing webhooks, the parts with no database in them: Standard Webhooks signing
//! (`signing.rs`), the signing secrets' encryption at rest (`cipher.rs`), the SSRF guard
//! (`guard.rs`) and the delivery client that enforces it (`client.rs`). `services::webhooks`
//! joins them to the database and the write path.

pub mod cipher;
pub mod client;
pub mod guard;
pub mod signing;

pub use crate::config::WebhookSettings;
pub use cipher::SecretCipher;
pub use client::{AttemptResult, DeliveryClient};
pub use guard::{AddressGuard, Blocked};
pub use signing::{WebhookSecret, signature_header};

use crate::error::{AppError, AppResult};
use crate::storage::signing::SigningKey;

/// What endpoint management and deliveries need, built once at start.
#[derive(Clone)]
pub struct Webhooks {
    pub settings: WebhookSettings,
    pub client: DeliveryClient,
    /// `None` without a signing key (Postgres without `KANRI_SIGNING_KEY`): endpoints cannot
    /// be created, as their secrets could not be stored.
    cipher: Option<SecretCipher>,
}

impl Webhooks {
    pub fn new(
        settings: &WebhookSettings,
        signing_key: Option<&SigningKey>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: DeliveryClient::new(AddressGuard::new(settings.allowed_cidrs.clone()))?,
            settings: settings.clone(),
            cipher: signing_key.map(SecretCipher::from_signing_key),
        })
    }

    pub fn cipher(&self) -> AppResult<&SecretCipher> {
        self.cipher.as_ref().ok_or(AppError::NotConfigured(
            "outgoing webhooks need KANRI_SIGNING_KEY to encrypt their signing secrets",
        ))
    }

    pub fn guard(&self) -> &AddressGuard {
        self.client.guard()
    }
}

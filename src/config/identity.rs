//! The identity-provider section: the webhook signing key, decoded once at load.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::load::RawConfig;
use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Signs identity-provider webhooks (`KANRI_IDENTITY_WEBHOOK_SECRET`, `whsec_<base64>`,
    /// Svix's format); webhooks answer 503 without it.
    pub webhook_key: Option<WebhookKey>,
}

/// The signing key of `KANRI_IDENTITY_WEBHOOK_SECRET`: `whsec_` and the key in base64, held
/// decoded. Like [`Secret`](super::Secret), it never shows its bytes in `Debug`.
#[derive(Clone)]
pub struct WebhookKey(pub(crate) Vec<u8>);

impl WebhookKey {
    pub fn parse(value: &str) -> Result<Self, String> {
        let encoded = value
            .trim()
            .strip_prefix("whsec_")
            .ok_or("must look like whsec_<base64>, as the provider shows it")?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| "the part after whsec_ is not valid base64")?;
        if key.is_empty() {
            return Err("the key after whsec_ is empty".into());
        }
        Ok(Self(key))
    }
}

impl fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookKey([redacted])")
    }
}

impl IdentityConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let webhook_key = match &raw.identity_webhook_secret {
            Some(secret) => Some(
                WebhookKey::parse(secret.expose())
                    .map_err(|e| invalid("KANRI_IDENTITY_WEBHOOK_SECRET", e))?,
            ),
            None => None,
        };
        Ok(Self { webhook_key })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Secret};
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn identity_webhook_secret_is_checked_and_redacted() {
        assert!(
            Config::from_raw(raw())
                .unwrap()
                .identity
                .webhook_key
                .is_none()
        );
        let mut r = raw();
        r.identity_webhook_secret =
            Some(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()));
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("MfKQ9r8") && shown.contains("\"identity_webhook_secret\":\"***\""),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("MfKQ9r8"));
        for bad in [
            "",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
        ] {
            let mut r = raw();
            r.identity_webhook_secret = Some(Secret::new(bad.into()));
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(
                err.contains("KANRI_IDENTITY_WEBHOOK_SECRET") && !err.contains("MfKQ"),
                "{bad:?}: {err}"
            );
        }
    }
}

//! The billing section: the Stripe webhook signing secret and how often counted API calls are
//! written to the database.

use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, Secret, invalid};

#[derive(Debug, Clone)]
pub struct BillingConfig {
    /// Signs Stripe's webhooks (`KANRI_STRIPE_WEBHOOK_SECRET`, `whsec_…` as the dashboard shows
    /// it; Stripe's HMAC key is that whole string). `/v1/webhooks/stripe` answers 503 without.
    pub stripe_webhook_secret: Option<Secret<String>>,
    /// How often API calls counted in memory are added to the daily usage rows
    /// (`KANRI_USAGE_FLUSH_SECS`); also flushed at shutdown.
    pub usage_flush: Duration,
}

impl BillingConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        if raw.usage_flush_secs == 0 {
            return Err(invalid("KANRI_USAGE_FLUSH_SECS", "must be greater than 0"));
        }
        let stripe_webhook_secret = match &raw.stripe_webhook_secret {
            Some(s) if s.expose().trim().is_empty() => {
                return Err(invalid("KANRI_STRIPE_WEBHOOK_SECRET", "must not be empty"));
            }
            Some(s) => Some(Secret::new(s.expose().trim().to_string())),
            None => None,
        };
        Ok(Self {
            stripe_webhook_secret,
            usage_flush: Duration::from_secs(raw.usage_flush_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn stripe_secret_is_redacted_and_flush_must_be_positive() {
        let mut r = RawConfig {
            stripe_webhook_secret: Some(Secret::new("whsec_topsecret123".into())),
            ..RawConfig::default()
        };
        let c = Config::from_raw(r.clone()).unwrap();
        let shown = c.redacted().to_string();
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(
            shown.contains("\"stripe_webhook_secret\":\"***\""),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("topsecret"));
        assert_eq!(c.billing.usage_flush.as_secs(), 30);
        r.usage_flush_secs = 0;
        let err = Config::from_raw(r).unwrap_err().to_string();
        assert!(err.contains("KANRI_USAGE_FLUSH_SECS"), "{err}");
    }
}

//! The auth section: tenancy, session and invitation lifetimes, API-key usage flushing.

use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, invalid};
use crate::domain::Email;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `false`: one `default` tenant, and requests without a key belong to it.
    pub multi_tenant: bool,
    /// `KANRI_OPERATOR_EMAILS`: in single-tenant mode, the accounts that may open the admin
    /// pages with their own sign-in (beside the secret key), lower-cased.
    pub operator_emails: Vec<String>,
    pub session_ttl: Duration,
    /// How long an invitation can be accepted.
    pub invitation_ttl: Duration,
    /// How often the API keys' last-used times noted in memory are written to the database.
    pub key_usage_flush: Duration,
}

impl AuthConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        if raw.session_ttl_secs == 0 {
            return Err(invalid("KANRI_SESSION_TTL_SECS", "must be greater than 0"));
        }
        if raw.invitation_ttl_secs == 0 {
            return Err(invalid(
                "KANRI_INVITATION_TTL_SECS",
                "must be greater than 0",
            ));
        }
        if raw.key_usage_flush_secs == 0 {
            return Err(invalid(
                "KANRI_KEY_USAGE_FLUSH_SECS",
                "must be greater than 0",
            ));
        }
        let operator_emails = operator_emails(&raw.operator_emails)?;
        if raw.multi_tenant && !operator_emails.is_empty() {
            return Err(invalid(
                "KANRI_OPERATOR_EMAILS",
                "applies to single-tenant mode only; in multi-tenant mode each tenant's operator signs in with its secret key",
            ));
        }
        Ok(Self {
            multi_tenant: raw.multi_tenant,
            operator_emails,
            session_ttl: Duration::from_secs(raw.session_ttl_secs),
            invitation_ttl: Duration::from_secs(raw.invitation_ttl_secs),
            key_usage_flush: Duration::from_secs(raw.key_usage_flush_secs),
        })
    }
}

/// A comma-separated list of addresses, each checked and normalised as sign-in does.
fn operator_emails(raw: &str) -> Result<Vec<String>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            Email::parse("KANRI_OPERATOR_EMAILS", e)
                .map(|e| e.normalized().to_string())
                .map_err(|_| {
                    invalid(
                        "KANRI_OPERATOR_EMAILS",
                        format!("{e:?} is not an email address"),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_emails_are_checked_and_normalised() {
        assert_eq!(
            operator_emails(" Ops@Example.com , b@example.com,,").unwrap(),
            vec!["ops@example.com", "b@example.com"]
        );
        assert!(operator_emails("").unwrap().is_empty());
        let err = operator_emails("ops@example.com, nope")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("KANRI_OPERATOR_EMAILS") && err.contains("nope"),
            "{err}"
        );
    }
}

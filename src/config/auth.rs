//! The auth section: tenancy, session and invitation lifetimes, API-key usage flushing.

use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `false`: one `default` tenant, and requests without a key belong to it.
    pub multi_tenant: bool,
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
        Ok(Self {
            multi_tenant: raw.multi_tenant,
            session_ttl: Duration::from_secs(raw.session_ttl_secs),
            invitation_ttl: Duration::from_secs(raw.invitation_ttl_secs),
            key_usage_flush: Duration::from_secs(raw.key_usage_flush_secs),
        })
    }
}

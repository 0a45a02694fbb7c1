//! The rate-limit section: the per-tenant and auth-surface limits, and which peers may speak
//! for the client in `X-Forwarded-For`.

use ipnet::IpNet;

use super::load::RawConfig;
use super::networks::parse_networks;
use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// Requests per minute per tenant (`KANRI_RATE_LIMIT_PER_MINUTE`); a plan may set its own.
    pub per_minute: u32,
    /// Sign-in, sign-up, password-reset and invitation-accept requests per minute per client IP
    /// (`KANRI_AUTH_RATE_LIMIT_PER_MINUTE`).
    pub auth_per_minute: u32,
    /// Peers whose `X-Forwarded-For` is believed (`KANRI_TRUSTED_PROXIES`, comma-separated
    /// CIDRs or addresses). Empty: the socket peer is the client.
    pub trusted_proxies: Vec<IpNet>,
}

impl RateLimitConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        if raw.rate_limit_per_minute == 0 {
            return Err(invalid("KANRI_RATE_LIMIT_PER_MINUTE", "must be at least 1"));
        }
        if raw.auth_rate_limit_per_minute == 0 {
            return Err(invalid(
                "KANRI_AUTH_RATE_LIMIT_PER_MINUTE",
                "must be at least 1",
            ));
        }
        Ok(Self {
            per_minute: raw.rate_limit_per_minute,
            auth_per_minute: raw.auth_rate_limit_per_minute,
            trusted_proxies: parse_networks("KANRI_TRUSTED_PROXIES", &raw.trusted_proxies)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        let c = Config::from_raw(RawConfig::default()).unwrap();
        assert_eq!(c.rate_limit.per_minute, 1000);
        assert_eq!(c.rate_limit.auth_per_minute, 10);
        assert!(c.rate_limit.trusted_proxies.is_empty());
        let with = |f: fn(&mut RawConfig)| {
            let mut r = RawConfig::default();
            f(&mut r);
            Config::from_raw(r)
        };
        let c = with(|r| r.trusted_proxies = "10.0.0.0/8, 192.168.1.7 ,::1".into()).unwrap();
        let shown: Vec<String> = c
            .rate_limit
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]);
        let err = with(|r| r.trusted_proxies = "10.0.0.0/8,nonsense".into())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("KANRI_TRUSTED_PROXIES") && err.contains("nonsense"),
            "{err}"
        );
        let err = with(|r| r.rate_limit_per_minute = 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("KANRI_RATE_LIMIT_PER_MINUTE"), "{err}");
        let err = with(|r| r.auth_rate_limit_per_minute = 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("KANRI_AUTH_RATE_LIMIT_PER_MINUTE"), "{err}");
    }
}

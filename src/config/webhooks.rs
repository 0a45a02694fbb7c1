//! The outgoing-webhooks section: the retry schedule (`KANRI_WEBHOOK_RETRY_SCHEDULE`) and the
//! address ranges an operator allows deliveries to reach (`KANRI_WEBHOOK_ALLOWED_CIDRS`).

use std::time::Duration;

use ipnet::IpNet;

use super::load::RawConfig;
use super::networks::parse_networks;
use super::{ConfigError, invalid};

/// The default wait before each retry, in seconds (Standard Webhooks' suggested schedule:
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
pub const DEFAULT_RETRY_SCHEDULE: &str = "5,300,1800,7200,18000,36000,36000";

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The wait before retry n (1-based) after a failed attempt; one attempt more than entries.
    pub retry_schedule: Vec<Duration>,
    /// Ranges deliveries may reach although the SSRF guard blocks them by default.
    pub allowed_cidrs: Vec<IpNet>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_schedule: parse_schedule(DEFAULT_RETRY_SCHEDULE).expect("default is valid"),
            allowed_cidrs: Vec::new(),
        }
    }
}

impl WebhookSettings {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let retry_schedule = parse_schedule(&raw.webhook_retry_schedule)
            .map_err(|r| invalid("KANRI_WEBHOOK_RETRY_SCHEDULE", r))?;
        let allowed_cidrs =
            parse_networks("KANRI_WEBHOOK_ALLOWED_CIDRS", &raw.webhook_allowed_cidrs)?;
        Ok(Self {
            retry_schedule,
            allowed_cidrs,
        })
    }
}

/// `"5,300"` → 5 s, 300 s. At most 20 retries of at most a day each: a schedule is about
/// riding out an outage, not a queue that never drains.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let waits = text
        .split(',')
        .map(|part| match part.trim().parse::<u64>() {
            Ok(secs) if secs <= 86_400 => Ok(Duration::from_secs(secs)),
            _ => Err(format!(
                "{part:?} is not a number of seconds between 0 and 86400"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if waits.len() > 20 {
        return Err("at most 20 retries".into());
    }
    Ok(waits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_and_ranges_parse() {
        assert_eq!(parse_schedule(DEFAULT_RETRY_SCHEDULE).unwrap().len(), 7);
        assert_eq!(
            parse_schedule(" 1, 2 ").unwrap(),
            [1, 2].map(Duration::from_secs)
        );
        assert!(parse_schedule("").unwrap().is_empty());
        assert!(parse_schedule("5,x").is_err());
        assert!(parse_schedule("100000").is_err());
    }

    #[test]
    fn bad_values_name_their_variable_and_kanri_config_shows_them() {
        let raw = RawConfig {
            webhook_retry_schedule: "5,x".into(),
            ..RawConfig::default()
        };
        let err = WebhookSettings::from_raw(&raw).unwrap_err().to_string();
        assert!(err.contains("KANRI_WEBHOOK_RETRY_SCHEDULE"), "{err}");
        let raw = RawConfig {
            webhook_allowed_cidrs: "10.0.0.0/99".into(),
            ..RawConfig::default()
        };
        let err = WebhookSettings::from_raw(&raw).unwrap_err().to_string();
        assert!(err.contains("KANRI_WEBHOOK_ALLOWED_CIDRS"), "{err}");
        let raw = RawConfig {
            webhook_allowed_cidrs: "127.0.0.0/8, 10.1.0.0/16".into(),
            ..RawConfig::default()
        };
        let shown = super::super::Config::from_raw(raw).unwrap().redacted();
        assert_eq!(shown["webhook_allowed_cidrs"], "127.0.0.0/8,10.1.0.0/16");
        assert_eq!(shown["webhook_retry_schedule"], DEFAULT_RETRY_SCHEDULE);
    }
}

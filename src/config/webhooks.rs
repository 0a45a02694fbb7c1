//! The outgoing-webhooks section: the retry schedule (`KANRI_WEBHOOK_RETRY_SCHEDULE`) and the
//! address ranges an operator allows deliveries to reach (`KANRI_WEBHOOK_ALLOWED_CIDRS`).

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, invalid};

/// The default wait before each retry, in seconds (Standard Webhooks' suggested schedule:
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
pub const DEFAULT_RETRY_SCHEDULE: &str = "5,300,1800,7200,18000,36000,36000";

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The wait before retry n (1-based) after a failed attempt; one attempt more than entries.
    pub retry_schedule: Vec<Duration>,
    /// Ranges deliveries may reach although the SSRF guard blocks them by default.
    pub allowed_cidrs: Vec<Cidr>,
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
        let allowed_cidrs = parse_cidrs(&raw.webhook_allowed_cidrs)
            .map_err(|r| invalid("KANRI_WEBHOOK_ALLOWED_CIDRS", r))?;
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

pub fn parse_cidrs(text: &str) -> Result<Vec<Cidr>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(Cidr::from_str)
        .collect()
}

/// An address range: a network address and a prefix length (`10.0.0.0/8`, `fd00::/8`); a
/// bare address is its own /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8, bits: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (a >> shift) == (b >> shift)
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an address range like 10.0.0.0/8");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { network, prefix })
    }
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
        let cidrs = parse_cidrs("127.0.0.0/8, fd00::/8,10.1.2.3").unwrap();
        assert!(cidrs[0].contains("127.9.9.9".parse().unwrap()));
        assert!(!cidrs[0].contains("128.0.0.1".parse().unwrap()));
        assert!(cidrs[1].contains("fd12::1".parse().unwrap()));
        assert!(!cidrs[1].contains("127.0.0.1".parse().unwrap()));
        assert!(cidrs[2].contains("10.1.2.3".parse().unwrap()));
        assert!(!cidrs[2].contains("10.1.2.4".parse().unwrap()));
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(parse_cidrs("10.0.0.0/33").is_err());
        assert!(parse_cidrs("nonsense").is_err());
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

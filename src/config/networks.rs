//! Address ranges in settings (`KANRI_TRUSTED_PROXIES`, `KANRI_WEBHOOK_ALLOWED_CIDRS`):
//! comma-separated CIDRs, where a bare address is a network of one.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{ConfigError, invalid};

/// `10.0.0.0/8, 192.168.1.7` → networks; an error names `variable`.
pub(super) fn parse_networks(
    variable: &'static str,
    value: &str,
) -> Result<Vec<IpNet>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    invalid(
                        variable,
                        format!("`{entry}` is not a CIDR or an IP address"),
                    )
                })
        })
        .collect()
}

//! The SSRF guard: which addresses a delivery may connect to. By default nothing inside the
//! server's own networks — loopback, private, link-local (cloud metadata at 169.254.169.254),
//! CGNAT, unique-local, multicast, unspecified, broadcast, documentation and benchmarking
//! ranges, and those same addresses written as IPv4-mapped, IPv4-compatible, NAT64 or 6to4
//! IPv6. An operator can allow ranges back (`KANRI_WEBHOOK_ALLOWED_CIDRS`): self-hosters post
//! to tools on their own network. The check runs on the addresses actually connected to
//! (`client.rs` filters what DNS returns), so a name that resolves differently later cannot
//! slip past a check made at create time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("blocked address {addr}: {range} (SSRF guard; see KANRI_WEBHOOK_ALLOWED_CIDRS)")]
pub struct Blocked {
    pub addr: IpAddr,
    pub range: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    allowed: Vec<IpNet>,
}

impl AddressGuard {
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// Ok when a delivery may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Blocked> {
        // An IPv4-mapped address is the IPv4 address on the wire: judge (and allow) it as that.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self.allowed.iter().any(|c| c.contains(&ip)) {
            return Ok(());
        }
        match blocked_range(ip) {
            Some(range) => Err(Blocked { addr: ip, range }),
            None => Ok(()),
        }
    }
}

/// The name of the blocked range `ip` is in, if any.
pub fn blocked_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified (0.0.0.0/8)",
        (127, _, _) => "loopback (127.0.0.0/8)",
        (10, _, _) => "private (10.0.0.0/8)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (169, 254, _) => "link-local (169.254.0.0/16)",
        (100, 64..=127, _) => "shared CGNAT (100.64.0.0/10)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast (224.0.0.0/4)",
        (240..=255, _, _) => "reserved or broadcast (240.0.0.0/4)",
        _ => return None,
    })
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified (::)");
    }
    if ip.is_loopback() {
        return Some("loopback (::1)");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_range(v4).map(|_| "IPv4-mapped form of a blocked address");
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    Some(match s[0] {
        // ::a.b.c.d, the deprecated IPv4-compatible form.
        0 if s[1..6].iter().all(|x| *x == 0) => {
            return v4_range(embedded(s[6], s[7]))
                .map(|_| "IPv4-compatible form of a blocked address");
        }
        // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
        0x64 if s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0) => {
            return v4_range(embedded(s[6], s[7])).map(|_| "NAT64 form of a blocked address");
        }
        // 6to4 (2002::/16) carries an IPv4 address in bits 16–47.
        0x2002 => return v4_range(embedded(s[1], s[2])).map(|_| "6to4 form of a blocked address"),
        x if x & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        x if x & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        x if x & 0xfe00 == 0xfc00 => "unique-local (fc00::/7)",
        x if x & 0xff00 == 0xff00 => "multicast (ff00::/8)",
        0x2001 if s[1] == 0x0db8 => "documentation (2001:db8::/32)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(text: &str) -> bool {
        AddressGuard::default()
            .check(text.parse().unwrap())
            .is_err()
    }

    #[test]
    fn blocks_internal_ranges_in_every_spelling() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.10",
            "198.51.100.1",
            "203.0.113.7",
            "198.18.0.1",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.1.2.3",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "2002:7f00:1::1",
            "fec0::1",
        ] {
            assert!(blocked(ip), "{ip} should be blocked");
        }
    }

    #[test]
    fn lets_public_addresses_through() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(!blocked(ip), "{ip} should pass");
        }
    }

    #[test]
    fn the_allow_list_opens_ranges_including_their_mapped_forms() {
        let guard = AddressGuard::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(guard.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(guard.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(guard.check("10.0.0.1".parse().unwrap()).is_err());
        assert!(guard.check("::1".parse().unwrap()).is_err());
        let err = guard.check("10.0.0.1".parse().unwrap()).unwrap_err();
        assert!(
            err.to_string()
                .contains("blocked address 10.0.0.1: private"),
            "{err}"
        );
    }
}

//! Who the client is: the socket peer, unless the peer is a trusted proxy, in which case the
//! right-most `X-Forwarded-For` entry that is not a trusted proxy.
//!
//! Right-most, because every proxy *appends* the address it saw: entries to the left of the
//! last trusted hop were written by the client and can be anything.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The client's address. `forwarded_for` are the `X-Forwarded-For` header values in order.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    proxies: &[IpNet],
) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted(client, proxies) {
        return client;
    }
    let entries: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    for entry in entries.into_iter().rev() {
        match parse(entry) {
            // Garbage where an address should be: the hop that handed it on (the nearest
            // trusted one) is as far as we can see.
            None => return client,
            Some(ip) if !trusted(ip, proxies) => return ip,
            Some(ip) => client = ip,
        }
    }
    // Every hop trusted: the left-most is the client.
    client
}

/// The per-address limiter's key for `ip`. One IPv6 subscriber usually holds a whole /64 and
/// can change the low 64 bits at will, so IPv6 counts per /64; IPv4 (and IPv4-mapped IPv6)
/// counts per address.
pub fn limit_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::MAX >> 64);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_ipv4_per_address() {
        assert_eq!(limit_key(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(limit_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies = nets(&["10.0.0.0/8"]);
        let got = client_ip(ip("203.0.113.9"), ["1.1.1.1"].into_iter(), &proxies);
        assert_eq!(got, ip("203.0.113.9"));
        assert_eq!(
            client_ip(ip("10.0.0.1"), ["1.1.1.1"].into_iter(), &[]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_behind_trusted_proxies() {
        let proxies = nets(&["10.0.0.0/8", "192.168.0.0/16"]);
        // The client forged 6.6.6.6; the edge proxy appended the real 198.51.100.7; an inner
        // proxy appended the edge's 10.1.2.3.
        let got = client_ip(
            ip("192.168.1.1"),
            ["6.6.6.6, 198.51.100.7", "10.1.2.3"].into_iter(),
            &proxies,
        );
        assert_eq!(got, ip("198.51.100.7"));
    }

    #[test]
    fn missing_garbled_or_all_trusted_entries() {
        let proxies = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), std::iter::empty(), &proxies),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), ["nonsense, 10.0.0.2"].into_iter(), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), ["10.0.0.3, 10.0.0.2"].into_iter(), &proxies),
            ip("10.0.0.3")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), ["[2001:db8::1]:443"].into_iter(), &proxies),
            ip("2001:db8::1")
        );
        // IPv4-mapped IPv6 peers (a dual-stack listener) count as their IPv4 address.
        assert_eq!(
            client_ip(
                ip("::ffff:10.0.0.1"),
                ["198.51.100.7"].into_iter(),
                &proxies
            ),
            ip("198.51.100.7")
        );
    }
}

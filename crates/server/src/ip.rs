//! The client IP, as Better Auth derives it for sessions and rate limiting
//! (@better-auth/core: dist/utils/ip.mjs getIP, getIPFromHeader, normalizeIP, parseCIDR).
//!
//! The address comes only from forwarding headers (`x-forwarded-for` by default,
//! `advanced.ipAddress.ipAddressHeaders` upstream), never from the socket: Portcullis, like Better
//! Auth, expects to sit behind a proxy that sets the header. Without trusted proxies a header is
//! believed only when it holds exactly one address; with them the chain is walked from the right
//! and the first hop that is not a trusted proxy is the client.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;

/// An IP network (`IP` or `IP/prefix`), as `advanced.ipAddress.trustedProxies` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    /// parseCIDR: an IP, or `IP/prefix` with a digits-only prefix within the family's width.
    /// IPv4-mapped IPv6 addresses count as IPv4 (ipToBytes).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an IP address or CIDR range");
        let (ip, prefix) = match s.rsplit_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let addr = unmap(ip.trim().parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|&n| n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        Ok(Self { addr, prefix })
    }
}

impl Cidr {
    /// matchesCIDR: same family, and the first `prefix` bits agree.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmap(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(net.to_bits().into(), ip.to_bits().into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(net.to_bits(), ip.to_bits(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(net: u128, ip: u128, prefix: u8, width: u32) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = width - u32::from(prefix);
    (net >> shift) == (ip >> shift)
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4 (extractIPv4FromMapped).
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Where the client IP is read from (`advanced.ipAddress` upstream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSettings {
    /// Headers tried in order (`ipAddressHeaders`, default `x-forwarded-for`), lower-case.
    pub headers: Vec<String>,
    /// `trustedProxies`: hops stripped from the right of a forwarded chain.
    pub trusted_proxies: Vec<Cidr>,
}

impl Default for IpSettings {
    fn default() -> Self {
        Self {
            headers: vec!["x-forwarded-for".into()],
            trusted_proxies: Vec::new(),
        }
    }
}

/// getIP: the normalised client IP from the first configured header that yields one; else
/// 127.0.0.1 in development; else `None` (no trustworthy address).
pub fn client_ip(headers: &HeaderMap, settings: &IpSettings, dev: bool) -> Option<String> {
    let from_headers = settings.headers.iter().find_map(|name| {
        let value = headers.get(name.as_str())?.to_str().ok()?;
        ip_from_header(value, &settings.trusted_proxies)
    });
    from_headers.or_else(|| dev.then(|| "127.0.0.1".to_string()))
}

/// getIPFromHeader: with trusted proxies, the rightmost hop that is not one of them (an
/// unparsable hop on the way ends the walk with `None`); without, only a single-value header.
pub fn ip_from_header(value: &str, trusted_proxies: &[Cidr]) -> Option<String> {
    let hops: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !trusted_proxies.is_empty() {
        for hop in hops.iter().rev() {
            let ip = hop.parse::<IpAddr>().ok()?;
            if trusted_proxies.iter().any(|p| p.contains(ip)) {
                continue;
            }
            return Some(normalize_ip(ip));
        }
        return None;
    }
    match hops.as_slice() {
        [one] => one.parse::<IpAddr>().ok().map(normalize_ip),
        _ => None,
    }
}

/// normalizeIP: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 fully expanded and cut to its
/// /64 network (the default `ipv6Subnet`).
pub fn normalize_ip(ip: IpAddr) -> String {
    match unmap(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (0..8)
                .map(|i| format!("{:04x}", if i < 4 { s[i] } else { 0 }))
                .collect::<Vec<_>>()
                .join(":")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn normalizes_ips_like_better_auth() {
        let n = |s: &str| normalize_ip(s.parse().unwrap());
        assert_eq!(n("203.0.113.9"), "203.0.113.9");
        assert_eq!(n("2001:DB8::1"), "2001:0db8:0000:0000:0000:0000:0000:0000");
        assert_eq!(n("::1"), "0000:0000:0000:0000:0000:0000:0000:0000");
        assert_eq!(n("::ffff:203.0.113.5"), "203.0.113.5");
    }

    #[test]
    fn single_value_header_without_trusted_proxies() {
        assert_eq!(
            ip_from_header(" 203.0.113.9 ", &[]).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(ip_from_header("203.0.113.9, 10.0.0.1", &[]), None);
        assert_eq!(ip_from_header("nope", &[]), None);
        assert_eq!(ip_from_header(" , ", &[]), None);
    }

    #[test]
    fn trusted_proxies_strip_from_the_right() {
        let t = cidrs(&["10.0.0.0/8", "2001:db8::/32"]);
        assert_eq!(
            ip_from_header("198.51.100.1, 203.0.113.9, 10.1.2.3", &t).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            ip_from_header("203.0.113.9, 2001:db8::5", &t).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(ip_from_header("10.0.0.1, 10.0.0.2", &t), None);
        assert_eq!(ip_from_header("junk, 10.0.0.2", &t), None);
        assert_eq!(
            ip_from_header("::ffff:10.9.9.9", &cidrs(&["10.0.0.0/8", "1.2.3.4"])),
            None
        );
    }

    #[test]
    fn parses_cidrs_like_parse_cidr() {
        assert!("10.0.0.0/8".parse::<Cidr>().is_ok());
        assert!("::1".parse::<Cidr>().is_ok());
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/",
            "example.com",
            "::/129",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        let c: Cidr = "192.168.1.0/24".parse().unwrap();
        assert!(c.contains("192.168.1.200".parse().unwrap()));
        assert!(!c.contains("192.168.2.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
    }

    #[test]
    fn headers_in_order_then_dev_fallback() {
        let mut h = HeaderMap::new();
        let settings = IpSettings {
            headers: vec!["cf-connecting-ip".into(), "x-forwarded-for".into()],
            trusted_proxies: Vec::new(),
        };
        assert_eq!(client_ip(&h, &settings, false), None);
        assert_eq!(client_ip(&h, &settings, true).as_deref(), Some("127.0.0.1"));
        h.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_static("203.0.113.1"),
        );
        assert_eq!(
            client_ip(&h, &settings, false).as_deref(),
            Some("203.0.113.1")
        );
        h.insert(
            HeaderName::from_static("cf-connecting-ip"),
            HeaderValue::from_static("198.51.100.7"),
        );
        assert_eq!(
            client_ip(&h, &settings, false).as_deref(),
            Some("198.51.100.7")
        );
    }
}

//! IP addresses, CIDRs, DNS names.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipnet::Ipv4Net;

pub(crate) fn ip_addr(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| format!("{s:?} is not an IP address"))
}

pub(crate) fn ipv4_addr(s: &str) -> Result<Ipv4Addr, String> {
    s.parse().map_err(|_| format!("{s:?} is not an IPv4 address"))
}

/// An interface address in CIDR form, e.g. `172.20.30.1/24` (host bits allowed).
pub(crate) fn ipv4_interface(s: &str) -> Result<Ipv4Net, String> {
    if !s.contains('/') {
        return Err(format!("{s:?} is not an IPv4 CIDR address: the prefix length is missing (e.g. /24)"));
    }
    s.parse().map_err(|_| format!("{s:?} is not an IPv4 CIDR address like 192.168.1.10/24"))
}

/// A DNS name (RFC 1123 labels); a single trailing dot is allowed.
pub(crate) fn dns_name(s: &str) -> Result<(), String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Err("a DNS name must not be empty".into());
    }
    if name.len() > 253 {
        return Err(format!("DNS name is {} characters long; the limit is 253", name.len()));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.split('.').all(label_ok) { Ok(()) } else { Err(format!("{s:?} is not a valid DNS name")) }
}

/// An NTP server: an IP literal or a DNS name.
pub(crate) fn ntp_server(s: &str) -> Result<(), String> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{s:?} contains whitespace or control characters"));
    }
    if ip_addr(s).is_ok() { Ok(()) } else { dns_name(s) }
}

/// `host:port` with an IP literal host, e.g. `0.0.0.0:18090` or `[::1]:80`.
pub(crate) fn socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| format!("{s:?} is not an IP address and port like 127.0.0.1:8080"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        for ok in ["local", "a.example.com", "example.com.", "x-1.y"] {
            assert!(dns_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a..b", "a_b", "a b", &"a".repeat(64), "é.com"] {
            assert!(dns_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cidr_needs_a_prefix() {
        assert!(ipv4_interface("10.0.0.1/24").is_ok());
        assert!(ipv4_interface("10.0.0.1").unwrap_err().contains("prefix length is missing"));
        assert!(ipv4_interface("10.0.0.1/33").is_err());
    }

    #[test]
    fn ntp_servers() {
        assert!(ntp_server("192.0.2.1").is_ok());
        assert!(ntp_server("time.example.org").is_ok());
        assert!(ntp_server("time example").is_err());
    }
}

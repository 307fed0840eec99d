//! `PublishPort=` values, and how rootless containers are confined to loopback.
//!
//! A rootless container's published ports are bound to 127.0.0.1 so nothing reaches
//! them except through the host (a reverse proxy on the host network). The renderer
//! and the validator share this parser so they can never disagree.

/// Where a port is published, split out of `[[ip:][host]:]container[/proto]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishSpec {
    pub bind: Option<String>,
    pub host: Option<String>,
    pub container: String,
    pub protocol: Option<String>,
}

/// The outcome of confining a rootless `PublishPort` to loopback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopbackPublish {
    /// The value to render, e.g. `127.0.0.1:8080:80`.
    pub value: String,
    /// Set when an explicit bind address other than loopback was replaced.
    pub replaced_bind: Option<String>,
}

fn is_port_or_range(s: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    };
    match s.split_once('-') {
        Some((a, b)) => ok(a) && ok(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok(),
        None => ok(s),
    }
}

/// Parses a `PublishPort` value.
pub fn parse_publish(value: &str) -> Result<PublishSpec, String> {
    let (rest, protocol) = match value.rsplit_once('/') {
        Some((rest, proto)) if matches!(proto, "tcp" | "udp" | "sctp") => (rest, Some(proto.to_owned())),
        Some(_) => return Err(format!("{value:?}: the protocol must be tcp, udp or sctp")),
        None => (value, None),
    };
    // An IPv6 bind address is written in brackets: [::1]:8080:80.
    let (bind, rest) = if let Some(after) = rest.strip_prefix('[') {
        let (ip, tail) = after.split_once(']').ok_or_else(|| format!("{value:?}: unclosed `[`"))?;
        let tail = tail.strip_prefix(':').ok_or_else(|| format!("{value:?}: expected `:` after the address"))?;
        (Some(ip.to_owned()), tail.to_owned())
    } else {
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.len() {
            1 | 2 => (None, rest.to_owned()),
            3 => (Some(parts[0].to_owned()), format!("{}:{}", parts[1], parts[2])),
            _ => return Err(format!("{value:?} is not `[ip:][hostPort:]containerPort[/protocol]`")),
        }
    };
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => ((!h.is_empty()).then(|| h.to_owned()), c.to_owned()),
        None => (None, rest),
    };
    if !is_port_or_range(&container) {
        return Err(format!("{value:?}: container port {container:?} is not a port number (1–65535) or range"));
    }
    if let Some(h) = &host {
        if !is_port_or_range(h) {
            return Err(format!("{value:?}: host port {h:?} is not a port number (1–65535) or range"));
        }
    }
    Ok(PublishSpec { bind, host, container, protocol })
}

/// Rewrites a rootless `PublishPort` to bind 127.0.0.1. Errors when no numeric host
/// port is given (a random port would be unreachable by design).
pub fn loopback_publish(value: &str) -> Result<LoopbackPublish, String> {
    let spec = parse_publish(value)?;
    let Some(host) = spec.host else {
        return Err(format!(
            "{value:?} does not name a host port; rootless ports are published as 127.0.0.1:HOST:CONTAINER"
        ));
    };
    let replaced_bind = match spec.bind.as_deref() {
        None | Some("127.0.0.1" | "localhost" | "::1") => None,
        Some(other) => Some(other.to_owned()),
    };
    let proto = spec.protocol.map(|p| format!("/{p}")).unwrap_or_default();
    Ok(LoopbackPublish { value: format!("127.0.0.1:{host}:{}{proto}", spec.container), replaced_bind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_container_become_loopback() {
        assert_eq!(loopback_publish("8080:80").unwrap().value, "127.0.0.1:8080:80");
        assert_eq!(loopback_publish("5353:53/udp").unwrap().value, "127.0.0.1:5353:53/udp");
        assert_eq!(loopback_publish("8000-8001:80-81").unwrap().value, "127.0.0.1:8000-8001:80-81");
    }

    #[test]
    fn loopback_aliases_map_silently() {
        for v in ["127.0.0.1:8080:80", "localhost:8080:80", "[::1]:8080:80"] {
            let out = loopback_publish(v).unwrap();
            assert_eq!((out.value.as_str(), out.replaced_bind), ("127.0.0.1:8080:80", None), "{v}");
        }
    }

    #[test]
    fn other_bind_addresses_are_replaced_and_reported() {
        let out = loopback_publish("0.0.0.0:8080:80").unwrap();
        assert_eq!(out.value, "127.0.0.1:8080:80");
        assert_eq!(out.replaced_bind.as_deref(), Some("0.0.0.0"));
        assert_eq!(loopback_publish("[2001:db8::1]:80:80").unwrap().replaced_bind.as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn a_host_port_is_required() {
        assert!(loopback_publish("80").unwrap_err().contains("does not name a host port"));
        assert!(loopback_publish("0.0.0.0::80").unwrap_err().contains("does not name a host port"));
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in ["http:80", "80:http", "1:2:3:4", "0:80", "70000:80", "80:80/icmp", "[::1:80:80"] {
            assert!(parse_publish(bad).is_err(), "{bad}");
        }
    }
}

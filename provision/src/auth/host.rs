//! Host/Origin/Referer checks for the routes that work without a signature before the
//! first apply (`POST /api/config`, `POST /api/validate`, the Boot UI).
//!
//! DNS rebinding: a hostile page can make a browser send requests to the device under
//! the attacker's host name, so `Host` must be something only the device's own network
//! answers for: an IP literal, `localhost`, a configured device name or a `*.local`
//! (mDNS) name. CSRF: a browser adds `Origin` (and often `Referer`) to cross-site
//! requests; when present they must name exactly the host (and port) of `Host`.
//! `Origin: null` (sandboxed frames, file: pages, some redirects) is refused.

use std::net::IpAddr;

/// Why a request's headers were refused (all answer 403).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("the Host header is missing or malformed")]
    MissingHost,
    #[error("Host {0:?} is not an IP address, localhost, a device name or a .local name")]
    UntrustedHost(String),
    #[error("Origin {0:?} does not match the Host header")]
    OriginMismatch(String),
    #[error("Referer {0:?} does not match the Host header")]
    RefererMismatch(String),
    #[error("cross-site requests are refused (Sec-Fetch-Site: cross-site)")]
    CrossSite,
    #[error("the form's bootstrap token is missing or stale; reload the page")]
    BadToken,
}

/// The request headers this check looks at (already converted to strings; a header
/// that is not valid UTF-8 is passed as `Some("")`, which never matches).
#[derive(Debug, Default, Clone, Copy)]
pub struct Headers<'a> {
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
}

/// Checks the headers; `device_names` are the names the device answers to besides IP
/// literals, `localhost` and `*.local` (its host name, `--device-name`s, gateway aliases).
pub fn check(headers: Headers<'_>, device_names: &[String]) -> Result<(), HostError> {
    let host_header = headers.host.ok_or(HostError::MissingHost)?;
    let (host, port) = split_authority(host_header).ok_or(HostError::MissingHost)?;
    if !trusted_host(&host, device_names) {
        return Err(HostError::UntrustedHost(host_header.to_owned()));
    }
    if headers.sec_fetch_site == Some("cross-site") {
        return Err(HostError::CrossSite);
    }
    if let Some(origin) = headers.origin {
        if !same_authority(origin, &host, port, false) {
            return Err(HostError::OriginMismatch(origin.to_owned()));
        }
    }
    if let Some(referer) = headers.referer {
        if !same_authority(referer, &host, port, true) {
            return Err(HostError::RefererMismatch(referer.to_owned()));
        }
    }
    Ok(())
}

/// Whether a (lowercased, port-less) host is one the device can be reached by without DNS
/// controlled by someone else.
fn trusted_host(host: &str, device_names: &[String]) -> bool {
    if host.starts_with('[') {
        return host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).is_some_and(|h| h.parse::<IpAddr>().is_ok());
    }
    if host.parse::<IpAddr>().is_ok() || host == "localhost" {
        return true;
    }
    if let Some(label) = host.strip_suffix(".local") {
        return !label.is_empty() && label.split('.').all(valid_label);
    }
    device_names.iter().any(|n| n.trim_end_matches('.').eq_ignore_ascii_case(host))
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Splits `host[:port]` (IPv6 in brackets), lowercasing the host and dropping one
/// trailing dot. `None` for anything malformed (userinfo, paths, empty host, bad port).
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    if authority.is_empty() || authority.bytes().any(|b| matches!(b, b'@' | b'/' | b'\\' | b'?' | b'#' | b' ')) {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let rest = &authority[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return None,
        };
        (&authority[..=end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host.is_empty() || host.contains(':') && !host.starts_with('[') {
        return None;
    }
    Some((host, port))
}

/// Whether an Origin (`scheme://authority`) or Referer (a full URL) names this service:
/// `http` (the service speaks plain HTTP, so an `https` page is another origin even on
/// the same host and port) and the same host and port as `Host` (default 80).
fn same_authority(value: &str, host: &str, port: Option<u16>, is_referer: bool) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else { return false };
    if !scheme.eq_ignore_ascii_case("http") {
        return false;
    }
    let default_port = 80;
    let authority = if is_referer {
        rest.split(['/', '?', '#']).next().unwrap_or_default()
    } else {
        if rest.contains(['/', '?', '#']) {
            return false;
        }
        rest
    };
    let Some((their_host, their_port)) = split_authority(authority) else { return false };
    their_host == host && their_port.unwrap_or(default_port) == port.unwrap_or(default_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["cairn".into(), "gate-01.lan".into()]
    }

    fn host(h: &str) -> Result<(), HostError> {
        check(Headers { host: Some(h), ..Default::default() }, &names())
    }

    fn with(h: &str, origin: Option<&str>, referer: Option<&str>) -> Result<(), HostError> {
        check(Headers { host: Some(h), origin, referer, sec_fetch_site: None }, &names())
    }

    #[test]
    fn trusted_hosts() {
        for h in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "192.168.1.20:8080",
            "[::1]:8080",
            "[fe80::1]",
            "localhost",
            "LOCALHOST:8080",
            "localhost.",
            "cairn",
            "Cairn:8080",
            "gate-01.lan",
            "device-aabbcc.local",
            "device.local:8080",
            "a.b.local",
        ] {
            assert_eq!(host(h), Ok(()), "{h}");
        }
    }

    #[test]
    fn dns_rebinding_names_are_refused() {
        for h in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.nip.io",
            "localhost.evil.example",
            "cairn.evil.example",
            "evil.local.evil.example",
            ".local",
            "-x.local",
            "2130706433",
            "0x7f000001",
            "127.1",
            "[evil]",
            "::1",
            "user@127.0.0.1",
            "127.0.0.1/x",
            "127.0.0.1:99999",
            "127.0.0.1:",
            "",
        ] {
            assert!(host(h).is_err(), "{h}");
        }
        assert_eq!(check(Headers::default(), &names()), Err(HostError::MissingHost));
    }

    #[test]
    fn origin_must_match_host() {
        assert_eq!(with("127.0.0.1:8080", Some("http://127.0.0.1:8080"), None), Ok(()));
        assert_eq!(with("cairn", Some("http://cairn"), None), Ok(()));
        assert_eq!(with("cairn", Some("http://cairn:80"), None), Ok(()));
        assert_eq!(with("device.local:8080", Some("HTTP://Device.local:8080"), None), Ok(()));
        for origin in [
            "null",
            "http://evil.example",
            "http://127.0.0.1:8081",
            "http://127.0.0.1",
            "https://127.0.0.1:8080:443",
            "https://127.0.0.1:8080",
            "file://",
            "ftp://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080@evil.example",
            "http://evil.example#@127.0.0.1:8080",
            "",
        ] {
            assert!(with("127.0.0.1:8080", Some(origin), None).is_err(), "{origin}");
        }
    }

    #[test]
    fn referer_must_match_host() {
        assert_eq!(with("127.0.0.1:8080", None, Some("http://127.0.0.1:8080/?x=1")), Ok(()));
        assert_eq!(with("127.0.0.1:8080", Some("http://127.0.0.1:8080"), Some("http://127.0.0.1:8080/")), Ok(()));
        for referer in
            ["http://evil.example/", "http://127.0.0.1.evil.example:8080/", "about:blank", "http://127.0.0.1:9/"]
        {
            assert!(with("127.0.0.1:8080", None, Some(referer)).is_err(), "{referer}");
        }
    }

    #[test]
    fn cross_site_fetch_metadata_is_refused() {
        let h = Headers { host: Some("127.0.0.1"), sec_fetch_site: Some("cross-site"), ..Default::default() };
        assert_eq!(check(h, &names()), Err(HostError::CrossSite));
        let h = Headers { host: Some("127.0.0.1"), sec_fetch_site: Some("same-origin"), ..Default::default() };
        assert_eq!(check(h, &names()), Ok(()));
    }
}

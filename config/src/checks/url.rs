//! URLs for OS updates, web tiles, camera streams, probes and telemetry.

use url::{Host, Url};

use super::net::dns_name;

fn parse(s: &str) -> Result<Url, String> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{s:?} contains whitespace or control characters"));
    }
    Url::parse(s).map_err(|e| format!("{s:?} is not a valid URL: {e}"))
}

fn require_host(url: &Url, s: &str) -> Result<(), String> {
    match url.host() {
        Some(Host::Domain(d)) => dns_name(d).map_err(|_| format!("{s:?} has an invalid host name")),
        Some(_) => Ok(()),
        None => Err(format!("{s:?} has no host")),
    }
}

fn no_credentials(url: &Url, s: &str) -> Result<(), String> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{s:?} must not contain credentials"));
    }
    Ok(())
}

/// The OS update server: `https://` only, no credentials, query or fragment.
pub(crate) fn https_base_url(s: &str) -> Result<Url, String> {
    let url = parse(s)?;
    if url.scheme() != "https" {
        return Err(format!("{s:?} must be an https:// URL"));
    }
    require_host(&url, s)?;
    no_credentials(&url, s)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{s:?} must not include a query string or fragment"));
    }
    Ok(url)
}

/// A web tile or HTTP probe: `http://` or `https://`.
pub(crate) fn http_url(s: &str) -> Result<Url, String> {
    let url = parse(s)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{s:?} must be an http:// or https:// URL"));
    }
    require_host(&url, s)?;
    Ok(url)
}

/// A camera stream: `rtsp://` or `rtsps://`, credentials given separately.
pub(crate) fn rtsp_url(s: &str) -> Result<Url, String> {
    let url = parse(s)?;
    if !matches!(url.scheme(), "rtsp" | "rtsps") {
        return Err(format!("{s:?} must be an rtsp:// or rtsps:// URL"));
    }
    require_host(&url, s)?;
    no_credentials(&url, s)?;
    Ok(url)
}

/// The telemetry broker: `mqtt://` or `mqtts://`.
pub(crate) fn mqtt_url(s: &str) -> Result<Url, String> {
    let url = parse(s)?;
    if !matches!(url.scheme(), "mqtt" | "mqtts") {
        return Err(format!("{s:?} must be an mqtt:// or mqtts:// URL"));
    }
    require_host(&url, s)?;
    no_credentials(&url, s)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_upgrade_urls() {
        assert!(https_base_url("https://updates.example.com/cairn").is_ok());
        assert!(https_base_url("https://10.0.0.1:8443").is_ok());
        assert!(https_base_url("http://updates.example.com").unwrap_err().contains("https://"));
        assert!(https_base_url("https://u:p@updates.example.com").unwrap_err().contains("credentials"));
        assert!(https_base_url("https://updates.example.com/?a=b").unwrap_err().contains("query"));
        assert!(https_base_url("https://updates.example.com/#x").unwrap_err().contains("fragment"));
    }

    #[test]
    fn stream_urls() {
        assert!(rtsp_url("rtsp://10.0.0.5:554/stream1").is_ok());
        assert!(rtsp_url("rtsps://cam.local/s").is_ok());
        assert!(rtsp_url("http://10.0.0.5/").is_err());
        assert!(rtsp_url("rtsp://admin:pw@10.0.0.5/").unwrap_err().contains("credentials"));
    }
}

//! Pure value checks shared by the section decoders. Each returns a message that
//! completes the sentence "`key` …" so decoders can report it as is.

mod net;
mod ssh;
mod url;

pub(crate) use net::{dns_name, ip_addr, ipv4_addr, ipv4_interface, ntp_server, socket_addr};
pub use ssh::SSH_KEY_TYPES;
pub(crate) use ssh::ssh_public_key;
pub(crate) use url::{http_url, https_base_url, mqtt_url, rtsp_url};

/// Names of containers, networks, volumes, builds, pods, cameras and layouts: they
/// become file names and unit names, so only a conservative alphabet is allowed.
pub(crate) fn resource_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && name.len() <= 128 {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid name: use letters, digits, `_` and `-`, starting with a letter, digit or `_` (at most 128)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::resource_name;

    #[test]
    fn resource_names() {
        assert!(resource_name("web-1_a").is_ok());
        assert!(resource_name("_x").is_ok());
        for bad in ["", "-x", "a.b", "a/b", "../x", "a b", "é"] {
            assert!(resource_name(bad).is_err(), "{bad:?}");
        }
    }
}

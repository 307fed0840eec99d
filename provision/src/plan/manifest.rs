//! The manifest of a generation: every rendered unit with its service name, mode and
//! content hash, plus the hash of every rendered file. Plans are diffs of two manifests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which systemd manager runs a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnitMode {
    /// The system manager (privileged containers, networks, native units).
    Rootful,
    /// The `appsvc` user manager.
    Rootless,
}

/// One rendered unit as the renderer describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitEntry {
    /// `container`, `network`, `volume`, `build`, `pod` or `service` (native unit).
    pub kind: String,
    /// The config name (`web` for `[containers.container.web]`).
    pub name: String,
    pub mode: UnitMode,
    /// The systemd unit that runs it (`web.service`, `lan-network.service`).
    pub service: String,
    /// The unit file, relative to `rendered/`.
    pub path: String,
    /// Lowercase hex SHA-256 of the unit file.
    pub sha256: String,
    /// The unit file names the bundle's `files/` directory (`${FILES_DIR}`), so a change
    /// of those files changes what the unit runs even when its own bytes do not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uses_payload: bool,
}

/// What the plan needs to know about one generation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub units: Vec<UnitEntry>,
    /// Every rendered file (relative to `rendered/`) → lowercase hex SHA-256; host
    /// settings are compared through these.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// The bundle's `files/` tree: path relative to `files/` → lowercase hex SHA-256.
    #[serde(default)]
    pub payload: BTreeMap<String, String>,
}

impl Manifest {
    /// Sets [`UnitEntry::uses_payload`] on every unit whose file (its bytes from
    /// `contents`, by path relative to `rendered/`) mentions `files_dir`.
    pub fn mark_payload_users(&mut self, files_dir: &str, contents: impl Fn(&str) -> Option<Vec<u8>>) {
        let needle = files_dir.as_bytes();
        for unit in &mut self.units {
            unit.uses_payload =
                contents(&unit.path).is_some_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle));
        }
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_that_mention_the_files_directory_are_marked() {
        let entry = |name: &str| UnitEntry {
            kind: "build".into(),
            name: name.into(),
            mode: UnitMode::Rootful,
            service: format!("{name}.service"),
            path: format!("quadlet/rootful/{name}"),
            sha256: String::new(),
            uses_payload: true,
        };
        let mut manifest = Manifest { units: vec![entry("reads"), entry("other")], ..Manifest::default() };
        manifest.mark_payload_users("/data/cairn/current/files", |path| {
            Some(if path.ends_with("reads") {
                b"[Build]\nFile=/data/cairn/current/files/app/Containerfile\n".to_vec()
            } else {
                b"[Container]\nVolume=/data/cairn/current/config.toml:/c\n".to_vec()
            })
        });
        assert!(manifest.units[0].uses_payload);
        assert!(!manifest.units[1].uses_payload, "a stale mark is cleared");
    }
}

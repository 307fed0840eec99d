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
}

/// What the plan needs to know about one generation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub units: Vec<UnitEntry>,
    /// Every rendered file (relative to `rendered/`) → lowercase hex SHA-256; host
    /// settings are compared through these.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
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

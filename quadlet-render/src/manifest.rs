//! `manifest.json`: what a generation's rendered tree holds, for diffing generations.
//!
//! Each unit is listed with its kind, name, manager, service name, path and the
//! SHA-256 of its bytes; so is every other file, except that secrets carry no hash. Comparing two manifests tells the
//! activation which services to start, restart or stop without reading the files.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use cairn_config::Mode;

use crate::{FileKind, RenderContext, RenderedFile};

pub const MANIFEST_PATH: &str = "manifest.json";
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    /// The Podman version the Quadlet files were rendered for.
    pub podman_version: String,
    /// The account whose user manager runs the `rootless` units.
    pub rootless_user: String,
    /// Quadlet files and native systemd units, sorted by path.
    pub units: Vec<ManifestUnit>,
    /// Every other file, sorted by path.
    pub files: Vec<ManifestFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestUnit {
    /// `container`, `network`, `volume`, `build`, `pod` or `service`.
    pub kind: String,
    pub name: String,
    pub mode: Mode,
    pub service: String,
    pub path: String,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub path: String,
    /// Unix permissions in octal, e.g. `0644`.
    pub permissions: String,
    pub owner: Option<String>,
    /// `None` for secrets: the manifest is world-readable, and the hash of a short
    /// password could be brute-forced. Compare secret files themselves (both 0600).
    pub sha256: Option<String>,
    /// Whether the file is a credential.
    pub secret: bool,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    pub(crate) fn describe(files: &[RenderedFile], ctx: &RenderContext) -> Self {
        let mut units = Vec::new();
        let mut others = Vec::new();
        for f in files {
            let sha256 = sha256_hex(f.contents.as_bytes());
            let kind = match f.kind {
                FileKind::Quadlet(k) => Some(k.table().to_owned()),
                FileKind::Service => Some("service".to_owned()),
                FileKind::Data | FileKind::Secret => None,
            };
            match (kind, f.mode, &f.name, &f.service) {
                (Some(kind), Some(mode), Some(name), Some(service)) => units.push(ManifestUnit {
                    kind,
                    name: name.clone(),
                    mode,
                    service: service.clone(),
                    path: f.path.clone(),
                    sha256,
                }),
                _ => {
                    let secret = f.kind == FileKind::Secret;
                    others.push(ManifestFile {
                        path: f.path.clone(),
                        permissions: format!("{:04o}", f.permissions),
                        owner: f.owner.clone(),
                        sha256: (!secret).then_some(sha256),
                        secret,
                    })
                }
            }
        }
        units.sort_by(|a, b| a.path.cmp(&b.path));
        others.sort_by(|a, b| a.path.cmp(&b.path));
        Self {
            version: MANIFEST_VERSION,
            podman_version: ctx.podman_version.clone(),
            rootless_user: ctx.rootless_user.clone(),
            units,
            files: others,
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        s.push('\n');
        s
    }
}

//! Cairn's renderer: a validated [`Config`] into the files a device runs from.
//!
//! [`render`] is pure: it takes the config and a [`RenderContext`] (the runtime paths
//! and names the files must mention) and returns every file as bytes plus a
//! [`Manifest`] describing them, so a later plan can diff two generations. The same
//! input always gives the same bytes: resources are sorted by kind and name, sections
//! come in a fixed order and directives in key order.
//!
//! Where each file goes and why is described in `docs/src/rendering.md`.

mod containers;
mod firewall;
mod kiosk;
mod manifest;
mod network;
mod unit_file;
mod users;

use cairn_config::{Config, Mode, UnitValueError};

pub use manifest::{MANIFEST_PATH, MANIFEST_VERSION, Manifest, ManifestFile, ManifestUnit};

/// Directory of rootful Quadlet files in the rendered tree.
pub const QUADLET_ROOTFUL_DIR: &str = "quadlet/rootful";
/// Directory of rootless Quadlet files (the `appsvc` user's manager) in the rendered tree.
pub const QUADLET_ROOTLESS_DIR: &str = "quadlet/rootless";
/// Directory of native systemd units (system manager) in the rendered tree.
pub const SYSTEMD_DIR: &str = "systemd";

/// What the rendered files must say about the device they will run on.
///
/// Every path here is a *runtime* path (through the `current` generation link), never
/// a staging path, so a unit's bytes only change when its config changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderContext {
    /// What `${CONFIG_DIR}` expands to: the active generation's directory.
    pub config_dir: String,
    /// What `${FILES_DIR}` expands to: the active generation's `files/`.
    pub files_dir: String,
    /// Where the rendered tree itself is visible at runtime (the kiosk reads its
    /// bundle and secrets from here).
    pub rendered_dir: String,
    /// The account whose user manager runs rootless containers.
    pub rootless_user: String,
    /// The Podman version whose Quadlet generator will read the units.
    pub podman_version: String,
    /// Absolute path of the `cage` compositor.
    pub cage_program: String,
    /// Absolute path of the kiosk display program.
    pub kiosk_program: String,
}

impl RenderContext {
    /// The paths of a Cairn device: generations under `/data/cairn`, `current` the active one.
    pub fn device() -> Self {
        Self {
            config_dir: "/data/cairn/current".into(),
            files_dir: "/data/cairn/current/files".into(),
            rendered_dir: "/data/cairn/current/rendered".into(),
            rootless_user: "appsvc".into(),
            podman_version: cairn_config::directives::PODMAN_VERSION.into(),
            cage_program: "/usr/bin/cage".into(),
            kiosk_program: "/usr/bin/cairn-kiosk".into(),
        }
    }

    /// Rejects context values that could not be spliced into a unit file safely.
    ///
    /// Paths are limited to a conservative character set: a `%` would be read by
    /// systemd as a specifier, whitespace or `:` would split `Volume=` values, and a
    /// line break could add directives.
    fn check(&self) -> Result<(), RenderError> {
        let paths = [
            ("config_dir", &self.config_dir),
            ("files_dir", &self.files_dir),
            ("rendered_dir", &self.rendered_dir),
            ("cage_program", &self.cage_program),
            ("kiosk_program", &self.kiosk_program),
        ];
        for (field, value) in paths {
            let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+@".contains(c);
            let reason = if !value.starts_with('/') {
                Some("must be an absolute path")
            } else if value.split('/').any(|c| c == "." || c == "..") {
                Some("must not contain `.` or `..` components")
            } else if value.len() > 1 && value.ends_with('/') {
                Some("must not end with `/`")
            } else if !value.chars().all(safe) {
                Some("may only contain ASCII letters, digits and `/._-+@`")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(RenderError::Context { field, value: value.clone(), reason });
            }
        }
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 32
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        };
        if !name_ok(&self.rootless_user) {
            return Err(RenderError::Context {
                field: "rootless_user",
                value: self.rootless_user.clone(),
                reason: "must be a plain user name",
            });
        }
        if self.podman_version.is_empty() || !self.podman_version.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(RenderError::Context {
                field: "podman_version",
                value: self.podman_version.clone(),
                reason: "must be a version such as 5.4.2",
            });
        }
        Ok(())
    }

    /// Expands `${CONFIG_DIR}` and `${FILES_DIR}` in free text (not a unit value).
    pub(crate) fn expand(&self, s: &str) -> String {
        s.replace("${FILES_DIR}", &self.files_dir).replace("${CONFIG_DIR}", &self.config_dir)
    }

    /// A path inside the rendered tree, as seen at runtime.
    pub(crate) fn rendered_path(&self, relative: &str) -> String {
        format!("{}/{relative}", self.rendered_dir)
    }
}

/// What a rendered file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A Quadlet file (`.container`, `.network`, …) for the Podman generator.
    Quadlet(cairn_config::UnitKind),
    /// A native systemd unit.
    Service,
    /// Anything else the device reads: network, firewall, users, kiosk data.
    Data,
    /// A credential: written 0600, never logged.
    Secret,
}

/// One rendered file. Its `Debug` output never shows a secret's contents.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Relative path inside the rendered tree, `/`-separated.
    pub path: String,
    pub kind: FileKind,
    /// The systemd manager that runs it, for units.
    pub mode: Option<Mode>,
    /// The resource name (`web` for `web.container`), for units.
    pub name: Option<String>,
    /// The service systemd will know, for units (`web.service`, `data-volume.service`).
    pub service: Option<String>,
    /// Unix permission bits to write the file with.
    pub permissions: u32,
    /// The account that must own the file (root when `None`).
    pub owner: Option<String>,
    pub contents: String,
}

impl std::fmt::Debug for RenderedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted;
        let contents: &dyn std::fmt::Debug = if self.kind == FileKind::Secret {
            redacted = format!("<secret, {} bytes>", self.contents.len());
            &redacted
        } else {
            &self.contents
        };
        f.debug_struct("RenderedFile")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("name", &self.name)
            .field("service", &self.service)
            .field("permissions", &format_args!("{:04o}", self.permissions))
            .field("owner", &self.owner)
            .field("contents", contents)
            .finish()
    }
}

impl RenderedFile {
    pub(crate) fn data(path: impl Into<String>, contents: String) -> Self {
        Self {
            path: path.into(),
            kind: FileKind::Data,
            mode: None,
            name: None,
            service: None,
            permissions: 0o644,
            owner: None,
            contents,
        }
    }
}

/// Everything one config renders to.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    /// Every file except `manifest.json`, sorted by path.
    pub files: Vec<RenderedFile>,
    pub manifest: Manifest,
}

impl Rendered {
    /// The manifest as the file `manifest.json` (pretty JSON, trailing newline).
    pub fn manifest_file(&self) -> RenderedFile {
        RenderedFile::data(MANIFEST_PATH, self.manifest.to_json())
    }

    /// Every file including `manifest.json`, sorted by path.
    pub fn all_files(&self) -> Vec<RenderedFile> {
        let mut all = self.files.clone();
        all.push(self.manifest_file());
        all.sort_by(|a, b| a.path.cmp(&b.path));
        all
    }

    pub fn get(&self, path: &str) -> Option<&RenderedFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// Why a config could not be rendered. Validation rules out all of these for a
/// config it accepted; the renderer still reports them rather than panicking.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("render context: {field} {value:?} {reason}")]
    Context { field: &'static str, value: String, reason: &'static str },
    #[error("{file}: [{section}] {key}: after substitution the value {error}")]
    Substitution { file: String, section: &'static str, key: String, error: UnitValueError },
    #[error("{file}: PublishPort {value:?}: {reason}")]
    Publish { file: String, value: String, reason: String },
    #[error("{file}: {reason}")]
    Unit { file: String, reason: String },
    #[error("kiosk: {0}")]
    Kiosk(String),
    #[error("two rendered files would share the path {0}")]
    DuplicatePath(String),
}

/// Renders a validated config into files and their manifest.
pub fn render(config: &Config, ctx: &RenderContext) -> Result<Rendered, RenderError> {
    ctx.check()?;
    let mut files = containers::render(config, ctx)?;
    if config.kiosk_enabled() {
        files.extend(kiosk::render(config, ctx)?);
    }
    files.extend(users::render(config));
    files.extend(network::render(&config.network));
    files.push(firewall::render(&config.network));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(w) = files.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(RenderError::DuplicatePath(w[0].path.clone()));
    }
    let manifest = Manifest::describe(&files, ctx);
    Ok(Rendered { files, manifest })
}

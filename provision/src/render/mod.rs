//! Rendering as the pipeline sees it: config → files under `rendered/` plus the manifest.
//! The real renderer is the `quadlet-render` crate ([`QuadletRenderer`]); this module
//! adapts it to the small shape the store and the plan need, so both stay independent
//! of its internals (and tests can substitute their own [`Render`]).

use std::collections::BTreeMap;
use std::path::Path;

use cairn_config::Config;

use crate::plan::{Manifest, UnitEntry, UnitMode, sha256_hex};

/// One file of `rendered/` (never `manifest.json`, which is [`Rendered::manifest_json`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    /// Relative to `rendered/`, `/`-separated, no `..`.
    pub path: String,
    pub contents: Vec<u8>,
    /// Permission bits on disk (0600 for secrets).
    pub mode: u32,
    /// The account that must own the file (root when None).
    pub owner: Option<String>,
}

/// Everything rendered for one generation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
    pub units: Vec<UnitEntry>,
    /// The renderer's own `manifest.json`, stored as-is in the generation.
    pub manifest_json: Vec<u8>,
}

impl Rendered {
    /// The plan's view: units as rendered, and the hash of every file (secrets included;
    /// this never leaves the pipeline).
    /// `payload`: the bundle's files/ hashes ([`Manifest::payload`]); `files_dir`: where
    /// units see them (the render context's), to mark the units that read them.
    pub fn manifest(&self, payload: BTreeMap<String, String>, files_dir: &str) -> Manifest {
        let mut manifest = Manifest {
            units: self.units.clone(),
            files: self.files.iter().map(|f| (f.path.clone(), sha256_hex(&f.contents))).collect(),
            payload,
        };
        manifest.mark_payload_users(files_dir, |path| {
            self.files.iter().find(|f| f.path == path).map(|f| f.contents.clone())
        });
        manifest
    }
}

/// The runtime paths rendered files mention: always through `<state>/current`, never a
/// staging path, so a unit's bytes change only when its config does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderContext {
    pub config_dir: String,
    pub files_dir: String,
    pub rendered_dir: String,
}

impl RenderContext {
    pub fn for_state_dir(state_dir: &Path) -> Self {
        let current = state_dir.join("current");
        Self {
            config_dir: current.display().to_string(),
            files_dir: current.join("files").display().to_string(),
            rendered_dir: current.join("rendered").display().to_string(),
        }
    }
}

/// Turns a valid config into rendered files.
pub trait Render: Send + Sync + std::fmt::Debug {
    /// Which renderer this is, for job events.
    fn describe(&self) -> &'static str;
    fn render(&self, config: &Config, context: &RenderContext) -> Result<Rendered, String>;
}

/// `quadlet-render` with the device's programs, users and Podman version, and the
/// state directory's runtime paths.
#[derive(Debug, Default)]
pub struct QuadletRenderer {
    /// Where cage and the kiosk program are, when not the Debian appliance's `/usr/bin`
    /// (NixOS: store paths). Checked by the renderer like every path it writes.
    pub cage_program: Option<String>,
    pub kiosk_program: Option<String>,
}

impl Render for QuadletRenderer {
    fn describe(&self) -> &'static str {
        "quadlet-render"
    }

    fn render(&self, config: &Config, context: &RenderContext) -> Result<Rendered, String> {
        let device = quadlet_render::RenderContext::device();
        let ctx = quadlet_render::RenderContext {
            config_dir: context.config_dir.clone(),
            files_dir: context.files_dir.clone(),
            rendered_dir: context.rendered_dir.clone(),
            cage_program: self.cage_program.clone().unwrap_or(device.cage_program.clone()),
            kiosk_program: self.kiosk_program.clone().unwrap_or(device.kiosk_program.clone()),
            ..device
        };
        let rendered = quadlet_render::render(config, &ctx).map_err(|e| e.to_string())?;
        let units = rendered
            .manifest
            .units
            .iter()
            .map(|u| UnitEntry {
                kind: u.kind.clone(),
                name: u.name.clone(),
                mode: match u.mode {
                    cairn_config::Mode::Rootful => UnitMode::Rootful,
                    cairn_config::Mode::Rootless => UnitMode::Rootless,
                },
                service: u.service.clone(),
                path: u.path.clone(),
                sha256: u.sha256.clone(),
                uses_payload: false,
            })
            .collect();
        let files = rendered
            .files
            .iter()
            .map(|f| RenderedFile {
                path: f.path.clone(),
                contents: f.contents.clone().into_bytes(),
                mode: f.permissions,
                owner: f.owner.clone(),
            })
            .collect();
        Ok(Rendered { files, units, manifest_json: rendered.manifest.to_json().into_bytes() })
    }
}

/// The renderer this build uses. `CAIRN_CAGE_BIN` and `CAIRN_KIOSK_BIN` point the
/// kiosk unit at programs outside `/usr/bin` (the NixOS module sets them); a value that
/// is not a plain absolute path fails every render, naming it.
pub fn default_renderer() -> Box<dyn Render> {
    let program = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
    Box::new(QuadletRenderer { cage_program: program("CAIRN_CAGE_BIN"), kiosk_program: program("CAIRN_KIOSK_BIN") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kiosk_config() -> Config {
        let text = std::fs::read("../tests/cases/kiosk/config.toml").unwrap();
        cairn_config::validate(&text).config.unwrap()
    }

    #[test]
    fn the_kiosk_unit_runs_the_configured_programs_and_refuses_unsafe_paths() {
        let context = RenderContext::for_state_dir("/data/cairn".as_ref());
        let nix = QuadletRenderer {
            cage_program: Some("/nix/store/abc-cage-0.2.0/bin/cage".into()),
            kiosk_program: Some("/nix/store/def-cairn-kiosk/bin/cairn-kiosk".into()),
        };
        let rendered = nix.render(&kiosk_config(), &context).unwrap();
        let unit = rendered.files.iter().find(|f| f.path.ends_with("cairn-kiosk.service")).unwrap();
        let text = String::from_utf8_lossy(&unit.contents);
        assert!(text.contains("/nix/store/abc-cage-0.2.0/bin/cage"), "{text}");
        assert!(text.contains("/nix/store/def-cairn-kiosk/bin/cairn-kiosk"), "{text}");
        let hostile = QuadletRenderer { cage_program: Some("/usr/bin/cage\nExecStartPre=/bin/sh".into()), ..nix };
        let err = hostile.render(&kiosk_config(), &context).unwrap_err();
        assert!(err.contains("cage_program"), "{err}");
    }
}

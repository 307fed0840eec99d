//! Rendering as the pipeline sees it: config → files under `rendered/` plus the manifest.
//! The real renderer is the `quadlet-render` crate; this module adapts it to the small
//! shape the store and the plan need, so both are independent of its internals.

use cairn_config::Config;

use crate::plan::{Manifest, UnitEntry, sha256_hex};

/// One file of `rendered/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    /// Relative to `rendered/`, `/`-separated, no `..`.
    pub path: String,
    pub contents: Vec<u8>,
    /// Permission bits on disk (0600 for anything holding secrets).
    pub mode: u32,
}

/// Everything rendered for one generation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
    pub units: Vec<UnitEntry>,
}

impl Rendered {
    /// The manifest of these files: units as rendered, and the hash of every file.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            units: self.units.clone(),
            files: self.files.iter().map(|f| (f.path.clone(), sha256_hex(&f.contents))).collect(),
        }
    }
}

/// Where the rendered generation will live on the device (tokens like `${FILES_DIR}`
/// expand to runtime paths, never staging paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderContext {
    /// `<state>/current`: the active config directory.
    pub config_dir: String,
    /// `<state>/current/files`.
    pub files_dir: String,
}

/// Turns a valid config into rendered files.
pub trait Render: Send + Sync + std::fmt::Debug {
    /// Which renderer this is, for job events.
    fn describe(&self) -> &'static str;
    fn render(&self, config: &Config, context: &RenderContext) -> Result<Rendered, String>;
}

/// Stand-in until the `quadlet-render` crate is merged: renders NO unit files and says so
/// in every job's render event. Nothing built on it may be presented as rendering.
#[derive(Debug, Default)]
pub struct PendingRenderer;

impl Render for PendingRenderer {
    fn describe(&self) -> &'static str {
        "quadlet-render is not merged into this build yet: no units were rendered"
    }

    fn render(&self, _config: &Config, _context: &RenderContext) -> Result<Rendered, String> {
        Ok(Rendered::default())
    }
}

/// The renderer this build uses.
pub fn default_renderer() -> Box<dyn Render> {
    Box::new(PendingRenderer)
}

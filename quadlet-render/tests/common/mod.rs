//! Golden cases shared by the tests: `tests/cases/<name>/` at the repository root.
//!
//! Each case has a `config.toml`. A valid case has `expected/` (the whole rendered
//! tree, `manifest.json` included) and, when validation warns, `diagnostics.txt`.
//! An invalid case has only `diagnostics.txt`: the exact diagnostics, one per line,
//! and for a config that validates but cannot be rendered, a last line
//! `render error: …` with the exact [`quadlet_render::RenderError`].

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use quadlet_render::{RenderContext, Rendered};

pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

/// Every case directory, sorted by name.
pub fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.join("config.toml").is_file())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no golden cases under {}", cases_dir().display());
    out
}

pub fn case_name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// Validates and renders a case; `Err` holds the diagnostics text of an invalid config.
pub fn render_case(dir: &Path) -> (Result<Rendered, String>, String) {
    let bytes = fs::read(dir.join("config.toml")).expect("config.toml readable");
    let validated = cairn_config::validate(&bytes);
    let diagnostics: String = validated.diagnostics.iter().map(|d| format!("{d}\n")).collect();
    match &validated.config {
        Some(config) => match quadlet_render::render(config, &RenderContext::device()) {
            Ok(rendered) => (Ok(rendered), diagnostics),
            Err(e) => {
                let text = format!("{diagnostics}render error: {e}\n");
                (Err(text.clone()), text)
            }
        },
        None => (Err(diagnostics.clone()), diagnostics),
    }
}

/// Relative path → contents of every file under `root`.
pub fn read_tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries {
            let path = e.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, fs::read_to_string(&path).expect("utf-8 file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Writes a rendered tree into `root` (which must exist), with the file permissions.
pub fn write_tree(root: &Path, rendered: &Rendered) {
    use std::os::unix::fs::PermissionsExt as _;
    for f in rendered.all_files() {
        let path = root.join(&f.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &f.contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(f.permissions)).unwrap();
    }
}

pub fn blessing() -> bool {
    std::env::var_os("CAIRN_BLESS").is_some_and(|v| v == "1")
}

//! `generation.json`: who made a generation, when, and the hash of every file in it, so
//! a generation can be proven complete (recovery, tests, `provision generations --verify`).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{StoreError, io_err};
use crate::plan::{Manifest, sha256_hex};

pub(crate) const META_FILE: &str = "generation.json";

/// The metadata of one generation, written last while staging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub id: u64,
    pub created_at: String,
    pub config_sha256: String,
    /// `api`, `boot_ui` or `cli`.
    pub source: String,
    /// Every file of the generation except this one: path relative to the generation → sha256.
    pub files: BTreeMap<String, String>,
}

impl Meta {
    pub fn read(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(META_FILE);
        let bytes = fs::read(&path).map_err(io_err("reading", &path))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Damaged { id: 0, reason: format!("{}: {e}", path.display()) })
    }
}

/// Hashes of every regular file under `dir` except the metadata file.
pub(crate) fn hash_tree(dir: &Path) -> Result<BTreeMap<String, String>, StoreError> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out)?;
    out.remove(META_FILE);
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io_err("listing", dir))? {
        let entry = entry.map_err(io_err("listing", dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_err("inspecting", &path))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else {
            let bytes = fs::read(&path).map_err(io_err("reading", &path))?;
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
            out.insert(rel, sha256_hex(&bytes));
        }
    }
    Ok(())
}

pub(crate) fn verify(dir: &Path, id: u64) -> Result<(), StoreError> {
    let damaged = |reason: String| StoreError::Damaged { id, reason };
    if !dir.is_dir() {
        return Err(StoreError::UnknownGeneration { id });
    }
    let meta = Meta::read(dir).map_err(|e| damaged(e.to_string()))?;
    if meta.id != id {
        return Err(damaged(format!("generation.json names generation {}", meta.id)));
    }
    let actual = hash_tree(dir)?;
    if actual != meta.files {
        let missing: Vec<_> = meta.files.keys().filter(|k| !actual.contains_key(*k)).collect();
        let extra: Vec<_> = actual.keys().filter(|k| !meta.files.contains_key(*k)).collect();
        let changed: Vec<_> = meta.files.iter().filter(|(k, v)| actual.get(*k).is_some_and(|a| a != *v)).collect();
        return Err(damaged(format!("missing {missing:?}, unexpected {extra:?}, changed {changed:?}")));
    }
    if actual.get("config.toml") != Some(&meta.config_sha256) {
        return Err(damaged("config.toml does not match config_sha256".into()));
    }
    let manifest = plan_manifest(dir, id)?;
    for unit in &manifest.units {
        if manifest.files.get(&unit.path) != Some(&unit.sha256) {
            return Err(damaged(format!("unit {} ({}) does not match its file", unit.service, unit.path)));
        }
    }
    Ok(())
}

/// The units of `rendered/manifest.json` (any renderer's: only `units` is read) and the
/// hashes of every rendered file from `generation.json`.
pub(crate) fn plan_manifest(dir: &Path, id: u64) -> Result<Manifest, StoreError> {
    #[derive(Deserialize)]
    struct Units {
        units: Vec<crate::plan::UnitEntry>,
    }
    let path = dir.join("rendered/manifest.json");
    let bytes = fs::read(&path).map_err(io_err("reading", &path))?;
    let units: Units = serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Damaged { id, reason: format!("rendered/manifest.json: {e}") })?;
    let meta = Meta::read(dir)?;
    let files = meta
        .files
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("rendered/")?.to_owned(), v.clone())))
        .filter(|(k, _)| k != "manifest.json")
        .collect();
    let payload =
        meta.files.iter().filter_map(|(k, v)| Some((k.strip_prefix("files/")?.to_owned(), v.clone()))).collect();
    Ok(Manifest { units: units.units, files, payload })
}

//! Staging: a candidate generation is written completely under a dot-name in
//! `generations/`, every file and directory fsynced, then renamed to its number in one
//! step. A crash leaves either no generation `<n>` or a complete one; recovery removes
//! leftover staging directories.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use cairn_config::bundle::{self, BundleFormat, BundleSink};

use super::failpoints::{self as fp, hit};
use super::meta::{self, META_FILE, Meta};
use super::{Store, StoreError, atomic, io_err, owners};
use crate::plan::sha256_hex;
use crate::render::Rendered;

/// What becomes a generation.
#[derive(Debug)]
pub struct Candidate<'a> {
    /// The exact bytes of config.toml the operator sent.
    pub config_toml: &'a [u8],
    /// The whole submission when it was a bundle (its files/ is unpacked into the generation).
    pub bundle: Option<(BundleFormat, &'a [u8])>,
    pub rendered: &'a Rendered,
    /// `api`, `boot_ui` or `cli`.
    pub source: &'a str,
    /// RFC 3339.
    pub created_at: String,
}

/// A generation just staged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staged {
    pub id: u64,
    /// Rendered files whose owner account does not exist on this host (left owned by root).
    pub unowned: Vec<String>,
}

pub(crate) const STAGING_PREFIX: &str = ".staging-";
pub(crate) const TRASH_PREFIX: &str = ".trash-";

impl Store {
    /// Writes `candidate` as a new, complete, durable generation and returns its id and
    /// the rendered files whose owner account does not exist here (left owned by root).
    /// `current` is not touched.
    pub fn stage(&self, candidate: &Candidate<'_>) -> Result<Staged, StoreError> {
        let id = self.next_id();
        let staging = self.generations_dir().join(format!("{STAGING_PREFIX}{id}"));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io_err("removing", &staging))?;
        }
        atomic::create_dir(&staging, 0o700).map_err(io_err("creating", &staging))?;

        let config = staging.join("config.toml");
        // config.toml may hold camera passwords: 0600.
        atomic::create_file(&config, candidate.config_toml, 0o600).map_err(io_err("writing", &config))?;
        hit(fp::STAGE_AFTER_CONFIG);

        let files = staging.join("files");
        mkdir(&files)?;
        if let Some((format, bytes)) = candidate.bundle {
            bundle::read_bundle_into(format, bytes, &mut DirSink { root: files.clone() })?;
        }
        hit(fp::STAGE_AFTER_FILES);

        let rendered = staging.join("rendered");
        mkdir(&rendered)?;
        let mut unowned = Vec::new();
        for file in &candidate.rendered.files {
            let path = safe_join(&rendered, &file.path)?;
            if let Some(parent) = path.parent() {
                mkdirs(&rendered, parent)?;
            }
            atomic::create_file(&path, &file.contents, file.mode).map_err(io_err("writing", &path))?;
            if let Some(owner) = &file.owner {
                if !owners::chown(&path, owner).map_err(io_err("changing the owner of", &path))? {
                    unowned.push(format!("{} (owner {owner})", file.path));
                }
            }
        }
        let manifest_path = rendered.join("manifest.json");
        atomic::create_file(&manifest_path, &candidate.rendered.manifest_json, 0o644)
            .map_err(io_err("writing", &manifest_path))?;
        hit(fp::STAGE_AFTER_RENDERED);

        let meta = Meta {
            id,
            created_at: candidate.created_at.clone(),
            config_sha256: sha256_hex(candidate.config_toml),
            source: candidate.source.to_owned(),
            files: meta::hash_tree(&staging)?,
        };
        let meta_path = staging.join(META_FILE);
        let meta_bytes = serde_json::to_vec_pretty(&meta).map_err(io::Error::other);
        // Holds the hashes of secrets too (short passwords could be brute-forced): 0600.
        atomic::create_file(&meta_path, &meta_bytes.map_err(io_err("encoding", &meta_path))?, 0o600)
            .map_err(io_err("writing", &meta_path))?;
        // Private while written; readable (config.toml and generation.json stay 0600) once complete.
        fs::set_permissions(&staging, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(io_err("setting the mode of", &staging))?;
        sync_tree(&staging)?;
        hit(fp::STAGE_AFTER_META);

        let target = self.generation_dir(id);
        atomic::rename(&staging, &target).map_err(io_err("promoting staged generation to", &target))?;
        hit(fp::STAGE_AFTER_RENAME);
        Ok(Staged { id, unowned })
    }

    /// One more than any id ever used (kept, staged, or remembered in outcomes/), so a
    /// discarded generation's number is never reused.
    fn next_id(&self) -> u64 {
        let numbers = |dir: PathBuf| -> Vec<u64> {
            fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.to_owned();
                    let name = name.strip_prefix(STAGING_PREFIX).or(name.strip_prefix(TRASH_PREFIX)).unwrap_or(&name);
                    name.parse().ok()
                })
                .collect()
        };
        let mut all = numbers(self.generations_dir());
        all.extend(numbers(self.outcomes_dir()));
        all.into_iter().max().unwrap_or(0) + 1
    }
}

/// Writes bundle files into `files/` of the staging directory.
struct DirSink {
    root: PathBuf,
}

impl BundleSink for DirSink {
    fn dir(&mut self, path: &str) -> io::Result<()> {
        let dir = safe_join(&self.root, path).map_err(io::Error::other)?;
        mkdirs(&self.root, &dir).map_err(io::Error::other)
    }

    fn file(&mut self, path: &str, executable: bool, data: &mut dyn Read) -> io::Result<()> {
        let target = safe_join(&self.root, path).map_err(io::Error::other)?;
        if let Some(parent) = target.parent() {
            mkdirs(&self.root, parent).map_err(io::Error::other)?;
        }
        // Payload is read by containers running as appsvc; secrets belong in config.toml.
        let mode = if executable { 0o755 } else { 0o644 };
        atomic::create_file_from(&target, data, mode).map(|_| ())
    }
}

/// `base/rel` for a relative, `..`-free path (the bundle reader and the renderer already
/// guarantee this; checked again because this is where it would hurt).
fn safe_join(base: &Path, rel: &str) -> Result<PathBuf, StoreError> {
    let ok = !rel.is_empty() && !rel.starts_with('/') && rel.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
    if !ok {
        return Err(StoreError::Io {
            action: "refusing path",
            path: base.join(rel),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative path"),
        });
    }
    Ok(base.join(rel))
}

fn mkdir(dir: &Path) -> Result<(), StoreError> {
    atomic::create_dir(dir, 0o755).map_err(io_err("creating", dir))
}

fn mkdirs(base: &Path, dir: &Path) -> Result<(), StoreError> {
    if dir == base || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        mkdirs(base, parent)?;
    }
    mkdir(dir)
}

/// fsyncs every directory under `dir` (bottom-up) and `dir` itself.
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io_err("listing", dir))? {
        let entry = entry.map_err(io_err("listing", dir))?;
        if entry.file_type().map_err(io_err("inspecting", &entry.path()))?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    atomic::sync_dir(dir).map_err(io_err("syncing", dir))
}

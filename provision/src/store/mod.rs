//! Generations on persistent storage: the only place Cairn keeps desired state.
//!
//! ```text
//! <state>/generations/<n>/{config.toml, files/, rendered/, generation.json}  immutable once promoted
//! <state>/current, previous -> generations/<n>    flipped by rename of a temporary symlink
//! <state>/journal                                 intent record of an unfinished flip
//! <state>/outcomes/<n>                            committed | rolled_back | interrupted | discarded
//! <state>/lock, <state>/jobs/                     owned by `jobs`
//! ```
//! The state root is always passed in; nothing below the CLI knows `/data/cairn`.

pub(crate) mod atomic;
mod collect;
pub mod failpoints;
pub(crate) mod journal;
mod meta;
mod owners;
mod recover;
mod stage;
mod transition;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use meta::Meta;
pub use recover::Recovery;
pub use stage::{Candidate, Staged};
pub use transition::Transition;

use crate::plan::Manifest;

/// How many generations are kept (besides `current` and `previous`, which always are).
pub const KEEP_GENERATIONS: usize = 5;

/// A store failure, naming what was being done and on which path.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error("generation {id} does not exist")]
    UnknownGeneration { id: u64 },
    #[error("generation {id} is damaged: {reason}")]
    Damaged { id: u64, reason: String },
    #[error("reading the bundle: {0}")]
    Bundle(#[from] cairn_config::bundle::BundleError),
}

pub(crate) fn io_err<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> StoreError + 'p {
    move |source| StoreError::Io { action, path: path.to_owned(), source }
}

/// One kept generation, as listed by the API and the CLI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GenerationInfo {
    pub id: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Lowercase hex SHA-256 of the exact config.toml bytes.
    pub config_sha256: String,
    /// `committed`, `pending`, `rolled_back` or `interrupted`.
    pub outcome: String,
}

/// What is committed on this device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoreStatus {
    /// A generation has been committed by a successful apply.
    pub provisioned: bool,
    pub current: Option<GenerationInfo>,
    pub previous: Option<GenerationInfo>,
}

/// An admin of the current generation: a key allowed to sign re-applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdminKey {
    pub user: String,
    /// One OpenSSH public key line.
    pub public_key: String,
}

/// The state directory. Cheap to clone; all methods take `&self`. Mutating methods must
/// be called with the state lock held (the job runner and `provision recover` do).
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens `root`, creating its directories if needed. Does not recover; see [`Store::recover`].
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let store = Self { root: root.to_owned() };
        // Containers running as appsvc read `${FILES_DIR}` and the kiosk user reads its
        // bundle through `current`: the root and generations/ must be traversable (0711,
        // not listable); job records and outcomes stay private.
        for (dir, mode) in [
            (store.root.clone(), 0o711),
            (store.generations_dir(), 0o711),
            (store.outcomes_dir(), 0o700),
            (store.jobs_dir(), 0o700),
        ] {
            atomic::create_dir(&dir, mode).map_err(io_err("creating", &dir))?;
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn generations_dir(&self) -> PathBuf {
        self.root.join("generations")
    }
    pub(crate) fn outcomes_dir(&self) -> PathBuf {
        self.root.join("outcomes")
    }
    pub(crate) fn jobs_dir(&self) -> PathBuf {
        self.root.join("jobs")
    }
    pub(crate) fn journal_path(&self) -> PathBuf {
        self.root.join("journal")
    }
    pub(crate) fn lock_path(&self) -> PathBuf {
        self.root.join("lock")
    }
    pub(crate) fn current_link(&self) -> PathBuf {
        self.root.join("current")
    }
    pub(crate) fn previous_link(&self) -> PathBuf {
        self.root.join("previous")
    }

    /// `<state>/generations/<id>`.
    pub fn generation_dir(&self, id: u64) -> PathBuf {
        self.generations_dir().join(id.to_string())
    }

    /// Where `current` points right now (during an apply: the candidate).
    pub fn current_id(&self) -> Option<u64> {
        link_id(&self.current_link())
    }

    pub fn previous_id(&self) -> Option<u64> {
        link_id(&self.previous_link())
    }

    /// (current, previous) as committed: an unfinished transition does not count.
    pub fn committed_ids(&self) -> (Option<u64>, Option<u64>) {
        match journal::read(&self.journal_path()) {
            Ok(Some(j)) if j.phase == journal::Phase::Activating => (j.old_current, j.old_previous),
            _ => (self.current_id(), self.previous_id()),
        }
    }

    pub fn status(&self) -> StoreStatus {
        let (current, previous) = self.committed_ids();
        StoreStatus {
            provisioned: current.is_some(),
            current: current.and_then(|id| self.info(id)),
            previous: previous.and_then(|id| self.info(id)),
        }
    }

    /// Kept generations, newest first.
    pub fn generations(&self) -> Vec<GenerationInfo> {
        let mut ids = self.generation_ids();
        ids.reverse();
        ids.into_iter().filter_map(|id| self.info(id)).collect()
    }

    /// The exact config.toml bytes of the committed current generation.
    pub fn current_config(&self) -> Option<Vec<u8>> {
        let id = self.committed_ids().0?;
        fs::read(self.generation_dir(id).join("config.toml")).ok()
    }

    /// Admin keys of the committed current generation only (re-read from its config.toml,
    /// which was valid when promoted).
    pub fn admin_keys(&self) -> Vec<AdminKey> {
        let Some(bytes) = self.current_config() else { return Vec::new() };
        let Some(config) = cairn_config::validate(&bytes).config else { return Vec::new() };
        config.admin_keys().map(|(user, key)| AdminKey { user: user.to_owned(), public_key: key.to_owned() }).collect()
    }

    /// The plan's view of a kept generation: units from its `manifest.json`, file hashes
    /// from its `generation.json`.
    pub fn manifest(&self, id: u64) -> Result<Manifest, StoreError> {
        let dir = self.generation_dir(id);
        if !dir.join(meta::META_FILE).is_file() {
            return Err(StoreError::UnknownGeneration { id });
        }
        let mut manifest = meta::plan_manifest(&dir, id)?;
        let files_dir = crate::render::RenderContext::for_state_dir(&self.root).files_dir;
        manifest.mark_payload_users(&files_dir, |path| fs::read(dir.join("rendered").join(path)).ok());
        Ok(manifest)
    }

    /// The config.toml bytes of a kept generation.
    pub fn config(&self, id: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.generation_dir(id).join("config.toml");
        fs::read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::UnknownGeneration { id },
            _ => StoreError::Io { action: "reading", path: path.clone(), source: e },
        })
    }

    pub fn exists(&self, id: u64) -> bool {
        self.generation_dir(id).join(meta::META_FILE).is_file()
    }

    /// Ids of promoted generation directories, ascending.
    pub(crate) fn generation_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = fs::read_dir(self.generations_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        ids.sort_unstable();
        ids
    }

    pub(crate) fn outcome(&self, id: u64) -> String {
        if let Ok(Some(j)) = journal::read(&self.journal_path()) {
            if j.target == id && j.phase == journal::Phase::Activating {
                return "pending".to_owned();
            }
        }
        fs::read_to_string(self.outcomes_dir().join(id.to_string()))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "pending".to_owned())
    }

    pub(crate) fn set_outcome(&self, id: u64, outcome: &str) -> Result<(), StoreError> {
        let path = self.outcomes_dir().join(id.to_string());
        atomic::write_file(&path, format!("{outcome}\n").as_bytes(), 0o600).map_err(io_err("writing", &path))
    }

    fn info(&self, id: u64) -> Option<GenerationInfo> {
        let meta = Meta::read(&self.generation_dir(id)).ok()?;
        Some(GenerationInfo {
            id,
            created_at: meta.created_at,
            config_sha256: meta.config_sha256,
            outcome: self.outcome(id),
        })
    }

    /// Checks that generation `id` is complete: every file its metadata lists is present
    /// with the recorded hash, nothing else is, and the manifest matches `rendered/`.
    pub fn verify(&self, id: u64) -> Result<(), StoreError> {
        meta::verify(&self.generation_dir(id), id)
    }
}

fn link_id(link: &Path) -> Option<u64> {
    let target = fs::read_link(link).ok()?;
    target.strip_prefix("generations").ok()?.to_str()?.parse().ok()
}

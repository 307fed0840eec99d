//! Boot recovery: run before any provisioned unit starts (and whenever the service
//! opens the store). Removes half-written staging and trash directories, then finishes a
//! committed transition or undoes an unfinished one, so `current` is exactly the last
//! committed generation (or absent) and complete.

use std::fs;

use super::journal::{self, Phase};
use super::stage::{STAGING_PREFIX, TRASH_PREFIX};
use super::{Store, StoreError, atomic, io_err};

/// What recovery did, for logs and for the jobs found interrupted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// No transition was pending.
    Clean,
    /// A committed transition's bookkeeping was finished; `current` is `target`.
    Finished { target: u64 },
    /// An unfinished transition to `target` was undone; `current` is `restored`.
    Undone { target: u64, restored: Option<u64> },
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |id: &Option<u64>| id.map_or("none (unprovisioned)".to_owned(), |i| format!("generation {i}"));
        match self {
            Recovery::Clean => f.write_str("nothing to recover"),
            Recovery::Finished { target } => write!(f, "finished the committed switch to generation {target}"),
            Recovery::Undone { target, restored } => {
                write!(f, "undid the unfinished switch to generation {target}; current is {}", name(restored))
            }
        }
    }
}

impl Store {
    /// Brings the store to a committed state. Idempotent; call with the lock held.
    pub fn recover(&self) -> Result<Recovery, StoreError> {
        let dir = self.generations_dir();
        for entry in fs::read_dir(&dir).map_err(io_err("listing", &dir))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with(STAGING_PREFIX) || name.starts_with(TRASH_PREFIX) {
                fs::remove_dir_all(&path).map_err(io_err("removing", &path))?;
            }
        }
        atomic::sync_dir(&dir).map_err(io_err("syncing", &dir))?;
        let journal_path = self.journal_path();
        let journal = journal::read(&journal_path).map_err(io_err("reading", &journal_path))?;
        let recovery = match journal {
            None => Recovery::Clean,
            Some(j) if j.phase == Phase::Committed => {
                self.finish_commit(&j)?;
                Recovery::Finished { target: j.target }
            }
            Some(j) => {
                self.undo_journal(&j, "interrupted")?;
                Recovery::Undone { target: j.target, restored: j.old_current }
            }
        };
        Ok(recovery)
    }
}

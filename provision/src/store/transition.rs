//! Moving `current`: journal the intent, flip `previous` then `current`, and later either
//! commit (journal → committed, outcome, remove journal) or undo (flip both back, record
//! the outcome, discard a failed first generation, remove journal). Each step is one
//! atomic write or rename followed by a directory fsync, with a failpoint after it.

use std::fs;
use std::path::PathBuf;

use super::failpoints::{self as fp, hit};
use super::journal::{self, Journal, Op, Phase};
use super::stage::TRASH_PREFIX;
use super::{Store, StoreError, atomic, io_err};

/// A flip of `current` that has not been committed or undone yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub(crate) journal: Journal,
}

impl Transition {
    pub fn target(&self) -> u64 {
        self.journal.target
    }
    /// The generation `current` pointed to before (None on a first apply).
    pub fn from(&self) -> Option<u64> {
        self.journal.old_current
    }
    /// Undoing this transition discards its target (a failed first apply).
    pub fn discards_on_undo(&self) -> bool {
        self.journal.discard_on_undo()
    }
}

impl Store {
    /// Makes the freshly staged generation `target` current.
    pub fn promote(&self, target: u64) -> Result<Transition, StoreError> {
        self.flip_to(Op::Apply, target)
    }

    /// Makes the kept generation `target` current again (rollback or forward).
    pub fn reactivate(&self, target: u64) -> Result<Transition, StoreError> {
        if !self.exists(target) {
            return Err(StoreError::UnknownGeneration { id: target });
        }
        self.flip_to(Op::Activate, target)
    }

    fn flip_to(&self, op: Op, target: u64) -> Result<Transition, StoreError> {
        let journal = Journal {
            op,
            phase: Phase::Activating,
            target,
            old_current: self.current_id(),
            old_previous: self.previous_id(),
        };
        let journal_path = self.journal_path();
        journal::write(&journal_path, &journal).map_err(io_err("writing", &journal_path))?;
        hit(fp::PROMOTE_AFTER_JOURNAL);
        if let Some(old) = journal.old_current.filter(|old| *old != target) {
            self.point(self.previous_link(), Some(old))?;
        }
        hit(fp::PROMOTE_AFTER_PREVIOUS);
        self.point(self.current_link(), Some(target))?;
        hit(fp::PROMOTE_AFTER_CURRENT);
        Ok(Transition { journal })
    }

    /// Accepts the transition: its target stays current and is recorded as committed.
    pub fn commit(&self, transition: &Transition) -> Result<(), StoreError> {
        // What activation wrote beside the store on this file system (container images
        // built, containers created) reaches the disk before the generation counts as
        // committed, so a power cut just after the commit does not lose it.
        let root = fs::File::open(&self.root).map_err(io_err("opening", &self.root))?;
        rustix::fs::syncfs(&root).map_err(|e| StoreError::Io {
            action: "syncing the file system of",
            path: self.root.clone(),
            source: e.into(),
        })?;
        let journal = Journal { phase: Phase::Committed, ..transition.journal.clone() };
        let journal_path = self.journal_path();
        journal::write(&journal_path, &journal).map_err(io_err("writing", &journal_path))?;
        hit(fp::COMMIT_AFTER_JOURNAL);
        self.finish_commit(&journal)
    }

    pub(crate) fn finish_commit(&self, journal: &Journal) -> Result<(), StoreError> {
        self.set_outcome(journal.target, "committed")?;
        hit(fp::COMMIT_AFTER_OUTCOME);
        let journal_path = self.journal_path();
        atomic::remove_file(&journal_path).map_err(io_err("removing", &journal_path))?;
        hit(fp::COMMIT_AFTER_REMOVE);
        Ok(())
    }

    /// Puts `current` and `previous` back where they were before the transition.
    /// `outcome` is recorded for the target of a failed apply (`rolled_back`, `interrupted`).
    pub fn undo(&self, transition: &Transition, outcome: &str) -> Result<(), StoreError> {
        self.undo_journal(&transition.journal, outcome)
    }

    /// Idempotent, so recovery can repeat it after a crash half-way through.
    pub(crate) fn undo_journal(&self, journal: &Journal, outcome: &str) -> Result<(), StoreError> {
        self.point(self.current_link(), journal.old_current)?;
        hit(fp::UNDO_AFTER_CURRENT);
        self.point(self.previous_link(), journal.old_previous)?;
        hit(fp::UNDO_AFTER_PREVIOUS);
        if journal.op == Op::Apply {
            let outcome = if journal.discard_on_undo() { "discarded" } else { outcome };
            self.set_outcome(journal.target, outcome)?;
        }
        hit(fp::UNDO_AFTER_OUTCOME);
        if journal.discard_on_undo() {
            self.remove_generation(journal.target)?;
        }
        hit(fp::UNDO_AFTER_DISCARD);
        let journal_path = self.journal_path();
        atomic::remove_file(&journal_path).map_err(io_err("removing", &journal_path))
    }

    /// Points `link` at generation `id`, or removes it for None.
    fn point(&self, link: PathBuf, id: Option<u64>) -> Result<(), StoreError> {
        match id {
            Some(id) => {
                let target = PathBuf::from("generations").join(id.to_string());
                atomic::flip_symlink(&link, &target).map_err(io_err("flipping", &link))
            }
            None => atomic::remove_file(&link).map_err(io_err("removing", &link)),
        }
    }

    /// Renames a generation out of the way (one atomic step: it is gone from listings),
    /// then deletes it. A crash in between leaves a `.trash-<n>` that recovery deletes.
    pub(crate) fn remove_generation(&self, id: u64) -> Result<(), StoreError> {
        let dir = self.generation_dir(id);
        let trash = self.generations_dir().join(format!("{TRASH_PREFIX}{id}"));
        if dir.exists() {
            atomic::rename(&dir, &trash).map_err(io_err("moving aside", &dir))?;
        }
        hit(fp::COLLECT_AFTER_RENAME);
        if trash.exists() {
            fs::remove_dir_all(&trash).map_err(io_err("removing", &trash))?;
            atomic::sync_dir(&self.generations_dir()).map_err(io_err("syncing", &self.generations_dir()))?;
        }
        Ok(())
    }
}

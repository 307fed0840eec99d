//! The intent journal: what a flip of `current` is about to do, written (atomically)
//! before the flip and removed only when the transition is committed or undone. Boot
//! recovery reads it to finish a committed transition or undo an unfinished one.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::atomic;

/// Why `current` is moving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Op {
    /// A new generation from an apply.
    Apply,
    /// A kept generation re-activated (rollback or forward).
    Activate,
}

/// How far the transition got. Only `Committed` survives recovery as the new state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phase {
    /// Flipped (or about to be) but not yet proven healthy: recovery undoes it.
    Activating,
    /// Healthy and accepted: recovery finishes the bookkeeping.
    Committed,
}

/// One pending transition of `current` from `old_current` to `target`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Journal {
    pub(crate) op: Op,
    pub(crate) phase: Phase,
    pub(crate) target: u64,
    pub(crate) old_current: Option<u64>,
    pub(crate) old_previous: Option<u64>,
}

impl Journal {
    /// A failed first apply leaves no generation behind: the device stays unprovisioned.
    pub(crate) fn discard_on_undo(&self) -> bool {
        self.op == Op::Apply && self.old_current.is_none()
    }
}

pub(crate) fn read(path: &Path) -> io::Result<Option<Journal>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn write(path: &Path, journal: &Journal) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(journal).map_err(io::Error::other)?;
    atomic::write_file(path, &bytes, 0o600)
}

//! `provision recover --state-dir DIR`: finish or undo an interrupted switch of
//! generations. Runs at boot before any provisioned unit; safe to run any time (it waits
//! for a running job to end).

use anyhow::{Context, Result};

use super::state::StateDir;
use crate::jobs::hold_state_lock;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    state: StateDir,
}

pub(super) fn run(args: &Args) -> Result<()> {
    let dir = &args.state.state_dir;
    let store = Store::open(dir).with_context(|| format!("opening state directory {}", dir.display()))?;
    let _lock = hold_state_lock(&store, "recover")?;
    let recovery = store.recover().with_context(|| format!("recovering {}", dir.display()))?;
    let current = store.current_id();
    if let Some(id) = current {
        store.verify(id).with_context(|| format!("checking current generation {id}"))?;
    }
    let now = current.map_or("none (unprovisioned)".to_owned(), |g| format!("generation {g}"));
    println!("{recovery}; current: {now}");
    Ok(())
}

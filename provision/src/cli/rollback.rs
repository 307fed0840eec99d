//! `provision rollback --state-dir DIR <id>`: make a kept generation current again, as a
//! job (single-flight with the API), following its events until it ends.

use anyhow::{Context, Result, bail};

use super::state::{Activator, StateDir};
use crate::jobs::{JobRunner, JobState, SubmitError};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    state: StateDir,
    /// The generation to activate (see `provision generations`).
    generation: u64,
    #[arg(long, value_enum, default_value_t = Activator::Systemd)]
    activator: Activator,
}

pub(super) fn run(args: &Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async {
        let runner = JobRunner::open(&args.state.state_dir, args.activator.into())?;
        let job = match runner.submit_activate(args.generation) {
            Ok(job) => job,
            Err(SubmitError::Busy { running }) => bail!("job {running} is running; try again when it ends"),
            Err(e) => return Err(anyhow::Error::new(e)),
        };
        let done = super::follow::follow(&runner, &job.id).await?;
        match done.state {
            JobState::Succeeded => Ok(()),
            _ => bail!(
                "rollback to generation {} failed: {} (rollback: {:?})",
                args.generation,
                done.error.unwrap_or_default(),
                done.rollback
            ),
        }
    })
}

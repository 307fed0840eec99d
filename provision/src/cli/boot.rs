//! `provision boot --state-dir DIR`: bring the current generation up after a reboot.
//! /run is empty at boot, so nothing exposes its units to the Quadlet generator and no
//! host setting is loaded; this links them again, daemon-reloads and starts every unit
//! and host setting of `current`. Needs D-Bus, so it runs after `provision recover`
//! (which must not: it runs before basic.target, when the bus is not up yet).
//! Before starting anything it repairs container storage an unclean shutdown damaged
//! (see `activate::storage`).

use anyhow::{Context, Result, bail};

use super::state::{Activator, StateDir};
use crate::activate::systemd::{ROOTLESS_USER, SystemdActivator, account};
use crate::activate::{Activate, NoActivator, Request, storage};
use crate::jobs::hold_state_lock;
use crate::plan::{self, UnitMode};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    state: StateDir,
    #[arg(long, value_enum, default_value_t = Activator::Systemd)]
    activator: Activator,
}

pub(super) fn run(args: &Args) -> Result<()> {
    let dir = &args.state.state_dir;
    let store = Store::open(dir).with_context(|| format!("opening state directory {}", dir.display()))?;
    let _lock = hold_state_lock(&store, "boot")?;
    let Some(current) = store.committed_ids().0 else {
        println!("not provisioned: nothing to start");
        return Ok(());
    };
    let bytes = store.config(current)?;
    let Some(config) = cairn_config::validate(&bytes).config else {
        bail!("generation {current}'s config.toml no longer validates");
    };
    let manifest = store.manifest(current)?;
    let request = Request {
        state_dir: store.root().to_owned(),
        generation: current,
        config,
        plan: plan::diff(None, &manifest, &[]),
        manifest,
        started: std::time::Instant::now(),
    };
    let activator: Box<dyn Activate> = match args.activator {
        Activator::None => Box::new(NoActivator),
        Activator::Systemd => Box::new(SystemdActivator::default()),
    };
    if let Some(reason) = activator.skipped() {
        println!("generation {current}: {} ({reason})", request.plan.summary());
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let progress = |line: String| eprintln!("{line}");
    runtime.block_on(repair_storage(&request.manifest));
    let summary = runtime
        .block_on(activator.activate(&request, &progress))
        .map_err(|failure| anyhow::anyhow!("{failure}"))
        .with_context(|| format!("starting generation {current}"))?;
    println!("generation {current}: {summary}");
    Ok(())
}

/// Checks (and repairs) the container storage of each manager the generation uses.
async fn repair_storage(manifest: &plan::Manifest) {
    let uses = |mode| manifest.units.iter().any(|u| u.mode == mode);
    if uses(UnitMode::Rootful) {
        eprintln!("{}", storage::run_check("system", &storage::check_command(None)).await);
    }
    if uses(UnitMode::Rootless) {
        let line = match account(ROOTLESS_USER) {
            Ok((uid, _)) => {
                // Its runtime directory comes with its user manager (lingering starts it
                // at boot, not necessarily before us).
                let start = ["systemctl", "start", &format!("user@{uid}.service")].map(String::from);
                match storage::run(&start).await {
                    Ok(_) => {
                        storage::run_check(ROOTLESS_USER, &storage::check_command(Some((ROOTLESS_USER, uid)))).await
                    }
                    Err(e) => format!("container storage ({ROOTLESS_USER}): starting its user manager: {e}"),
                }
            }
            Err(e) => format!("container storage ({ROOTLESS_USER}): {e}"),
        };
        eprintln!("{line}");
    }
}

//! `provision plan --state-dir DIR <config|bundle>`: what applying this config would change.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::state::{Format, StateDir};
use crate::input;
use crate::plan;
use crate::render::{self, RenderContext};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    state: StateDir,
    /// A config.toml, or a .tar.gz / .tar.zst bundle holding one.
    path: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub(super) fn run(args: &Args) -> Result<()> {
    let input = input::read(&args.path)?;
    let validated = cairn_config::validate(&input.config_toml);
    let Some(config) = validated.config else {
        bail!("{} is invalid; run `provision validate {}` for the problems", input.origin, args.path.display());
    };
    let store = Store::open(&args.state.state_dir)
        .with_context(|| format!("opening state directory {}", args.state.state_dir.display()))?;
    let current = store.committed_ids().0;
    let old = current.map(|g| store.manifest(g)).transpose().context("reading the current manifest")?;
    let renderer = render::default_renderer();
    let context = RenderContext::for_state_dir(store.root());
    let rendered = renderer.render(&config, &context).map_err(anyhow::Error::msg).context("rendering")?;
    let restart: Vec<String> = config.activation.restart.iter().map(|n| format!("{}.service", n.value)).collect();
    let plan = plan::diff(old.as_ref(), &rendered.manifest(input.payload.clone(), &context.files_dir), &restart);
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "current_generation": current, "plan": plan, "renderer": renderer.describe() })
        ),
        Format::Human => {
            let from = current.map_or("nothing (unprovisioned)".to_owned(), |g| format!("generation {g}"));
            println!("plan from {from} ({}):", renderer.describe());
            print!("{}", plan.human());
        }
    }
    Ok(())
}

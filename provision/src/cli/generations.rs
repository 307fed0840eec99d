//! `provision generations --state-dir DIR`: the kept generations, newest first.

use anyhow::{Context, Result};

use super::state::{Format, StateDir};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    state: StateDir,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(super) format: Format,
    /// Also check every file of every generation against its recorded hash.
    #[arg(long)]
    verify: bool,
}

pub(super) fn run(args: &Args) -> Result<()> {
    let dir = &args.state.state_dir;
    let store = Store::open(dir).with_context(|| format!("opening state directory {}", dir.display()))?;
    let status = store.status();
    let generations = store.generations();
    let mut damaged = Vec::new();
    if args.verify {
        for g in &generations {
            if let Err(e) = store.verify(g.id) {
                damaged.push(e.to_string());
            }
        }
    }
    match args.format {
        Format::Json => {
            println!("{}", serde_json::json!({ "status": status, "generations": generations, "damaged": damaged }))
        }
        Format::Human => {
            let mark = |id| match (&status.current, &status.previous) {
                (Some(c), _) if c.id == id => "current",
                (_, Some(p)) if p.id == id => "previous",
                _ => "",
            };
            println!("{:>5}  {:<24}  {:<12}  {:<8}  config sha256", "id", "created", "outcome", "");
            for g in &generations {
                println!(
                    "{:>5}  {:<24}  {:<12}  {:<8}  {}",
                    g.id,
                    g.created_at,
                    g.outcome,
                    mark(g.id),
                    g.config_sha256
                );
            }
            for d in &damaged {
                println!("DAMAGED: {d}");
            }
        }
    }
    anyhow::ensure!(damaged.is_empty(), "{} damaged generation(s)", damaged.len());
    Ok(())
}

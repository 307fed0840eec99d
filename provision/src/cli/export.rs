//! `provision export --url URL [-o FILE]`: the exact config.toml of the current generation.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::remote::{Remote, Target};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(super) fn run(args: &Args) -> ExitCode {
    match export(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn export(args: &Args) -> Result<()> {
    let remote = Remote::new(&args.target, true)?;
    let reply = remote.call("GET", "/api/config", None)?;
    if reply.status != 200 {
        bail!("GET /api/config: {} {}", reply.status, reply.error_message());
    }
    match &args.output {
        Some(path) => std::fs::write(path, &reply.body).with_context(|| format!("writing {}", path.display())),
        None => match std::io::stdout().lock().write_all(&reply.body) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.context("writing stdout"),
        },
    }
}

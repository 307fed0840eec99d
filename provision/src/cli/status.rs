//! `provision status --url URL`: the device's status (signed once it is provisioned).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::remote::{Remote, Target};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
    /// Print the raw JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: &Args) -> ExitCode {
    match status(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn status(args: &Args) -> Result<()> {
    let remote = Remote::new(&args.target, false)?;
    let reply = remote.call("GET", "/api/status", None)?;
    if reply.status != 200 {
        bail!("GET /api/status: {} {}", reply.status, reply.error_message());
    }
    let v = reply.json()?;
    if args.json {
        return super::remote::emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut out = String::new();
    let _ = writeln!(out, "provisioned: {}", v["provisioned"]);
    for which in ["current", "previous"] {
        let g = &v[which];
        if g.is_null() {
            let _ = writeln!(out, "{which}: none");
        } else {
            let _ = writeln!(
                out,
                "{which}: generation {} ({}, {})",
                g["id"],
                g["created_at"].as_str().unwrap_or(""),
                g["outcome"].as_str().unwrap_or("")
            );
        }
    }
    let job = &v["last_job"];
    if !job.is_null() {
        let _ = writeln!(out, "last job: {} {}", job["id"].as_str().unwrap_or(""), job["state"].as_str().unwrap_or(""));
    }
    let _ = writeln!(out, "provision {}", v["versions"]["provision"].as_str().unwrap_or(""));
    super::remote::emit(&out)
}

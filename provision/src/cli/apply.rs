//! `provision apply --url URL [--key FILE] <config.toml | bundle>`: sign, submit, follow
//! the job with a progress bar, print diagnostics or the outcome; non-zero on failure.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::remote::{self, Remote, Target};
use crate::input;
use crate::report;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: Target,
    /// A config.toml, or a .tar.gz / .tar.zst bundle holding one.
    path: PathBuf,
}

pub(super) fn run(args: &Args) -> ExitCode {
    match apply(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn apply(args: &Args) -> Result<bool> {
    let bytes = remote::read_file(&args.path)?;
    let remote = Remote::new(&args.target, false)?;
    let reply = remote.call("POST", "/api/config", Some((&bytes, remote::content_type(&bytes))))?;
    match reply.status {
        202 => {}
        422 => {
            print_diagnostics(args, &reply.json()?);
            return Ok(false);
        }
        401 if !remote.has_signer() => {
            bail!(
                "the device is provisioned and needs a signed request: pass --key FILE or load the key into ssh-agent"
            )
        }
        status => bail!("POST /api/config: {status} {}", reply.error_message()),
    }
    let accepted = reply.json()?;
    let job_url = accepted["job_url"].as_str().unwrap_or_default().to_owned();
    eprintln!("submitted job {}", accepted["job_id"].as_str().unwrap_or(""));
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message("queued");
    let job = remote.follow(&job_url, |name, event| {
        if name != "step" {
            return;
        }
        let (step, status, message) = (
            event["step"].as_str().unwrap_or(""),
            event["status"].as_str().unwrap_or(""),
            event["message"].as_str().unwrap_or(""),
        );
        match status {
            "started" => bar.set_message(format!("{step}…")),
            _ => {
                bar.println(format!("  {:<9} {step}{}{}", status, if message.is_empty() { "" } else { ": " }, message))
            }
        }
    })?;
    bar.finish_and_clear();
    for w in job["warnings"].as_array().into_iter().flatten() {
        eprintln!(
            "warning {}:{} {}: {}",
            w["line"],
            w["col"],
            w["path"].as_str().unwrap_or(""),
            w["message"].as_str().unwrap_or("")
        );
    }
    let state = job["state"].as_str().unwrap_or("unknown");
    if state == "succeeded" {
        println!("applied: generation {} is active", job["generation"]);
        Ok(true)
    } else {
        println!(
            "apply failed: {} (rollback: {})",
            job["error"].as_str().unwrap_or("unknown error"),
            job["rollback"].as_str().unwrap_or("unknown")
        );
        Ok(false)
    }
}

/// Prints a 422: the same human diagnostics as `provision validate` (re-validated locally,
/// which yields the same list), or the server's list if the local validator disagrees.
fn print_diagnostics(args: &Args, answer: &Value) {
    let code = answer["error"]["code"].as_str().unwrap_or("");
    if code == "invalid_config" {
        if let Ok(input) = input::read(&args.path) {
            let validated = cairn_config::validate(&input.config_toml);
            if !validated.is_valid() {
                report::human(&mut anstream::stderr(), &input.origin, &input.config_toml, &validated);
                return;
            }
        }
        for d in answer["error"]["details"]["diagnostics"].as_array().into_iter().flatten() {
            eprintln!(
                "{} {}:{} {}: {}",
                d["severity"].as_str().unwrap_or("error"),
                d["line"],
                d["col"],
                d["path"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            );
        }
    } else {
        eprintln!("error: {}", answer["error"]["message"].as_str().unwrap_or("the device refused the config"));
    }
}

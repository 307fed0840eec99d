//! Command-line entry point: argument parsing only; each command lives in its own module.

mod apply;
mod boot;
mod export;
mod follow;
mod generations;
mod openapi;
mod plan;
mod recover;
mod remote;
mod render;
mod rollback;
mod schema;
mod serve;
mod state;
mod status;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by commands that read a config.
pub(crate) mod exit {
    pub const VALID: u8 = 0;
    pub const INVALID: u8 = 1;
    pub const UNREADABLE: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(name = "provision", version, about = "Cairn: validate, render and apply device configs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a config.toml or bundle and print every problem found.
    Validate(validate::Args),
    /// Render a config.toml or bundle into Quadlet, systemd and host files.
    Render(render::Args),
    /// Print the JSON Schema of config.toml (for editors such as taplo / Even Better TOML).
    Schema,
    /// Show what applying a config would change on this device (units, host settings).
    Plan(plan::Args),
    /// Finish or undo an interrupted switch of generations (run at boot before provisioned units).
    Recover(recover::Args),
    /// List the generations kept in the local state directory, or on a device with --url.
    Generations(GenerationsArgs),
    /// Make a kept generation current again (rollback or forward), as a job.
    Rollback(rollback::Args),
    /// After a reboot: expose the current generation's units, daemon-reload, start them all.
    Boot(boot::Args),
    /// Run the HTTP API and the first-boot Boot UI.
    Serve(serve::Args),
    /// Submit a config to a device (signed), follow the job, print the outcome.
    Apply(apply::Args),
    /// Show a device's status.
    Status(status::Args),
    /// Print the exact config.toml of a device's current generation.
    Export(export::Args),
    /// Print the OpenAPI 3.1 document of the HTTP API (as served at /openapi.json).
    Openapi,
}

/// `generations`: local (the pipeline's command) or remote with `--url` (signed request).
#[derive(Debug, clap::Args)]
struct GenerationsArgs {
    /// Ask a device's API (signed with --key or ssh-agent) instead of reading --state-dir.
    #[arg(long)]
    url: Option<String>,
    /// Key for --url: a private key file, or a .pub file selecting an ssh-agent key.
    #[arg(long, requires = "url")]
    key: Option<std::path::PathBuf>,
    #[command(flatten)]
    local: generations::Args,
}

/// Parses arguments and runs the command; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => ExitCode::from(validate::run(&args)),
        Command::Render(args) => ExitCode::from(render::run(&args)),
        Command::Schema => schema::run(),
        Command::Plan(args) => report_error(plan::run(&args)),
        Command::Recover(args) => report_error(recover::run(&args)),
        Command::Generations(GenerationsArgs { url: Some(url), key, local }) => {
            let json = matches!(local.format, state::Format::Json);
            report_error(remote::generations(&remote::Target { url, key }, json))
        }
        Command::Generations(args) => report_error(generations::run(&args.local)),
        Command::Rollback(args) => report_error(rollback::run(&args)),
        Command::Boot(args) => report_error(boot::run(&args)),
        Command::Serve(args) => serve::run(args),
        Command::Apply(args) => apply::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Openapi => openapi::run(),
    }
}

/// The anyhow edge: print the whole error chain, exit 1.
fn report_error(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

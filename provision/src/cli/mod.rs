//! Command-line entry point: argument parsing only; each command lives in its own module.

mod boot;
mod follow;
mod generations;
mod plan;
mod recover;
mod render;
mod rollback;
mod schema;
mod state;
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
    /// List the generations kept in the local state directory.
    Generations(generations::Args),
    /// Make a kept generation current again (rollback or forward), as a job.
    Rollback(rollback::Args),
    /// After a reboot: expose the current generation's units, daemon-reload, start them all.
    Boot(boot::Args),
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
        Command::Generations(args) => report_error(generations::run(&args)),
        Command::Rollback(args) => report_error(rollback::run(&args)),
        Command::Boot(args) => report_error(boot::run(&args)),
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

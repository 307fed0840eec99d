//! Command-line entry point: argument parsing only; each command lives in its own module.

mod render;
mod schema;
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
}

/// Parses arguments and runs the command; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => ExitCode::from(validate::run(&args)),
        Command::Render(args) => ExitCode::from(render::run(&args)),
        Command::Schema => schema::run(),
    }
}

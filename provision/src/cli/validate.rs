//! `provision validate <config.toml | bundle>`: report every problem; write nothing.

use std::path::PathBuf;

use clap::ValueEnum;

use super::exit;
use crate::input::{self, Input};
use crate::report;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A config.toml, or a .tar.gz / .tar.zst bundle holding one.
    path: PathBuf,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Human,
    Json,
}

pub(super) fn run(args: &Args) -> u8 {
    let input = match input::read(&args.path) {
        Ok(input) => input,
        Err(e) => {
            match args.format {
                Format::Human => eprintln!("error: {e:#}"),
                Format::Json => println!("{}", report::json_unreadable(&format!("{e:#}"))),
            }
            return exit::UNREADABLE;
        }
    };
    let Input { config_toml, origin, .. } = &input;
    let validated = cairn_config::validate(config_toml);
    match args.format {
        Format::Human => report::human(&mut anstream::stderr(), origin, config_toml, &validated),
        Format::Json => println!("{}", report::json(&validated)),
    }
    if validated.is_valid() { exit::VALID } else { exit::INVALID }
}

//! `provision schema`: the JSON Schema of config.toml on stdout.

use std::process::ExitCode;

pub(super) fn run() -> ExitCode {
    println!("{}", cairn_config::schema::json_schema_pretty());
    ExitCode::SUCCESS
}

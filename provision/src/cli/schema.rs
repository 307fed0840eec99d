//! `provision schema`: the JSON Schema of config.toml on stdout.

use std::io::Write;
use std::process::ExitCode;

pub(super) fn run() -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", cairn_config::schema::json_schema_pretty()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`provision schema | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing the schema: {e}");
            ExitCode::FAILURE
        }
    }
}

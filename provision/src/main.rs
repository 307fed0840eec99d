//! `provision`: validate, render, apply and serve Cairn device configs.

fn main() -> std::process::ExitCode {
    provision::cli::run()
}

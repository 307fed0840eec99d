//! `provision serve`: the HTTP API and Boot UI over a state directory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::state::Activator;
use crate::api::server::{self, ServeOptions};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// State directory (generations, jobs, lock).
    #[arg(long, default_value = "/data/cairn")]
    state_dir: PathBuf,
    /// Address to listen on. Without it: the socket systemd passes (LISTEN_FDS), else 0.0.0.0:8080.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// How units are activated: `none` (dev mode: render and promote only) or `systemd`.
    #[arg(long, value_enum, default_value_t = Activator::Systemd)]
    activator: Activator,
    /// Extra host names the device answers to on first boot (Host header check); repeatable.
    #[arg(long = "device-name")]
    device_names: Vec<String>,
}

pub(super) fn run(args: Args) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = ServeOptions {
        state_dir: args.state_dir,
        listen: args.listen,
        activator: args.activator.into(),
        device_names: args.device_names,
    };
    match runtime.block_on(server::serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "provision serve failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// journald when started by systemd with its journal as stderr, else plain text on stderr.
fn init_tracing() {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        if let Ok(journald) = tracing_journald::layer() {
            let _ = registry.with(journald.with_syslog_identifier("provision".into())).try_init();
            return;
        }
    }
    let _ = registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)).try_init();
}

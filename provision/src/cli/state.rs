//! Shared arguments of the commands that work on a local state directory.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::jobs::ActivatorKind;

/// Where generations live. `/data/cairn` on a device; always explicit below the CLI.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StateDir {
    /// The state directory.
    #[arg(long, default_value = "/data/cairn")]
    pub(crate) state_dir: PathBuf,
}

/// How units are activated by commands that run jobs.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Activator {
    /// Dev mode: validate, render and promote only; activation and health are skipped.
    None,
    /// systemd over D-Bus (the device).
    Systemd,
}

impl From<Activator> for ActivatorKind {
    fn from(a: Activator) -> Self {
        match a {
            Activator::None => ActivatorKind::None,
            Activator::Systemd => ActivatorKind::Systemd,
        }
    }
}

/// Human or JSON output.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Format {
    Human,
    Json,
}

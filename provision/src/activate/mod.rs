//! Activation and health: making the units of `current` run, and deciding whether the
//! result is healthy. The job runner talks to an [`Activate`] implementation: `None` in
//! dev mode (both steps skipped), systemd over D-Bus on the device.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use cairn_config::Config;

use crate::plan::{Manifest, Plan};

/// A boxed future that can cross threads (the trait is used as `dyn Activate`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Live progress lines for the job's events.
pub type Progress<'a> = &'a (dyn Fn(String) + Send + Sync);

/// Everything activation and health need about the generation now `current`.
#[derive(Debug)]
pub struct Request {
    /// The state directory (units are exposed from `<state>/current/rendered`).
    pub state_dir: PathBuf,
    /// The generation now current.
    pub generation: u64,
    pub config: Config,
    pub manifest: Manifest,
    /// What to change relative to the generation that was current before.
    pub plan: Plan,
    /// When activation began: `activation.timeout_seconds` counts from here, for the
    /// activate and health steps together.
    pub started: std::time::Instant,
}

/// A failed activation or health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    /// Evidence: the last journal lines of a failed unit, a probe's last error.
    pub details: Vec<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), details: Vec::new() }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for line in &self.details {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

/// Runs a generation's units and judges their health.
pub trait Activate: Send + Sync + fmt::Debug {
    /// `Some(reason)`: this activator does not run units; both steps are reported skipped.
    fn skipped(&self) -> Option<&'static str>;
    /// Executes `request.plan`. Returns a one-line summary.
    fn activate<'a>(&'a self, request: &'a Request, progress: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>>;
    /// Waits for required units and probes within the config's deadlines.
    fn health<'a>(&'a self, request: &'a Request, progress: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>>;
}

/// Dev mode: nothing is started, nothing is checked, and the job says so.
#[derive(Debug, Default)]
pub struct NoActivator;

impl Activate for NoActivator {
    fn skipped(&self) -> Option<&'static str> {
        Some("dev mode (activator: none): units were not activated")
    }
    fn activate<'a>(&'a self, _: &'a Request, _: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async { Err(Failure::new("dev mode does not activate units")) })
    }
    fn health<'a>(&'a self, _: &'a Request, _: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async { Err(Failure::new("dev mode does not check health")) })
    }
}
pub(crate) mod command;
pub mod expose;
pub mod health;
pub mod host;
pub mod storage;
pub mod systemd;
pub(crate) mod users;

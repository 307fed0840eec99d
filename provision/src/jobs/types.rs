//! The public vocabulary of jobs, shared with the HTTP API (serialised as-is, with
//! OpenAPI schemas). See docs/architecture/jobs.md for the contract.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A job's id: 128 random bits in lowercase hex. Knowing it is the capability to read the job.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, pattern = "^[0-9a-f]{32}$")]
pub struct JobId(String);

impl JobId {
    pub(crate) fn random() -> std::io::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The id used when another process holds the lock and did not say which job it runs.
    pub(crate) fn unknown() -> Self {
        Self("0".repeat(32))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Not 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a job id is 32 lowercase hex digits")]
pub struct BadJobId;

impl FromStr for JobId {
    type Err = BadJobId;
    fn from_str(s: &str) -> Result<Self, BadJobId> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadJobId)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// A new config: validate → render → plan → promote → activate → health → commit.
    Apply,
    /// A kept generation made current again: plan → promote → activate → health → commit.
    Activate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// What happened to the device's state after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rollback {
    /// Nothing had changed (success, or failure before promotion).
    NotNeeded,
    /// The previous generation is current and active again.
    Completed,
    /// Going back failed too; the error says how far it got.
    Failed,
    /// A failed first apply was thrown away: the device is still unprovisioned.
    Discarded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Started,
    Succeeded,
    Failed,
    /// Not run (dev mode: activation and health). Never reported as run.
    Skipped,
}

/// One step transition of a job. The last event of every job has step `done`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobEvent {
    /// 1, 2, 3… within the job.
    pub seq: u64,
    /// `validate`, `render`, `plan`, `promote`, `activate`, `health`, `commit`, `rollback`, `done`.
    pub step: String,
    pub status: StepStatus,
    pub message: String,
    /// Milliseconds since the job was created.
    pub elapsed_ms: u64,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A job as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobSnapshot {
    pub id: JobId,
    pub kind: JobKind,
    pub state: JobState,
    /// The step running now, or the last one reached.
    pub step: Option<String>,
    pub events: Vec<JobEvent>,
    /// Validation warnings of the submitted config.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<cairn_config::Diagnostic>,
    pub error: Option<String>,
    pub rollback: Rollback,
    /// The generation this job created or activated, once known.
    pub generation: Option<u64>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// Which activator runs units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivatorKind {
    /// Dev mode: validate → render → promote only; activation and health are `skipped`.
    None,
    /// systemd over D-Bus (the device).
    Systemd,
}

/// A config to apply.
#[derive(Clone, Debug)]
pub struct Submission {
    /// config.toml, or a .tar.gz/.tar.zst bundle (detected by magic bytes).
    pub bytes: Vec<u8>,
    pub source: Source,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Api,
    BootUi,
    Cli,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::BootUi => "boot_ui",
            Source::Cli => "cli",
        }
    }
}

/// Why a job was not queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("job {running} is running; one change at a time")]
    Busy { running: JobId },
    #[error("the config is invalid ({} problems)", diagnostics.len())]
    Invalid { diagnostics: Vec<cairn_config::Diagnostic> },
    #[error("the bundle was refused: {message}")]
    Bundle { message: String, too_large: bool },
    #[error("generation {id} is not kept on this device")]
    UnknownGeneration { id: u64 },
    #[error(transparent)]
    Internal(anyhow::Error),
}

//! The last journal lines of a failed unit, attached to the job as evidence.
//! journalctl runs with argv (no shell); rootless units are matched by the user unit
//! field and appsvc's uid. Reading is bounded: evidence must never hold up a rollback.

use std::ffi::OsString;
use std::time::Duration;

use crate::plan::{UnitMode, UnitRef};

/// How journal lines are read.
#[derive(Clone, Debug)]
pub(crate) struct Journal {
    /// `journalctl` on the device.
    program: OsString,
    /// A read that takes longer is abandoned (and journalctl killed).
    timeout: Duration,
}

impl Journal {
    pub(crate) fn device() -> Self {
        Self::new("journalctl", Duration::from_secs(10))
    }

    pub(crate) fn new(program: impl Into<OsString>, timeout: Duration) -> Self {
        Self { program: program.into(), timeout }
    }

    /// Up to `lines` recent journal lines of `unit`; a note instead when journalctl fails
    /// or does not answer in time.
    pub(crate) async fn tail(&self, unit: &UnitRef, lines: u32) -> Vec<String> {
        let mut command = tokio::process::Command::new(&self.program);
        command.args(["--no-pager", "--output=short-iso", "--lines"]).arg(lines.to_string());
        match unit.mode {
            UnitMode::Rootful => {
                command.arg("--unit").arg(&unit.service);
            }
            UnitMode::Rootless => {
                command.arg(format!("_SYSTEMD_USER_UNIT={}", unit.service));
            }
        }
        command.stdin(std::process::Stdio::null()).kill_on_drop(true);
        let program = self.program.to_string_lossy();
        match tokio::time::timeout(self.timeout, command.output()).await {
            Ok(Ok(out)) if out.status.success() => {
                String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
            }
            Ok(Ok(out)) => vec![format!("{program} {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim())],
            Ok(Err(e)) => vec![format!("running {program}: {e}")],
            Err(_) => {
                vec![format!("{program} did not answer within {} s; no journal lines", self.timeout.as_secs_f32())]
            }
        }
    }
}

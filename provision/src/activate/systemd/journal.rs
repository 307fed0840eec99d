//! The last journal lines of a failed unit, attached to the job as evidence.
//! journalctl runs with argv (no shell); rootless units are matched by the user unit
//! field and appsvc's uid.

use crate::plan::{UnitMode, UnitRef};

/// Up to `lines` recent journal lines of `unit`; a note instead when journalctl fails.
pub(crate) async fn tail(unit: &UnitRef, lines: u32) -> Vec<String> {
    let mut command = tokio::process::Command::new("journalctl");
    command.args(["--no-pager", "--output=short-iso", "--lines"]).arg(lines.to_string());
    match unit.mode {
        UnitMode::Rootful => {
            command.arg("--unit").arg(&unit.service);
        }
        UnitMode::Rootless => {
            command.arg(format!("_SYSTEMD_USER_UNIT={}", unit.service));
        }
    }
    match command.stdin(std::process::Stdio::null()).output().await {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect(),
        Ok(out) => vec![format!("journalctl {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim())],
        Err(e) => vec![format!("running journalctl: {e}")],
    }
}

//! Job records on disk: `<state>/jobs/<id>.json`, rewritten atomically on every event so
//! a restart of the service loses nothing; only the newest [`KEEP_JOBS`] are kept.

use std::fs;
use std::path::Path;

use cairn_config::{Diagnostic, Severity};
use serde::Deserialize;

use super::types::{JobEvent, JobId, JobKind, JobSnapshot, JobState, Rollback};
use crate::store::atomic;

/// How many job records are kept.
pub const KEEP_JOBS: usize = 64;

pub(crate) fn save(dir: &Path, job: &JobSnapshot) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(job).map_err(std::io::Error::other)?;
    atomic::write_file(&dir.join(format!("{}.json", job.id)), &bytes, 0o600)
}

pub(crate) fn remove(dir: &Path, id: &JobId) -> std::io::Result<()> {
    atomic::remove_file(&dir.join(format!("{id}.json")))
}

/// One record by id (a job another process ran), if it is on disk.
pub(crate) fn load_one(dir: &Path, id: &JobId) -> Option<JobSnapshot> {
    parse(&fs::read(dir.join(format!("{id}.json"))).ok()?).ok()
}

/// Every readable record, oldest first. Unreadable files are skipped (and reported).
pub(crate) fn load(dir: &Path) -> (Vec<JobSnapshot>, Vec<String>) {
    let mut jobs = Vec::new();
    let mut problems = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        match fs::read(&path).map_err(|e| e.to_string()).and_then(|b| parse(&b)) {
            Ok(job) => jobs.push(job),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    jobs.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    (jobs, problems)
}

fn parse(bytes: &[u8]) -> Result<JobSnapshot, String> {
    let s: Stored = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    Ok(JobSnapshot {
        id: s.id,
        kind: s.kind,
        state: s.state,
        step: s.step,
        events: s.events,
        warnings: s.warnings.into_iter().map(StoredDiagnostic::into_diagnostic).collect(),
        error: s.error,
        rollback: s.rollback,
        generation: s.generation,
        created_at: s.created_at,
        finished_at: s.finished_at,
    })
}

/// [`JobSnapshot`] as read back (diagnostics lose their byte spans, which are not serialised).
#[derive(Deserialize)]
struct Stored {
    id: JobId,
    kind: JobKind,
    state: JobState,
    step: Option<String>,
    events: Vec<JobEvent>,
    warnings: Vec<StoredDiagnostic>,
    error: Option<String>,
    rollback: Rollback,
    generation: Option<u64>,
    created_at: String,
    finished_at: Option<String>,
}

#[derive(Deserialize)]
struct StoredDiagnostic {
    severity: String,
    path: String,
    line: usize,
    col: usize,
    message: String,
    hint: Option<String>,
}

impl StoredDiagnostic {
    fn into_diagnostic(self) -> Diagnostic {
        let severity = if self.severity == "error" { Severity::Error } else { Severity::Warning };
        Diagnostic {
            severity,
            path: self.path,
            line: self.line,
            column: self.col,
            span: 0..0,
            message: self.message,
            hint: self.hint,
        }
    }
}

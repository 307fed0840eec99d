//! Printing a local job's events as they happen, until it ends.

use anyhow::{Result, anyhow};
use tokio::sync::broadcast::error::RecvError;

use crate::jobs::{JobEvent, JobId, JobRunner, JobSnapshot};

/// Prints every event of job `id` to stderr and returns its final snapshot.
pub(crate) async fn follow(runner: &JobRunner, id: &JobId) -> Result<JobSnapshot> {
    let (past, mut live) = runner.subscribe(id).ok_or_else(|| anyhow!("job {id} vanished"))?;
    let mut seen = 0;
    let mut done = false;
    for event in &past {
        print_event(event);
        seen = event.seq;
        done |= event.step == "done";
    }
    while !done {
        match live.recv().await {
            Ok(event) if event.seq > seen => {
                print_event(&event);
                seen = event.seq;
                done = event.step == "done";
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => break,
        }
    }
    runner.job(id).ok_or_else(|| anyhow!("job {id} vanished"))
}

fn print_event(e: &JobEvent) {
    let status = serde_json::to_value(e.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    if e.message.is_empty() {
        eprintln!("[{:>6} ms] {:<9} {status}", e.elapsed_ms, e.step);
    } else {
        eprintln!("[{:>6} ms] {:<9} {status}: {}", e.elapsed_ms, e.step, e.message);
    }
}

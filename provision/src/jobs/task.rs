//! A job's task always ends its job. Whatever the pipeline does — returns, panics in a
//! step, or never runs because its task was dropped (a runtime shutting down drops
//! blocking tasks not yet started) — the job ends `succeeded` or `failed` with a message,
//! and its single-flight guard and state lock are released, so the next job can run.
//!
//! A job that died may have moved `current`: before the lock is released, store recovery
//! puts the store back in a committed state (undoing an unfinished switch). Its units are
//! not re-activated then — the job reports `rollback: failed` and says so.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::JobRunner;
use super::lock::StateLock;
use super::pipeline::Outcome;
use super::types::{JobId, Rollback};
use crate::store::Recovery;

/// Owns a queued job until it has ended.
#[derive(Debug)]
pub(super) struct JobTask {
    runner: JobRunner,
    id: JobId,
    /// Taken when the job ends; still here in `drop` means it never did.
    lock: Option<StateLock>,
}

impl JobTask {
    pub(super) fn new(runner: JobRunner, id: JobId, lock: StateLock) -> Self {
        Self { runner, id, lock: Some(lock) }
    }

    /// Runs the pipeline and ends the job with its outcome, or as having died.
    pub(super) fn run(mut self, pipeline: impl FnOnce(&JobRunner, &JobId) -> Outcome) {
        let outcome = catch_unwind(AssertUnwindSafe(|| pipeline(&self.runner, &self.id)));
        let Some(lock) = self.lock.take() else { return };
        match outcome {
            Ok(Ok(())) => self.runner.finish(&self.id, lock, Ok(()), Rollback::NotNeeded),
            Ok(Err((error, rollback))) => self.runner.finish(&self.id, lock, Err(error), rollback),
            Err(panic) => died(&self.runner, &self.id, lock, &format!("panicked: {}", panic_message(&*panic))),
        }
    }
}

impl Drop for JobTask {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            died(&self.runner, &self.id, lock, "its task ended before the job did (aborted)");
        }
    }
}

/// Ends a job whose pipeline did not: recover the store under the still-held lock, then
/// fail the job saying where it died and what recovery did.
fn died(runner: &JobRunner, id: &JobId, lock: StateLock, cause: &str) {
    let step = runner.job(id).and_then(|job| job.step).unwrap_or_else(|| "queued".to_owned());
    let (rollback, recovery) = match runner.store().recover() {
        Ok(undone @ Recovery::Undone { .. }) => {
            (Rollback::Failed, format!("recovery {undone}; its units were not re-activated"))
        }
        Ok(done) => (Rollback::NotNeeded, format!("recovery: {done}")),
        Err(e) => (Rollback::Failed, format!("recovering the state directory failed: {e}")),
    };
    let message = format!("the job died in step {step}: {cause}; {recovery}");
    runner.finish(id, lock, Err(message), rollback);
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activate::NoActivator;
    use crate::jobs::{JobKind, JobState, StepStatus};

    #[tokio::test(flavor = "multi_thread")]
    async fn a_task_dropped_before_it_ran_fails_its_job_and_frees_single_flight() {
        let dir = tempfile::tempdir().unwrap();
        let runner =
            JobRunner::with_parts(dir.path(), Box::new(NoActivator), crate::render::default_renderer()).unwrap();
        let (id, lock) = runner.begin().unwrap();
        runner.register(&id, JobKind::Apply, Vec::new());
        assert_eq!(runner.active(), Some(id.clone()));
        // What a runtime shutting down does to a blocking task that has not started.
        drop(JobTask::new(runner.clone(), id.clone(), lock));
        let job = runner.job(&id).unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(job.rollback, Rollback::NotNeeded);
        assert_eq!(
            job.error.as_deref(),
            Some(
                "the job died in step queued: its task ended before the job did (aborted); recovery: nothing to recover"
            )
        );
        assert_eq!(job.events.last().map(|e| (e.step.as_str(), e.status)), Some(("done", StepStatus::Failed)));
        assert_eq!(runner.active(), None);
        let (next, _lock) = runner.begin().expect("the guard and the state lock are free");
        assert_ne!(next, id);
    }
}

//! A job whose task dies — a panic in a step — ends `failed` with a message, the store is
//! recovered under its lock, and single-flight and the state lock are free for the next job.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use cairn_config::Config;
use common::{MINIMAL, OneUnitPerContainer, Scripted, submission, wait};
use provision::activate::{Activate, BoxFuture, Failure, Progress, Request};
use provision::jobs::{JobRunner, JobState, Rollback};
use provision::render::{Render, RenderContext, Rendered};

/// Panics in `activate` the first time, then behaves like [`Scripted`].
#[derive(Debug, Default)]
struct PanicsOnce(AtomicBool);

impl Activate for PanicsOnce {
    fn skipped(&self) -> Option<&'static str> {
        None
    }
    fn activate<'a>(&'a self, r: &'a Request, p: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        if !self.0.swap(true, Ordering::SeqCst) {
            panic!("injected panic in activate");
        }
        Scripted { fail_health: false }.activate(r, p)
    }
    fn health<'a>(&'a self, r: &'a Request, p: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Scripted { fail_health: false }.health(r, p)
    }
}

/// Panics while rendering the first time.
#[derive(Debug, Default)]
struct RenderPanicsOnce(AtomicBool);

impl Render for RenderPanicsOnce {
    fn describe(&self) -> &'static str {
        "test renderer"
    }
    fn render(&self, config: &Config, context: &RenderContext) -> Result<Rendered, String> {
        if !self.0.swap(true, Ordering::SeqCst) {
            panic!("injected panic in render");
        }
        OneUnitPerContainer.render(config, context)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_after_promotion_fails_the_job_recovers_the_store_and_frees_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let runner =
        JobRunner::with_parts(dir.path(), Box::new(PanicsOnce::default()), Box::new(OneUnitPerContainer)).unwrap();
    let job = runner.submit_apply(submission(MINIMAL)).unwrap();
    let done = wait(&runner, &job).await;
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.rollback, Rollback::Failed, "the store is back but units were not re-activated");
    assert_eq!(
        done.error.as_deref(),
        Some(
            "the job died in step activate: panicked: injected panic in activate; recovery undid the unfinished \
             switch to generation 1; current is none (unprovisioned); its units were not re-activated"
        )
    );
    assert_eq!(done.events.last().map(|e| e.step.as_str()), Some("done"));
    assert!(!runner.store().status().provisioned);
    assert!(runner.store().generations().is_empty(), "the failed first generation is discarded");
    assert!(runner.active().is_none());

    // The in-process guard and the flock are free: the next job runs and succeeds.
    let next = wait(&runner, &runner.submit_apply(submission(MINIMAL)).unwrap()).await;
    assert_eq!(next.state, JobState::Succeeded, "{next:#?}");
    assert!(runner.store().status().provisioned);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_before_promotion_fails_the_job_without_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let runner = JobRunner::with_parts(
        dir.path(),
        Box::new(Scripted { fail_health: false }),
        Box::new(RenderPanicsOnce::default()),
    )
    .unwrap();
    let done = wait(&runner, &runner.submit_apply(submission(MINIMAL)).unwrap()).await;
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.rollback, Rollback::NotNeeded);
    assert_eq!(
        done.error.as_deref(),
        Some("the job died in step render: panicked: injected panic in render; recovery: nothing to recover")
    );
    let next = wait(&runner, &runner.submit_apply(submission(MINIMAL)).unwrap()).await;
    assert_eq!(next.state, JobState::Succeeded, "{next:#?}");
}

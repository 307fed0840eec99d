//! Whole jobs — render, promote, activate, health, rollback — run by the real
//! [`JobRunner`] against the fake systemd: what a failed first apply leaves behind, and
//! that a manager that stops answering fails the job instead of leaving it running.

use std::time::Duration;

use super::fake::{FakeActivator, FakeSystemd};
use crate::jobs::{JobRunner, JobSnapshot, JobState, Rollback, Source, Submission};

/// `web` (rootless, required) and `side` (rootful). Rootful units start first.
fn config(timeout_seconds: u32, web_port: u16) -> Vec<u8> {
    format!(
        r#"version = 1

[users.admin]
isAdmin = true
ssh_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj ed25519@fixture"

[activation]
required = ["web"]
timeout_seconds = {timeout_seconds}

[containers.container.web]
privileged = false

[containers.container.web.Container]
Image = "docker.io/library/nginx:1.27"
PublishPort = "{web_port}:80"

[containers.container.side]
privileged = true

[containers.container.side.Container]
Image = "docker.io/library/busybox:1"
"#
    )
    .into_bytes()
}

struct Device {
    systemd: FakeSystemd,
    state: tempfile::TempDir,
    runtime: tempfile::TempDir,
    runner: JobRunner,
}

impl Device {
    /// A fresh unprovisioned device whose systemd has `web` and `side` loaded, inactive.
    fn new() -> Self {
        let systemd = FakeSystemd::default();
        systemd.load("web.service", "inactive").load("side.service", "inactive");
        Self::with(systemd)
    }

    fn with(systemd: FakeSystemd) -> Self {
        let state = tempfile::tempdir().unwrap();
        let runtime = tempfile::tempdir().unwrap();
        let activator = FakeActivator { systemd: systemd.clone(), runtime: runtime.path().to_owned() };
        let runner =
            JobRunner::with_parts(state.path(), Box::new(activator), crate::render::default_renderer()).unwrap();
        Self { systemd, state, runtime, runner }
    }

    /// Submits an apply and waits (up to 30 s) for it to end.
    async fn apply(&self, bytes: Vec<u8>) -> JobSnapshot {
        let runner = self.runner.clone();
        let job = tokio::task::spawn_blocking(move || runner.submit_apply(Submission { bytes, source: Source::Cli }))
            .await
            .unwrap()
            .unwrap();
        for _ in 0..3000 {
            let now = self.runner.job(&job.id).unwrap();
            if matches!(now.state, JobState::Succeeded | JobState::Failed) {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {} is still {:?} after 30 s", job.id, self.runner.job(&job.id).unwrap().state);
    }

    /// The start and stop jobs systemd saw since the last call, in order.
    fn unit_jobs(&self) -> Vec<String> {
        self.systemd.take_log().into_iter().filter(|l| l.contains(" start ") || l.contains(" stop ")).collect()
    }

    fn assert_unprovisioned(&self) {
        let status = self.runner.store().status();
        assert!(!status.provisioned && status.current.is_none(), "{status:?}");
        assert!(self.runner.store().generations().is_empty(), "the failed generation is deleted");
        assert!(!self.state.path().join("current").exists());
        let exposed: Vec<_> = walk(self.runtime.path());
        assert!(exposed.is_empty(), "no unit file stays exposed: {exposed:?}");
    }
}

/// `jobs` is first `starts` (queued together, so in any order), then `stops` in order.
fn assert_starts_then_stops(jobs: Vec<String>, starts: &[&str], stops: &[&str]) {
    assert_eq!(jobs.len(), starts.len() + stops.len(), "{jobs:?}");
    let mut started = jobs[..starts.len()].to_vec();
    started.sort();
    let mut expected: Vec<&str> = starts.to_vec();
    expected.sort();
    assert_eq!(started, expected, "{jobs:?}");
    assert_eq!(jobs[starts.len()..], *stops, "{jobs:?}");
}

/// Every non-directory entry under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_apply_whose_start_fails_is_discarded_and_its_started_units_are_stopped() {
    let device = Device::new();
    device.systemd.fail_jobs_of("web.service");
    let done = device.apply(config(30, 8080)).await;
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.rollback, Rollback::Discarded, "{done:#?}");
    assert_eq!(done.error.as_deref(), Some("activate: start web.service: job failed"));
    // rollback: nothing is current; everything the failed generation had is stopped
    assert_starts_then_stops(
        device.unit_jobs(),
        &["appsvc start web.service", "system start side.service"],
        &["system stop side.service", "appsvc stop web.service"],
    );
    assert_eq!(device.systemd.active_state("side.service").as_deref(), Some("inactive"));
    assert_eq!(device.systemd.active_state("web.service").as_deref(), Some("inactive"));
    device.assert_unprovisioned();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_apply_whose_unit_is_not_loaded_is_discarded() {
    // Quadlet rejected web's file: systemd has no such unit, to start or to stop.
    let systemd = FakeSystemd::default();
    systemd.load("side.service", "inactive");
    let device = Device::with(systemd);
    let done = device.apply(config(30, 8080)).await;
    assert_eq!(done.rollback, Rollback::Discarded, "{done:#?}");
    let error = done.error.unwrap();
    assert!(error.starts_with("activate: start web.service: ") && error.contains("not found"), "{error}");
    assert_starts_then_stops(
        device.unit_jobs(),
        &["appsvc start web.service", "system start side.service"],
        &["system stop side.service", "appsvc stop web.service"],
    );
    device.assert_unprovisioned();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_apply_whose_units_cannot_be_stopped_reports_the_rollback_failed() {
    let device = Device::new();
    device.systemd.fail_jobs_of("web.service").fail_stop_of("side.service");
    let done = device.apply(config(30, 8080)).await;
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.rollback, Rollback::Failed, "{done:#?}");
    assert_eq!(
        done.error.as_deref(),
        Some(
            "activate: start web.service: job failed; rollback failed: the failed first generation was discarded; \
             the device is unprovisioned, but stopping its units failed: stop side.service: job timeout"
        )
    );
    assert_eq!(device.systemd.active_state("side.service").as_deref(), Some("active"), "still running: said so");
    assert!(!device.runner.store().status().provisioned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_that_stops_answering_fails_the_job_by_the_deadline_and_the_next_job_runs() {
    let device = Device::new();
    device.systemd.silence("StartUnit");
    let started = std::time::Instant::now();
    let done = device.apply(config(2, 8080)).await;
    assert_eq!(done.state, JobState::Failed);
    // side may fail (it is not required): its hung start is tolerated, web's is not.
    assert_eq!(
        done.error.as_deref(),
        Some("activate: start web.service: the appsvc manager did not answer by the activation deadline")
    );
    assert_eq!(done.rollback, Rollback::Discarded, "stopping works while starting hangs: {done:#?}");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert!(device.runner.active().is_none(), "single-flight is free");
    device.assert_unprovisioned();

    device.systemd.speak_again();
    let next = device.apply(config(2, 8080)).await;
    assert_eq!(next.state, JobState::Succeeded, "{next:#?}");
    assert!(device.runner.store().status().provisioned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reapply_whose_health_reads_hang_rolls_back_to_the_previous_generation() {
    let device = Device::new();
    let first = device.apply(config(2, 8080)).await;
    assert_eq!(first.state, JobState::Succeeded, "{first:#?}");
    device.systemd.silence("ActiveState");
    let done = device.apply(config(2, 8081)).await;
    assert_eq!(done.state, JobState::Failed);
    let error = done.error.unwrap();
    assert!(
        error.starts_with("health: ")
            && error.ends_with("web.service ActiveState: the appsvc manager did not answer by the activation deadline"),
        "{error}"
    );
    assert_eq!(done.rollback, Rollback::Completed);
    assert_eq!(device.runner.store().status().current.map(|g| g.id), first.generation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_that_stops_answering_entirely_cannot_leave_the_job_running() {
    let device = Device::new();
    let first = device.apply(config(2, 8080)).await;
    assert_eq!(first.state, JobState::Succeeded, "{first:#?}");
    device.systemd.silence("*");
    let done = device.apply(config(2, 8081)).await;
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.rollback, Rollback::Failed, "re-activating needs the manager too: {done:#?}");
    let error = done.error.unwrap();
    assert!(error.contains("Subscribe: the system manager did not answer"), "{error}");
    // The store is back on the previous generation even though its units could not be re-activated.
    assert_eq!(device.runner.store().status().current.map(|g| g.id), first.generation);
    assert!(device.runner.active().is_none());
}

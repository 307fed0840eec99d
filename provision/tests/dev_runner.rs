//! The job runner end to end in dev mode and with scripted activators: events, states,
//! single-flight, persistence across restarts, rollback and discard.

use std::path::Path;

mod common;

use common::{OneUnitPerContainer, Scripted, submission, wait};
use provision::activate::{Activate, NoActivator};
use provision::jobs::{ActivatorKind, JobKind, JobRunner, JobSnapshot, JobState, Rollback, StepStatus, SubmitError};

use common::{FULL, MINIMAL};

fn steps(job: &JobSnapshot) -> Vec<(String, StepStatus)> {
    job.events.iter().map(|e| (e.step.clone(), e.status)).collect()
}

fn runner_with(dir: &Path, activator: Box<dyn Activate>) -> JobRunner {
    JobRunner::with_parts(dir, activator, Box::new(OneUnitPerContainer)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_mode_applies_and_skips_activation_and_health() {
    let dir = tempfile::tempdir().unwrap();
    let runner = JobRunner::open(dir.path(), ActivatorKind::None).unwrap();
    let job = runner.submit_apply(submission(MINIMAL)).unwrap();
    assert_eq!(job.kind, JobKind::Apply);
    assert_eq!(job.id.as_str().len(), 32);
    let done = wait(&runner, &job).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:#?}");
    assert_eq!(done.rollback, Rollback::NotNeeded);
    assert_eq!(done.generation, Some(1));
    use StepStatus::*;
    let expected: Vec<(String, StepStatus)> = [
        ("validate", Succeeded),
        ("render", Started),
        ("render", Succeeded),
        ("plan", Started),
        ("plan", Started),
        ("plan", Started),
        ("plan", Succeeded),
        ("promote", Started),
        ("promote", Succeeded),
        ("activate", Skipped),
        ("health", Skipped),
        ("commit", Started),
        ("commit", Succeeded),
        ("done", Succeeded),
    ]
    .into_iter()
    .map(|(s, st)| (s.to_owned(), st))
    .collect();
    assert_eq!(steps(&done), expected);
    assert!(done.events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    let details: Vec<&str> =
        done.events.iter().filter(|e| e.step == "plan" && e.status == Started).map(|e| e.message.as_str()).collect();
    assert_eq!(
        details,
        ["", "start: web.service (appsvc)", "host settings: users, network, firewall, dnsmasq, chrony"]
    );
    assert!(done.finished_at.is_some());

    let store = runner.store();
    let status = store.status();
    assert!(status.provisioned);
    assert_eq!(status.current.as_ref().map(|g| g.id), Some(1));
    assert_eq!(status.current.unwrap().outcome, "committed");
    assert_eq!(store.current_config().unwrap(), MINIMAL);
    assert!(!store.admin_keys().is_empty());
    store.verify(1).unwrap();
    assert!(dir.path().join(format!("jobs/{}.json", job.id)).is_file());

    // A second apply moves current to 2 and previous to 1; the real renderer's units land.
    let job2 = runner.submit_apply(submission(FULL)).unwrap();
    let done2 = wait(&runner, &job2).await;
    assert_eq!(done2.state, JobState::Succeeded, "{done2:#?}");
    let status = store.status();
    assert_eq!((status.current.map(|g| g.id), status.previous.map(|g| g.id)), (Some(2), Some(1)));
    let manifest = store.manifest(2).unwrap();
    assert!(!manifest.units.is_empty());
    for unit in &manifest.units {
        assert!(dir.path().join("current/rendered").join(&unit.path).is_file(), "{unit:?}");
    }
    store.verify(2).unwrap();
    let plan = done2.events.iter().find(|e| e.step == "plan" && e.status == Succeeded).unwrap();
    let expected = provision::plan::diff(Some(&store.manifest(1).unwrap()), &manifest, &[]);
    assert_eq!(plan.message, expected.summary());
    assert!(!expected.start.is_empty() && !expected.host.is_empty(), "{expected:?}");

    // Records survive a restart.
    drop(runner);
    let reopened = JobRunner::open(dir.path(), ActivatorKind::None).unwrap();
    assert_eq!(reopened.job(&job.id).unwrap().events, done.events);
    assert_eq!(reopened.jobs().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_configs_and_bad_bundles_are_refused_before_a_job_exists() {
    let dir = tempfile::tempdir().unwrap();
    let runner = JobRunner::open(dir.path(), ActivatorKind::None).unwrap();
    match runner.submit_apply(submission(b"version = 2\n")) {
        Err(SubmitError::Invalid { diagnostics }) => assert!(!diagnostics.is_empty()),
        other => panic!("{other:?}"),
    }
    match runner.submit_apply(submission(&[0x1f, 0x8b, 0, 1, 2])) {
        Err(SubmitError::Bundle { too_large: false, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(runner.jobs().is_empty());
    assert!(!runner.store().status().provisioned);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_job_at_a_time_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let runner = JobRunner::open(dir.path(), ActivatorKind::None).unwrap();
    // Another process holding the state lock, labelled with its job id.
    let other = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.path().join("lock"))
        .unwrap();
    rustix::fs::flock(&other, rustix::fs::FlockOperation::LockExclusive).unwrap();
    std::fs::write(dir.path().join("lock"), "0123456789abcdef0123456789abcdef").unwrap();
    match runner.submit_apply(submission(MINIMAL)) {
        Err(SubmitError::Busy { running }) => assert_eq!(running.as_str(), "0123456789abcdef0123456789abcdef"),
        other => panic!("{other:?}"),
    }
    drop(other);
    let job = runner.submit_apply(submission(MINIMAL)).unwrap();
    // In-process guard: the same runner refuses a second job while the first runs.
    if let Err(SubmitError::Busy { running }) = runner.submit_apply(submission(MINIMAL)) {
        assert_eq!(running, job.id);
    }
    assert_eq!(wait(&runner, &job).await.state, JobState::Succeeded);
}

#[tokio::test(flavor = "multi_thread")]
async fn activate_rolls_to_a_kept_generation_and_unknown_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let runner = runner_with(dir.path(), Box::new(Scripted { fail_health: false }));
    for config in [MINIMAL, FULL] {
        let job = runner.submit_apply(submission(config)).unwrap();
        assert_eq!(wait(&runner, &job).await.state, JobState::Succeeded);
    }
    let job = runner.submit_activate(1).unwrap();
    let done = wait(&runner, &job).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:#?}");
    assert_eq!(done.kind, JobKind::Activate);
    let status = runner.store().status();
    assert_eq!((status.current.map(|g| g.id), status.previous.map(|g| g.id)), (Some(1), Some(2)));
    assert!(matches!(runner.submit_activate(99), Err(SubmitError::UnknownGeneration { id: 99 })));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_reapply_rolls_back_and_a_failed_first_apply_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let failing = runner_with(dir.path(), Box::new(Scripted { fail_health: true }));
    let job = failing.submit_apply(submission(MINIMAL)).unwrap();
    let done = wait(&failing, &job).await;
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.rollback, Rollback::Discarded);
    assert!(done.error.as_deref().unwrap().contains("web.service failed"));
    assert!(done.events.iter().any(|e| e.step == "health" && e.message.contains("journal: boom")));
    assert!(!failing.store().status().provisioned);
    assert!(failing.store().generations().is_empty());
    drop(failing);

    let ok = runner_with(dir.path(), Box::new(Scripted { fail_health: false }));
    let job = ok.submit_apply(submission(MINIMAL)).unwrap();
    let first = wait(&ok, &job).await;
    assert_eq!(first.state, JobState::Succeeded);
    assert_eq!(first.generation, Some(2), "a discarded generation's id is not reused");
    drop(ok);

    let failing = runner_with(dir.path(), Box::new(Scripted { fail_health: true }));
    let job = failing.submit_apply(submission(FULL)).unwrap();
    let done = wait(&failing, &job).await;
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.rollback, Rollback::Completed, "{done:#?}");
    let store = failing.store();
    assert_eq!(store.status().current.map(|g| g.id), Some(2));
    assert_eq!(store.current_config().unwrap(), MINIMAL);
    let kept: Vec<(u64, String)> = store.generations().into_iter().map(|g| (g.id, g.outcome)).collect();
    assert_eq!(kept, vec![(3, "rolled_back".to_owned()), (2, "committed".to_owned())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_left_running_by_a_stopped_service_is_failed_with_an_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let runner = JobRunner::with_parts(dir.path(), Box::new(NoActivator), Box::new(OneUnitPerContainer)).unwrap();
    let job = runner.submit_apply(submission(MINIMAL)).unwrap();
    wait(&runner, &job).await;
    drop(runner);
    let path = dir.path().join(format!("jobs/{}.json", job.id));
    let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    record["state"] = "running".into();
    record["step"] = "activate".into();
    record["finished_at"] = serde_json::Value::Null;
    std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();

    let reopened = JobRunner::open(dir.path(), ActivatorKind::None).unwrap();
    let job = reopened.job(&job.id).unwrap();
    assert_eq!(job.state, JobState::Failed);
    let error = job.error.unwrap();
    assert!(error.contains("interrupted") && error.contains("step activate"), "{error}");
    assert_eq!(job.events.last().unwrap().step, "done");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_newest_five_generations_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let runner = runner_with(dir.path(), Box::new(NoActivator));
    for _ in 0..8 {
        let job = runner.submit_apply(submission(MINIMAL)).unwrap();
        assert_eq!(wait(&runner, &job).await.state, JobState::Succeeded);
    }
    let ids: Vec<u64> = runner.store().generations().into_iter().map(|g| g.id).collect();
    assert_eq!(ids, vec![8, 7, 6, 5, 4]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_payload_lands_in_files_of_the_generation() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("config.toml"), MINIMAL).unwrap();
    std::fs::create_dir_all(src.path().join("files/site")).unwrap();
    std::fs::write(src.path().join("files/site/index.html"), "<h1>hi</h1>").unwrap();
    let bundle = src.path().join("bundle.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&bundle)
        .arg("-C")
        .arg(src.path())
        .args(["config.toml", "files"])
        .status()
        .unwrap();
    assert!(status.success());

    let dir = tempfile::tempdir().unwrap();
    let runner = JobRunner::open(dir.path(), ActivatorKind::None).unwrap();
    let job = runner.submit_apply(submission(&std::fs::read(&bundle).unwrap())).unwrap();
    let done = wait(&runner, &job).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:#?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("current/files/site/index.html")).unwrap(), "<h1>hi</h1>");
    assert_eq!(runner.store().current_config().unwrap(), MINIMAL);
    runner.store().verify(1).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_can_reach_files_but_secrets_and_records_stay_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("cairn");
    let runner = JobRunner::open(&state, ActivatorKind::None).unwrap();
    let job = runner.submit_apply(submission(MINIMAL)).unwrap();
    assert_eq!(wait(&runner, &job).await.state, JobState::Succeeded);
    let mode = |p: &str| std::fs::metadata(state.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(""), 0o711);
    assert_eq!(mode("generations"), 0o711);
    assert_eq!(mode("generations/1"), 0o755);
    assert_eq!(mode("generations/1/files"), 0o755);
    assert_eq!(mode("generations/1/rendered"), 0o755);
    assert_eq!(mode("generations/1/config.toml"), 0o600);
    assert_eq!(mode("generations/1/generation.json"), 0o600);
    assert_eq!(mode("jobs"), 0o700);
    assert_eq!(mode("outcomes"), 0o700);
}

//! The local state-directory commands as an operator runs them: generations, plan,
//! rollback, recover, boot (dev activator), and refusal while another job holds the lock.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{FULL, MINIMAL, submission, wait};
use provision::jobs::{ActivatorKind, JobRunner, JobState};

fn provision(args: &[&str], state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provision")).args(args).arg("--state-dir").arg(state).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn seed(dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let runner = JobRunner::open(dir, ActivatorKind::None).unwrap();
        for config in [MINIMAL, FULL] {
            let job = runner.submit_apply(submission(config)).unwrap();
            assert_eq!(wait(&runner, &job).await.state, JobState::Succeeded);
        }
    });
}

#[test]
fn generations_plan_rollback_recover_and_boot() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let full = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/tests/fixtures/valid/full.toml");

    let listed = json(&provision(&["generations", "--format", "json", "--verify"], dir.path()));
    assert_eq!(listed["status"]["current"]["id"], 2);
    assert_eq!(listed["status"]["previous"]["id"], 1);
    assert_eq!(listed["generations"].as_array().unwrap().len(), 2);

    let plan = json(&provision(&["plan", full, "--format", "json"], dir.path()));
    assert_eq!(plan["current_generation"], 2);
    assert!(plan["plan"]["stop"].as_array().unwrap().is_empty());
    assert!(plan["plan"]["start"].as_array().unwrap().is_empty());
    assert!(plan["plan"]["host"].as_array().unwrap().is_empty());
    assert!(!plan["plan"]["unchanged"].as_array().unwrap().is_empty());
    let human = provision(&["plan", full], dir.path());
    assert!(String::from_utf8_lossy(&human.stdout).starts_with("plan from generation 2"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let service = rt.block_on(async { JobRunner::open(dir.path(), ActivatorKind::None).unwrap() });
    let rolled = provision(&["rollback", "--activator", "none", "1"], dir.path());
    assert!(rolled.status.success(), "{}", String::from_utf8_lossy(&rolled.stderr));
    // A service that was already running sees the CLI's job through its record.
    let newest = std::fs::read_dir(dir.path().join("jobs"))
        .unwrap()
        .flatten()
        .max_by_key(|e| e.metadata().unwrap().modified().unwrap())
        .unwrap();
    let cli_job: provision::jobs::JobId = newest.path().file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let seen = service.job(&cli_job).expect("the CLI's job is visible to the service");
    assert_eq!(
        (seen.kind, seen.state, seen.generation),
        (provision::jobs::JobKind::Activate, JobState::Succeeded, Some(1))
    );
    assert_eq!(service.subscribe(&cli_job).unwrap().0.last().unwrap().step, "done");
    assert!(String::from_utf8_lossy(&rolled.stderr).contains("done      succeeded"));
    let listed = json(&provision(&["generations", "--format", "json"], dir.path()));
    assert_eq!(
        (listed["status"]["current"]["id"].clone(), listed["status"]["previous"]["id"].clone()),
        (1.into(), 2.into())
    );

    let unknown = provision(&["rollback", "--activator", "none", "99"], dir.path());
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("generation 99 is not kept"));

    let recovered = provision(&["recover"], dir.path());
    assert_eq!(String::from_utf8_lossy(&recovered.stdout).trim(), "nothing to recover; current: generation 1");

    let boot = provision(&["boot", "--activator", "none"], dir.path());
    assert!(boot.status.success());
    assert!(String::from_utf8_lossy(&boot.stdout).starts_with("generation 1: stop 0, restart 0, start "));

    // Another process holds the state lock: rollback is refused, not queued.
    let lock = std::fs::OpenOptions::new().read(true).write(true).open(dir.path().join("lock")).unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let busy = provision(&["rollback", "--activator", "none", "2"], dir.path());
    assert_eq!(busy.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("is running"), "{}", String::from_utf8_lossy(&busy.stderr));
}

//! Crash safety: for every failpoint of the store, an apply (or re-activation, or
//! rollback) runs in a child process that aborts exactly there; then the real
//! `provision recover` runs, and the store must hold exactly the old or exactly the new
//! generation, complete, with nothing half-done left behind.
//!
//! The child is this test binary re-executed with `CAIRN_CRASH_CHILD` set (test
//! `crash_child`). Failpoints are compiled in for `cargo test` through the `fail`
//! dev-dependency's `failpoints` feature; if they were not, no child would crash and
//! every case fails loudly ("did not crash"), so this test can never pass vacuously.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use common::{FULL, MINIMAL, runner, submission, wait};
use provision::jobs::JobState;
use provision::store::{Store, failpoints as fp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    /// Empty store; healthy first apply. Old: none, new: 1.
    First,
    /// Generation 1 committed; healthy apply of a new config. Old: 1, new: 2.
    Second,
    /// Empty store; the first apply fails health and is discarded. Must end unprovisioned.
    FirstFailing,
    /// Generation 1 committed; the apply fails health and is rolled back. Must end at 1.
    SecondFailing,
    /// Generations 1..=5 committed; the 6th apply collects generation 1. Old: 5, new: 6.
    Collect,
    /// Generations 1, 2 committed; re-activate 1. Old: 2, new: 1.
    Activate,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::First,
        Scenario::Second,
        Scenario::FirstFailing,
        Scenario::SecondFailing,
        Scenario::Collect,
        Scenario::Activate,
    ];

    fn name(self) -> String {
        format!("{self:?}")
    }

    fn parse(s: &str) -> Self {
        Self::ALL.into_iter().find(|x| x.name() == s).unwrap()
    }

    /// Failpoints this scenario passes through (each must crash the child).
    fn failpoints(self) -> Vec<&'static str> {
        let stage = [
            fp::STAGE_AFTER_CONFIG,
            fp::STAGE_AFTER_FILES,
            fp::STAGE_AFTER_RENDERED,
            fp::STAGE_AFTER_META,
            fp::STAGE_AFTER_RENAME,
        ];
        let promote = [fp::PROMOTE_AFTER_JOURNAL, fp::PROMOTE_AFTER_PREVIOUS, fp::PROMOTE_AFTER_CURRENT];
        let commit = [fp::COMMIT_AFTER_JOURNAL, fp::COMMIT_AFTER_OUTCOME, fp::COMMIT_AFTER_REMOVE];
        let undo = [fp::UNDO_AFTER_CURRENT, fp::UNDO_AFTER_PREVIOUS, fp::UNDO_AFTER_OUTCOME, fp::UNDO_AFTER_DISCARD];
        let mut out: Vec<&str> = Vec::new();
        match self {
            Scenario::First | Scenario::Second => [&stage[..], &promote, &commit].concat_into(&mut out),
            Scenario::FirstFailing => {
                [&stage[..], &promote, &undo[..3], &[fp::COLLECT_AFTER_RENAME], &undo[3..]].concat_into(&mut out)
            }
            Scenario::SecondFailing => [&stage[..], &promote, &undo].concat_into(&mut out),
            Scenario::Collect => [&stage[..], &promote, &commit, &[fp::COLLECT_AFTER_RENAME, fp::COLLECT_AFTER_REMOVE]]
                .concat_into(&mut out),
            Scenario::Activate => [&promote[..], &commit].concat_into(&mut out),
        }
        out
    }

    /// (config bytes of each committed generation before the child runs)
    fn seed(self) -> Vec<&'static [u8]> {
        match self {
            Scenario::First | Scenario::FirstFailing => vec![],
            Scenario::Second | Scenario::SecondFailing => vec![MINIMAL],
            Scenario::Collect => vec![MINIMAL, FULL, MINIMAL, FULL, MINIMAL],
            Scenario::Activate => vec![MINIMAL, FULL],
        }
    }

    /// (generation before, generation after success, config of "after", may end at "after")
    fn expect(self) -> (Option<u64>, Option<u64>, &'static [u8], bool) {
        match self {
            Scenario::First => (None, Some(1), MINIMAL, true),
            Scenario::Second => (Some(1), Some(2), FULL, true),
            Scenario::FirstFailing => (None, Some(1), FULL, false),
            Scenario::SecondFailing => (Some(1), Some(2), FULL, false),
            Scenario::Collect => (Some(5), Some(6), FULL, true),
            Scenario::Activate => (Some(2), Some(1), MINIMAL, true),
        }
    }
}

trait ConcatInto {
    fn concat_into(self, out: &mut Vec<&'static str>);
}

impl<const N: usize> ConcatInto for [&[&'static str]; N] {
    fn concat_into(self, out: &mut Vec<&'static str>) {
        for part in self {
            out.extend_from_slice(part);
        }
    }
}

/// Runs in the child only: the action of `scenario` with `failpoint` set to abort.
#[test]
fn crash_child() {
    let Ok(scenario) = std::env::var("CAIRN_CRASH_CHILD") else { return };
    let scenario = Scenario::parse(&scenario);
    let state = std::env::var("CAIRN_CRASH_STATE").unwrap();
    let failpoint = std::env::var("CAIRN_CRASH_AT").unwrap();
    // Abort, not unwind: no destructor or cleanup may run after the crash point.
    std::panic::set_hook(Box::new(|_| std::process::abort()));
    fail::cfg(&failpoint, "panic").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let failing = matches!(scenario, Scenario::FirstFailing | Scenario::SecondFailing);
        let runner = runner(Path::new(&state), failing);
        let job = match scenario {
            Scenario::Activate => runner.submit_activate(1).unwrap(),
            Scenario::First | Scenario::SecondFailing => {
                runner.submit_apply(submission(if scenario == Scenario::First { MINIMAL } else { FULL })).unwrap()
            }
            _ => runner.submit_apply(submission(FULL)).unwrap(),
        };
        let done = wait(&runner, &job).await;
        eprintln!("child finished without crashing: {:?}", done.state);
    });
    // Reaching here means the failpoint was never hit.
    std::process::exit(3);
}

#[test]
fn recovery_leaves_exactly_the_old_or_the_new_generation_after_a_crash_at_every_failpoint() {
    if std::env::var_os("CAIRN_CRASH_CHILD").is_some() {
        return;
    }
    let covered: std::collections::BTreeSet<&str> = Scenario::ALL.iter().flat_map(|s| s.failpoints()).collect();
    let cases: usize = Scenario::ALL.iter().map(|s| s.failpoints().len()).sum();
    // One thread per scenario: the cases are fsync-bound, not CPU-bound.
    std::thread::scope(|scope| {
        for scenario in Scenario::ALL {
            scope.spawn(move || {
                for failpoint in scenario.failpoints() {
                    check(scenario, failpoint);
                }
            });
        }
    });
    let missing: Vec<_> = fp::ALL.iter().filter(|f| !covered.contains(*f)).collect();
    assert!(missing.is_empty(), "failpoints no scenario crashes at: {missing:?}");
    eprintln!("{cases} crash cases passed");
}

fn check(scenario: Scenario, failpoint: &str) {
    let case = format!("{scenario:?} crashing at {failpoint}");
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), scenario);
    let before = std::fs::read_link(dir.path().join("previous")).ok();

    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("CAIRN_CRASH_CHILD", scenario.name())
        .env("CAIRN_CRASH_STATE", dir.path())
        .env("CAIRN_CRASH_AT", failpoint)
        .output()
        .unwrap();
    assert_eq!(
        child.status.signal(),
        Some(6),
        "{case}: the child did not crash (status {:?}); stderr:\n{}",
        child.status,
        String::from_utf8_lossy(&child.stderr)
    );

    let recover = Command::new(env!("CARGO_BIN_EXE_provision"))
        .args(["recover", "--state-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(recover.status.success(), "{case}: provision recover failed: {}", String::from_utf8_lossy(&recover.stderr));

    let store = Store::open(dir.path()).unwrap();
    let (old, new, new_config, may_end_new) = scenario.expect();
    let current = store.current_id();
    assert!(
        current == old || (may_end_new && current == new),
        "{case}: current is {current:?}, expected {old:?}{}",
        if may_end_new { format!(" or {new:?}") } else { String::new() }
    );
    assert!(!dir.path().join("journal").exists(), "{case}: journal left behind");
    for entry in std::fs::read_dir(dir.path().join("generations")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name.parse::<u64>().is_ok(), "{case}: leftover {name} in generations/");
    }
    let status = store.status();
    assert_eq!(status.provisioned, current.is_some(), "{case}");
    match current {
        None => assert!(store.previous_id().is_none(), "{case}: previous without current"),
        Some(c) => {
            store.verify(c).unwrap_or_else(|e| panic!("{case}: current generation incomplete: {e}"));
            assert_eq!(status.current.as_ref().unwrap().outcome, "committed", "{case}");
            if current == new && current != old {
                assert_eq!(store.current_config().unwrap(), new_config, "{case}");
                if let Some(o) = old {
                    assert_eq!(store.previous_id(), Some(o), "{case}: previous should be the old generation");
                }
            } else {
                assert_eq!(std::fs::read_link(dir.path().join("previous")).ok(), before, "{case}: previous moved");
            }
        }
    }
    if let Some(p) = store.previous_id() {
        store.verify(p).unwrap_or_else(|e| panic!("{case}: previous generation incomplete: {e}"));
    }
    // Recovery is idempotent and the store is usable afterwards.
    assert_eq!(store.recover().unwrap(), provision::store::Recovery::Clean, "{case}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let runner = runner(dir.path(), false);
        let job = runner.submit_apply(submission(MINIMAL)).unwrap();
        let done = wait(&runner, &job).await;
        assert_eq!(done.state, JobState::Succeeded, "{case}: apply after recovery: {done:#?}");
        runner.store().verify(runner.store().current_id().unwrap()).unwrap();
    });
}

fn seed(dir: &Path, scenario: Scenario) {
    let configs = scenario.seed();
    if configs.is_empty() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let runner = runner(dir, false);
        for config in configs {
            let job = runner.submit_apply(submission(config)).unwrap();
            assert_eq!(wait(&runner, &job).await.state, JobState::Succeeded);
        }
    });
}

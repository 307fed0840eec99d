//! The D-Bus layer against the fake systemd: JobRemoved matching, the executor's order,
//! and that every call ends by the activation deadline when the manager stops answering.

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use super::Managers;
use super::execute::{check_health, execute};
use super::fake::{FakeHost, FakeSystemd};
use super::journal::Journal;
use super::manager::{CALL_GRACE, Manager, Verb};
use crate::activate::expose::RuntimeDirs;
use crate::activate::host::HostSettings;
use crate::activate::{BoxFuture, Failure, Request};
use crate::plan::{HostSetting, Manifest, Plan, UnitEntry, UnitMode, UnitRef};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// A journal reader that prints nothing.
fn quiet_journal() -> Journal {
    Journal::new("true", Duration::from_secs(5))
}

/// Fails the test instead of hanging it when a bound does not hold.
async fn within<T>(limit: Duration, what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(limit, f).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not end within {limit:?}: the call is not bounded"),
    }
}

#[tokio::test]
async fn jobs_wait_for_their_own_job_removed_result() {
    let systemd = FakeSystemd::default();
    systemd.load("web.service", "inactive").load("bad.service", "inactive").fail_jobs_of("bad.service");
    let manager = systemd.manager("system").await.unwrap();
    manager.run(Verb::Start, "web.service", deadline()).await.unwrap();
    let err = manager.run(Verb::Restart, "bad.service", deadline()).await.unwrap_err();
    assert_eq!(err, "restart bad.service: job failed");
    manager.reload(deadline()).await.unwrap();
    assert_eq!(
        systemd.take_log(),
        ["system Subscribe", "system start web.service", "system restart bad.service", "system Reload"]
    );
    assert_eq!(manager.active_state("web.service", deadline()).await.unwrap(), "active");
    assert_eq!(manager.active_state("bad.service", deadline()).await.unwrap(), "failed");
    assert_eq!(manager.active_state("gone.service", deadline()).await.unwrap(), "inactive");
}

#[tokio::test]
async fn stopping_a_unit_systemd_has_not_loaded_succeeds_but_starting_it_fails() {
    // A unit whose file Quadlet rejected is not loaded: there is nothing to stop.
    let systemd = FakeSystemd::default();
    let manager = systemd.manager("system").await.unwrap();
    manager.run(Verb::Stop, "broken.service", deadline()).await.unwrap();
    let err = manager.run(Verb::Start, "broken.service", deadline()).await.unwrap_err();
    assert!(err.starts_with("start broken.service: ") && err.contains("not found"), "{err}");
}

#[tokio::test]
async fn every_call_ends_by_the_deadline_when_the_manager_stops_answering() {
    let calls = ["Reload", "StartUnit", "StopUnit", "RestartUnit", "GetUnit", "ActiveState"];
    let runs = calls.map(|method| async move {
        let systemd = FakeSystemd::default();
        systemd.load("web.service", "active");
        let manager = systemd.manager("system").await.unwrap();
        systemd.silence(method);
        let deadline = Instant::now() + Duration::from_millis(300);
        let started = Instant::now();
        let result = within(Duration::from_secs(10), method, async {
            match method {
                "Reload" => manager.reload(deadline).await.map(|()| String::new()),
                "StartUnit" => manager.run(Verb::Start, "web.service", deadline).await.map(|()| String::new()),
                "StopUnit" => manager.run(Verb::Stop, "web.service", deadline).await.map(|()| String::new()),
                "RestartUnit" => manager.run(Verb::Restart, "web.service", deadline).await.map(|()| String::new()),
                _ => manager.active_state("web.service", deadline).await,
            }
        })
        .await;
        let err = result.expect_err(method);
        assert!(err.ends_with("the system manager did not answer by the activation deadline"), "{method}: {err}");
        // Past the deadline a call still gets the grace, and no more.
        assert!(started.elapsed() < CALL_GRACE + Duration::from_secs(2), "{method}: {:?}", started.elapsed());
    });
    futures_util::future::join_all(runs).await;
}

#[tokio::test]
async fn subscribing_to_a_manager_that_never_answers_fails() {
    let systemd = FakeSystemd::default();
    systemd.silence("Subscribe");
    let connection = systemd.connect("system").await;
    let err = within(
        Duration::from_secs(10),
        "Subscribe",
        Manager::with_subscribe_timeout(connection, "system", Duration::from_millis(200)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "Subscribe: the system manager did not answer within 0.2 s");
}

#[tokio::test]
async fn a_journal_read_that_hangs_is_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("journalctl");
    std::fs::write(&program, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let journal = Journal::new(&program, Duration::from_millis(200));
    let lines =
        within(Duration::from_secs(10), "journal", journal.tail(&unit(UnitMode::Rootful, "web.service"), 20)).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].ends_with("did not answer within 0.2 s; no journal lines"), "{lines:?}");
}

fn unit(mode: UnitMode, service: &str) -> UnitRef {
    UnitRef { mode, service: service.into() }
}

/// minimal.toml requires `web`: a manifest with it as a rootful container.
fn manifest_with_web() -> Manifest {
    Manifest {
        units: vec![UnitEntry {
            kind: "container".into(),
            name: "web".into(),
            mode: UnitMode::Rootful,
            service: "web.service".into(),
            path: "quadlet/rootful/web.container".into(),
            sha256: "0".repeat(64),
            uses_payload: false,
        }],
        files: [("firewall/nftables.conf".to_owned(), "0".repeat(64))].into_iter().collect(),
        payload: Default::default(),
    }
}

fn minimal_config() -> cairn_config::Config {
    cairn_config::validate(include_bytes!("../../../../config/tests/fixtures/valid/minimal.toml")).config.unwrap()
}

/// A state dir whose `current` has an empty rendered tree, and runtime dirs beside it.
struct Scene {
    state: tempfile::TempDir,
    run: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        let state = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(state.path().join("generations/1/rendered")).unwrap();
        std::os::unix::fs::symlink("generations/1", state.path().join("current")).unwrap();
        Self { state, run: tempfile::tempdir().unwrap() }
    }
    fn dirs(&self) -> RuntimeDirs {
        RuntimeDirs {
            rootful_quadlet: self.run.path().join("containers/systemd"),
            rootless_quadlet: Some(self.run.path().join("user/containers/systemd")),
            system_units: self.run.path().join("systemd/system"),
        }
    }
    fn request(&self, plan: Plan) -> Request {
        Request {
            state_dir: self.state.path().to_owned(),
            generation: 1,
            config: minimal_config(),
            manifest: manifest_with_web(),
            plan,
            started: std::time::Instant::now(),
        }
    }
}

#[tokio::test]
async fn the_executor_follows_the_plan_in_its_phases_and_never_touches_unchanged_units() {
    let systemd = FakeSystemd::default();
    for name in ["old.service", "edited.service", "new.service", "same.service"] {
        systemd.load(name, "active");
    }
    let managers = systemd.managers().await.unwrap();
    let scene = Scene::new();
    let rendered = scene.state.path().join("generations/1/rendered");
    std::fs::create_dir_all(rendered.join("quadlet/rootful")).unwrap();
    std::fs::write(rendered.join("quadlet/rootful/new.container"), "[Container]\n").unwrap();
    let request = scene.request(Plan {
        stop: vec![unit(UnitMode::Rootful, "old.service")],
        restart: vec![unit(UnitMode::Rootless, "edited.service")],
        start: vec![unit(UnitMode::Rootful, "new.service")],
        unchanged: vec![unit(UnitMode::Rootful, "same.service")],
        host: vec![HostSetting::Firewall],
    });
    systemd.take_log();
    let host = FakeHost(systemd.clone());
    let summary = execute(&managers, &host, &quiet_journal(), &scene.dirs(), None, &request, &|_| {}).await.unwrap();
    let log = systemd.take_log();
    // Stop, reload, forget the stopped unit's failure, host settings — in this order;
    // then restarts and starts, queued together (their order is the managers' to pick).
    assert_eq!(
        log[..5],
        [
            "system stop old.service",
            "system Reload",
            "appsvc Reload",
            "system reset-failed old.service",
            "host firewall"
        ]
    );
    let mut jobs = log[5..].to_vec();
    jobs.sort();
    assert_eq!(jobs, ["appsvc restart edited.service", "system start new.service"]);
    assert!(summary.starts_with("stopped 1, restarted 1, started 1, left 1 untouched"), "{summary}");
    assert!(scene.dirs().rootful_quadlet.join("new.container").is_file(), "unit files are exposed before the reload");
}

/// Runs `plan` on a fake where every unit is loaded and `failing` units' jobs fail.
async fn run_plan(failing: &[&str], plan: Plan) -> (Result<String, Failure>, Vec<String>) {
    let systemd = FakeSystemd::default();
    for unit in plan.start.iter().chain(&plan.restart).chain(&plan.stop) {
        systemd.load(&unit.service, "inactive");
    }
    for name in failing {
        systemd.fail_jobs_of(name);
    }
    let managers = Managers { system: systemd.manager("system").await.unwrap(), user: None };
    let scene = Scene::new();
    systemd.take_log();
    let host = FakeHost(systemd.clone());
    let result = execute(&managers, &host, &quiet_journal(), &scene.dirs(), None, &scene.request(plan), &|_| {}).await;
    (result, systemd.take_log())
}

#[tokio::test]
async fn a_required_unit_that_fails_to_start_fails_the_activation() {
    let plan = Plan {
        start: vec![unit(UnitMode::Rootful, "web.service"), unit(UnitMode::Rootful, "other.service")],
        ..Plan::default()
    };
    let (result, mut log) = run_plan(&["web.service"], plan).await;
    let failure = result.unwrap_err();
    assert_eq!(failure.message, "start web.service: job failed");
    // Both were queued at once; the rollback stops whatever did start.
    log.sort();
    assert_eq!(log, ["system Reload", "system start other.service", "system start web.service"]);
}

#[tokio::test]
async fn a_unit_allowed_to_fail_does_not_stop_the_others() {
    // minimal.toml has no allow_degraded: units other than the required ones may fail.
    let plan = Plan {
        start: vec![unit(UnitMode::Rootful, "extra.service"), unit(UnitMode::Rootful, "web.service")],
        ..Plan::default()
    };
    let (result, log) = run_plan(&["extra.service"], plan).await;
    let summary = result.unwrap();
    assert!(summary.ends_with("; degraded: extra.service"), "{summary}");
    assert_eq!(log, ["system Reload", "system start extra.service", "system start web.service"]);
}

#[tokio::test]
async fn host_settings_without_input_in_the_generation_are_left_alone() {
    // After a discarded first apply nothing is current: users.json is gone, nothing to load.
    let plan = Plan { host: vec![HostSetting::Users, HostSetting::Firewall], ..Plan::default() };
    let (result, log) = run_plan(&[], plan).await;
    result.unwrap();
    assert_eq!(log, ["system Reload", "host firewall"]);
}

/// A host setting whose command never returns.
#[derive(Debug)]
struct HungHost;

impl HostSettings for HungHost {
    fn apply<'a>(&'a self, _: HostSetting, _: &'a Path) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_host_setting_that_hangs_fails_at_the_deadline() {
    let systemd = FakeSystemd::default();
    let managers = Managers { system: systemd.manager("system").await.unwrap(), user: None };
    let scene = Scene::new();
    let mut request = scene.request(Plan { host: vec![HostSetting::Firewall], ..Plan::default() });
    request.config.activation.timeout_seconds = 1;
    let failure = within(
        Duration::from_secs(10),
        "the host setting",
        execute(&managers, &HungHost, &quiet_journal(), &scene.dirs(), None, &request, &|_| {}),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.message, "firewall: not applied by the activation deadline");
}

#[tokio::test]
async fn health_fails_at_the_deadline_when_unit_states_stop_coming() {
    let systemd = FakeSystemd::default();
    systemd.load("web.service", "activating");
    let managers = Managers { system: systemd.manager("system").await.unwrap(), user: None };
    systemd.silence("GetUnit");
    let scene = Scene::new();
    let mut request = scene.request(Plan::default());
    request.config.activation.timeout_seconds = 1;
    let failure =
        within(Duration::from_secs(10), "health", check_health(&managers, &quiet_journal(), &request, &|_| {}))
            .await
            .unwrap_err();
    assert!(
        failure
            .message
            .ends_with("web.service ActiveState: the system manager did not answer by the activation deadline"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn managers_fall_back_to_their_private_socket_when_the_bus_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private");
    let listener = tokio::net::UnixListener::bind(&private).unwrap();
    let systemd = FakeSystemd::default();
    systemd.load("web.service", "inactive");
    let server = systemd.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        server.serve(stream, "system").await;
    });
    let nowhere = super::Bus::Address(format!("unix:path={}", dir.path().join("no-bus").display()));
    let manager = super::manager(private.to_str().unwrap(), nowhere, "system").await.unwrap();
    manager.run(Verb::Start, "web.service", deadline()).await.unwrap();
    assert_eq!(systemd.take_log(), ["system Subscribe", "system start web.service"]);

    let missing = super::Bus::Address(format!("unix:path={}", dir.path().join("no-bus").display()));
    let failure = super::manager(dir.path().join("no-private").to_str().unwrap(), missing, "appsvc").await.unwrap_err();
    assert!(failure.message.starts_with("connecting to systemd (appsvc): "), "{}", failure.message);
    assert!(failure.message.contains("bus: ") && failure.message.contains("no-private"), "{}", failure.message);
}

//! A fake `org.freedesktop.systemd1` served over a peer-to-peer D-Bus connection, so the
//! real proxies, JobRemoved matching and the plan executor are tested without systemd.
//! It emits each job's JobRemoved *before* replying to the call that queued it — the
//! harshest order a real manager can produce.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zbus::connection::Builder;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath};
use zbus::{Connection, interface};

use super::manager::{Manager, Verb};
use super::{Managers, execute};
use crate::activate::expose::RuntimeDirs;
use crate::activate::host::HostSettings;
use crate::activate::{BoxFuture, Request};
use crate::plan::{HostSetting, Manifest, Plan, UnitEntry, UnitMode, UnitRef};

/// Every call the fakes receive, in order, across managers and the host.
#[derive(Clone, Debug, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: String) {
        self.0.lock().unwrap().push(entry);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.freedesktop.systemd1")]
enum SystemdError {
    #[zbus(error)]
    ZBus(zbus::Error),
    NoSuchUnit(String),
}

struct FakeManager {
    label: &'static str,
    log: Log,
    next_job: u32,
    /// Units whose jobs end `failed`.
    failing: Vec<&'static str>,
    /// Units that are loaded (GetUnit succeeds).
    loaded: Vec<&'static str>,
}

impl FakeManager {
    async fn job(
        &mut self,
        verb: &str,
        name: String,
        emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        self.log.push(format!("{} {verb} {name}", self.label));
        self.next_job += 1;
        let path = OwnedObjectPath::try_from(format!("/org/freedesktop/systemd1/job/{}", self.next_job)).unwrap();
        let result = if self.failing.contains(&name.as_str()) { "failed" } else { "done" };
        Self::job_removed(&emitter, self.next_job, path.as_ref(), &name, result).await?;
        Ok(path)
    }
}

#[interface(name = "org.freedesktop.systemd1.Manager")]
impl FakeManager {
    fn subscribe(&self) {
        self.log.push(format!("{} Subscribe", self.label));
    }
    fn reload(&self) {
        self.log.push(format!("{} Reload", self.label));
    }
    async fn start_unit(
        &mut self,
        name: String,
        _mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        self.job("start", name, emitter).await
    }
    async fn stop_unit(
        &mut self,
        name: String,
        _mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        self.job("stop", name, emitter).await
    }
    async fn restart_unit(
        &mut self,
        name: String,
        _mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<OwnedObjectPath> {
        self.job("restart", name, emitter).await
    }
    fn get_unit(&self, name: String) -> Result<OwnedObjectPath, SystemdError> {
        if self.loaded.contains(&name.as_str()) {
            Ok(OwnedObjectPath::try_from(unit_path(&name)).unwrap())
        } else {
            Err(SystemdError::NoSuchUnit(format!("Unit {name} not loaded.")))
        }
    }
    #[zbus(signal)]
    async fn job_removed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        job: ObjectPath<'_>,
        unit: &str,
        result: &str,
    ) -> zbus::Result<()>;
}

struct FakeUnit {
    state: &'static str,
}

#[interface(name = "org.freedesktop.systemd1.Unit")]
impl FakeUnit {
    #[zbus(property)]
    fn active_state(&self) -> String {
        self.state.to_owned()
    }
}

fn unit_path(name: &str) -> String {
    format!("/org/freedesktop/systemd1/unit/{}", name.replace(['.', '-'], "_"))
}

/// A client connection to a fresh fake manager.
async fn fake(
    label: &'static str,
    log: &Log,
    failing: Vec<&'static str>,
    units: &[(&'static str, &'static str)],
) -> Connection {
    let (server, client) = tokio::net::UnixStream::pair().unwrap();
    let manager =
        FakeManager { label, log: log.clone(), next_job: 0, failing, loaded: units.iter().map(|u| u.0).collect() };
    let mut builder = Builder::unix_stream(server)
        .server(zbus::Guid::generate())
        .unwrap()
        .p2p()
        .serve_at("/org/freedesktop/systemd1", manager)
        .unwrap();
    for (name, state) in units {
        builder = builder.serve_at(unit_path(name), FakeUnit { state }).unwrap();
    }
    let (server, client) = tokio::try_join!(builder.build(), Builder::unix_stream(client).p2p().build()).unwrap();
    // Keep the server side alive for the test's duration.
    std::mem::forget(server);
    client
}

fn deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(10)
}

#[tokio::test]
async fn jobs_wait_for_their_own_job_removed_result() {
    let log = Log::default();
    let connection = fake("system", &log, vec!["bad.service"], &[("web.service", "active")]).await;
    let manager = Manager::new(connection, "system").await.unwrap();
    manager.run(Verb::Start, "web.service", deadline()).await.unwrap();
    let err = manager.run(Verb::Restart, "bad.service", deadline()).await.unwrap_err();
    assert_eq!(err, "restart bad.service: job failed");
    manager.reload().await.unwrap();
    assert_eq!(
        log.take(),
        ["system Subscribe", "system start web.service", "system restart bad.service", "system Reload"]
    );
    assert_eq!(manager.active_state("web.service").await.unwrap(), "active");
    assert_eq!(manager.active_state("gone.service").await.unwrap(), "inactive");
}

#[derive(Debug)]
struct FakeHost(Log);

impl HostSettings for FakeHost {
    fn apply<'a>(&'a self, setting: HostSetting, _: &'a Path) -> BoxFuture<'a, Result<String, String>> {
        self.0.push(format!("host {setting}"));
        Box::pin(async { Ok("applied".to_owned()) })
    }
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

#[tokio::test]
async fn the_executor_follows_the_plan_in_order_and_never_touches_unchanged_units() {
    let log = Log::default();
    let managers = Managers {
        system: Manager::new(fake("system", &log, vec![], &[]).await, "system").await.unwrap(),
        user: Some(Manager::new(fake("appsvc", &log, vec![], &[]).await, "appsvc").await.unwrap()),
    };
    let state = tempfile::tempdir().unwrap();
    let run = tempfile::tempdir().unwrap();
    let rendered = state.path().join("generations/1/rendered");
    std::fs::create_dir_all(rendered.join("quadlet/rootful")).unwrap();
    std::fs::write(rendered.join("quadlet/rootful/new.container"), "[Container]\n").unwrap();
    std::os::unix::fs::symlink("generations/1", state.path().join("current")).unwrap();
    let dirs = RuntimeDirs {
        rootful_quadlet: run.path().join("containers/systemd"),
        rootless_quadlet: Some(run.path().join("user/containers/systemd")),
        system_units: run.path().join("systemd/system"),
    };
    let config =
        cairn_config::validate(include_bytes!("../../../../config/tests/fixtures/valid/minimal.toml")).config.unwrap();
    let request = Request {
        state_dir: state.path().to_owned(),
        generation: 1,
        config,
        manifest: manifest_with_web(),
        plan: Plan {
            stop: vec![unit(UnitMode::Rootful, "old.service")],
            restart: vec![unit(UnitMode::Rootless, "edited.service")],
            start: vec![unit(UnitMode::Rootful, "new.service")],
            unchanged: vec![unit(UnitMode::Rootful, "same.service")],
            host: vec![HostSetting::Firewall],
        },
        started: std::time::Instant::now(),
    };
    log.take();
    let summary = execute(&managers, &FakeHost(log.clone()), &dirs, None, &request, &|_| {}).await.unwrap();
    assert_eq!(
        log.take(),
        [
            "system stop old.service",
            "system Reload",
            "appsvc Reload",
            "host firewall",
            "appsvc restart edited.service",
            "system start new.service",
        ]
    );
    assert!(summary.starts_with("stopped 1, restarted 1, started 1, left 1 untouched"), "{summary}");
    assert!(dirs.rootful_quadlet.join("new.container").is_file(), "unit files are exposed before the reload");
}

/// Runs `plan` on a system-only fake where `failing` units' jobs fail.
async fn run_plan(failing: Vec<&'static str>, plan: Plan) -> (Result<String, crate::activate::Failure>, Vec<String>) {
    let log = Log::default();
    let managers = Managers {
        system: Manager::new(fake("system", &log, failing, &[]).await, "system").await.unwrap(),
        user: None,
    };
    let state = tempfile::tempdir().unwrap();
    let run = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(state.path().join("generations/1/rendered")).unwrap();
    std::os::unix::fs::symlink("generations/1", state.path().join("current")).unwrap();
    let dirs = RuntimeDirs {
        rootful_quadlet: run.path().join("q"),
        rootless_quadlet: None,
        system_units: run.path().join("s"),
    };
    let request = Request {
        state_dir: state.path().to_owned(),
        generation: 1,
        config: minimal_config(),
        manifest: manifest_with_web(),
        plan,
        started: std::time::Instant::now(),
    };
    log.take();
    let result = execute(&managers, &FakeHost(log.clone()), &dirs, None, &request, &|_| {}).await;
    (result, log.take())
}

#[tokio::test]
async fn a_required_unit_that_fails_to_start_stops_the_plan() {
    let plan = Plan {
        start: vec![unit(UnitMode::Rootful, "web.service"), unit(UnitMode::Rootful, "later.service")],
        ..Plan::default()
    };
    let (result, log) = run_plan(vec!["web.service"], plan).await;
    let failure = result.unwrap_err();
    assert_eq!(failure.message, "start web.service: job failed");
    assert!(!failure.details.is_empty(), "journal lines (or why there are none) are attached");
    assert_eq!(log, ["system Reload", "system start web.service"]);
}

#[tokio::test]
async fn a_unit_allowed_to_fail_does_not_stop_the_others() {
    // minimal.toml has no allow_degraded: units other than the required ones may fail.
    let plan = Plan {
        start: vec![unit(UnitMode::Rootful, "extra.service"), unit(UnitMode::Rootful, "web.service")],
        ..Plan::default()
    };
    let (result, log) = run_plan(vec!["extra.service"], plan).await;
    let summary = result.unwrap();
    assert!(summary.ends_with("; degraded: extra.service"), "{summary}");
    assert_eq!(log, ["system Reload", "system start extra.service", "system start web.service"]);
}

#[tokio::test]
async fn host_settings_without_input_in_the_generation_are_left_alone() {
    // After a discarded first apply nothing is current: users.json is gone, nothing to load.
    let plan = Plan { host: vec![HostSetting::Users, HostSetting::Firewall], ..Plan::default() };
    let (result, log) = run_plan(vec![], plan).await;
    result.unwrap();
    assert_eq!(log, ["system Reload", "host firewall"]);
}

#[tokio::test]
async fn managers_fall_back_to_their_private_socket_when_the_bus_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private");
    let listener = tokio::net::UnixListener::bind(&private).unwrap();
    let log = Log::default();
    let server_log = log.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let manager = FakeManager { label: "system", log: server_log, next_job: 0, failing: vec![], loaded: vec![] };
        let server = Builder::unix_stream(stream)
            .server(zbus::Guid::generate())
            .unwrap()
            .p2p()
            .serve_at("/org/freedesktop/systemd1", manager)
            .unwrap()
            .build()
            .await
            .unwrap();
        std::mem::forget(server);
    });
    let nowhere = super::Bus::Address(format!("unix:path={}", dir.path().join("no-bus").display()));
    let manager = super::manager(private.to_str().unwrap(), nowhere, "system").await.unwrap();
    manager.run(Verb::Start, "web.service", deadline()).await.unwrap();
    assert_eq!(log.take(), ["system Subscribe", "system start web.service"]);

    let missing = super::Bus::Address(format!("unix:path={}", dir.path().join("no-bus").display()));
    let failure = super::manager(dir.path().join("no-private").to_str().unwrap(), missing, "appsvc").await.unwrap_err();
    assert!(failure.message.starts_with("connecting to systemd (appsvc): "), "{}", failure.message);
    assert!(failure.message.contains("bus: ") && failure.message.contains("no-private"), "{}", failure.message);
}

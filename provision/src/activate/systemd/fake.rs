//! A fake `org.freedesktop.systemd1` — a declared test double — served over peer-to-peer
//! D-Bus connections, so the real proxies, JobRemoved matching, the plan executor and the
//! whole job pipeline are tested without systemd. Its state (unit states, the call log)
//! is shared by every connection, as one systemd outlives the connections to it.
//!
//! It behaves like systemd where Cairn depends on it: each job's JobRemoved is emitted
//! *before* the reply to the call that queued it (the harshest order a real manager can
//! produce); a unit that is not loaded gets `NoSuchUnit` ("not found" for a start, "not
//! loaded" for a stop). And it can be told to stop answering chosen methods, or all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use zbus::connection::Builder;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath};
use zbus::{Connection, interface};

use super::Managers;
use super::execute::{check_health, execute};
use super::journal::Journal;
use super::manager::Manager;
use crate::activate::expose::RuntimeDirs;
use crate::activate::host::HostSettings;
use crate::activate::{Activate, BoxFuture, Failure, Progress, Request};
use crate::plan::HostSetting;

/// The shared state of one fake systemd (both its managers).
#[derive(Clone, Debug, Default)]
pub(super) struct FakeSystemd(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// Every call received, in order, as `<manager> <call>`, plus `host <setting>`.
    log: Vec<String>,
    next_job: u32,
    /// Unit name → ActiveState, for units that are loaded.
    units: BTreeMap<String, String>,
    /// Start/restart jobs of these units end `failed` (the unit is then `failed`).
    failing: BTreeSet<String>,
    /// Stop jobs of these units end `timeout` (the unit stays as it was).
    failing_stop: BTreeSet<String>,
    /// Methods that never answer (`*`: all of them, properties included).
    silent: BTreeSet<String>,
}

impl FakeSystemd {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Loads `unit` (its unit file exists) in `state`.
    pub(super) fn load(&self, unit: &str, state: &str) -> &Self {
        self.state().units.insert(unit.to_owned(), state.to_owned());
        self
    }
    pub(super) fn fail_jobs_of(&self, unit: &str) -> &Self {
        self.state().failing.insert(unit.to_owned());
        self
    }
    pub(super) fn fail_stop_of(&self, unit: &str) -> &Self {
        self.state().failing_stop.insert(unit.to_owned());
        self
    }
    /// `method` (`Reload`, `StartUnit`, …, `ActiveState`, or `*`) stops answering.
    pub(super) fn silence(&self, method: &str) -> &Self {
        self.state().silent.insert(method.to_owned());
        self
    }
    pub(super) fn speak_again(&self) {
        self.state().silent.clear();
    }
    pub(super) fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.state().log)
    }
    pub(super) fn active_state(&self, unit: &str) -> Option<String> {
        self.state().units.get(unit).cloned()
    }
    fn log(&self, entry: String) {
        self.state().log.push(entry);
    }

    /// Never returns when `method` has been silenced.
    async fn answer(&self, method: &str) {
        let silent = {
            let state = self.state();
            state.silent.contains(method) || state.silent.contains("*")
        };
        if silent {
            std::future::pending::<()>().await;
        }
    }

    /// A client connection to this systemd's manager `label`, serving every unit loaded now.
    pub(super) async fn connect(&self, label: &'static str) -> Connection {
        let (server, client) = tokio::net::UnixStream::pair().unwrap();
        let (_, client) = tokio::join!(self.serve(server, label), async {
            Builder::unix_stream(client).p2p().build().await.unwrap()
        });
        client
    }

    /// Serves manager `label` on `stream` (the server side of a p2p connection) for the
    /// rest of the test.
    pub(super) async fn serve(&self, stream: tokio::net::UnixStream, label: &'static str) {
        let manager = FakeManager { label, systemd: self.clone() };
        let mut builder = Builder::unix_stream(stream)
            .server(zbus::Guid::generate())
            .unwrap()
            .p2p()
            .serve_at("/org/freedesktop/systemd1", manager)
            .unwrap();
        let names: Vec<String> = self.state().units.keys().cloned().collect();
        for name in names {
            builder =
                builder.serve_at(unit_path(&name), FakeUnit { name: name.clone(), systemd: self.clone() }).unwrap();
        }
        // Keep the server side alive for the test's duration.
        std::mem::forget(builder.build().await.unwrap());
    }

    /// A connected [`Manager`]; Subscribe is bounded by one second.
    pub(super) async fn manager(&self, label: &'static str) -> Result<Manager, Failure> {
        Manager::with_subscribe_timeout(self.connect(label).await, label, Duration::from_secs(1))
            .await
            .map_err(|e| Failure::new(format!("systemd ({label}): {e}")))
    }

    /// Both managers, as `SystemdActivator::connect` returns them on the device.
    pub(super) async fn managers(&self) -> Result<Managers, Failure> {
        Ok(Managers { system: self.manager("system").await?, user: Some(self.manager("appsvc").await?) })
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
    systemd: FakeSystemd,
}

impl FakeManager {
    async fn job(&self, verb: &str, name: String, emitter: SignalEmitter<'_>) -> Result<OwnedObjectPath, SystemdError> {
        self.systemd.log(format!("{} {verb} {name}", self.label));
        let (id, result) = {
            let mut state = self.systemd.state();
            let Some(now) = state.units.get(&name).cloned() else {
                let why = if verb == "stop" { "not loaded" } else { "not found" };
                return Err(SystemdError::NoSuchUnit(format!("Unit {name} {why}.")));
            };
            let (result, after) = match verb {
                "stop" if state.failing_stop.contains(&name) => ("timeout", now),
                "stop" => ("done", "inactive".to_owned()),
                _ if state.failing.contains(&name) => ("failed", "failed".to_owned()),
                _ => ("done", "active".to_owned()),
            };
            state.units.insert(name.clone(), after);
            state.next_job += 1;
            (state.next_job, result)
        };
        let path = OwnedObjectPath::try_from(format!("/org/freedesktop/systemd1/job/{id}")).unwrap();
        Self::job_removed(&emitter, id, path.as_ref(), &name, result).await?;
        Ok(path)
    }
}

#[interface(name = "org.freedesktop.systemd1.Manager")]
impl FakeManager {
    async fn subscribe(&self) {
        self.systemd.answer("Subscribe").await;
        self.systemd.log(format!("{} Subscribe", self.label));
    }
    async fn reload(&self) {
        self.systemd.answer("Reload").await;
        self.systemd.log(format!("{} Reload", self.label));
    }
    async fn start_unit(
        &self,
        name: String,
        _mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, SystemdError> {
        self.systemd.answer("StartUnit").await;
        self.job("start", name, emitter).await
    }
    async fn stop_unit(
        &self,
        name: String,
        _mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, SystemdError> {
        self.systemd.answer("StopUnit").await;
        self.job("stop", name, emitter).await
    }
    async fn restart_unit(
        &self,
        name: String,
        _mode: String,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, SystemdError> {
        self.systemd.answer("RestartUnit").await;
        self.job("restart", name, emitter).await
    }
    async fn reset_failed_unit(&self, name: String) -> Result<(), SystemdError> {
        self.systemd.answer("ResetFailedUnit").await;
        self.systemd.log(format!("{} reset-failed {name}", self.label));
        let mut state = self.systemd.state();
        match state.units.get(&name).cloned() {
            Some(now) if now == "failed" => {
                state.units.insert(name, "inactive".to_owned());
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(SystemdError::NoSuchUnit(format!("Unit {name} not loaded."))),
        }
    }
    async fn get_unit(&self, name: String) -> Result<OwnedObjectPath, SystemdError> {
        self.systemd.answer("GetUnit").await;
        if self.systemd.state().units.contains_key(&name) {
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
    name: String,
    systemd: FakeSystemd,
}

#[interface(name = "org.freedesktop.systemd1.Unit")]
impl FakeUnit {
    #[zbus(property)]
    async fn active_state(&self) -> String {
        self.systemd.answer("ActiveState").await;
        self.systemd.active_state(&self.name).unwrap_or_else(|| "inactive".to_owned())
    }
}

fn unit_path(name: &str) -> String {
    format!("/org/freedesktop/systemd1/unit/{}", name.replace(['.', '-'], "_"))
}

/// Host settings that only record that they were applied.
#[derive(Debug)]
pub(super) struct FakeHost(pub(super) FakeSystemd);

impl HostSettings for FakeHost {
    fn apply<'a>(&'a self, setting: HostSetting, _: &'a Path) -> BoxFuture<'a, Result<String, String>> {
        self.0.log(format!("host {setting}"));
        Box::pin(async { Ok("applied".to_owned()) })
    }
}

/// `SystemdActivator` with the fake systemd in place of the device's managers: the same
/// executor and health code, runtime directories under `runtime`, and a journal reader
/// that is `true` (no lines), so only the connection differs from the device.
#[derive(Debug)]
pub(super) struct FakeActivator {
    pub(super) systemd: FakeSystemd,
    pub(super) runtime: PathBuf,
}

impl FakeActivator {
    fn dirs(&self) -> RuntimeDirs {
        RuntimeDirs {
            rootful_quadlet: self.runtime.join("containers/systemd"),
            rootless_quadlet: Some(self.runtime.join("user/containers/systemd")),
            system_units: self.runtime.join("systemd/system"),
        }
    }
}

impl Activate for FakeActivator {
    fn skipped(&self) -> Option<&'static str> {
        None
    }
    fn activate<'a>(&'a self, request: &'a Request, progress: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async move {
            let managers = self.systemd.managers().await?;
            let host = FakeHost(self.systemd.clone());
            execute(
                &managers,
                &host,
                &Journal::new("true", Duration::from_secs(5)),
                &self.dirs(),
                None,
                request,
                progress,
            )
            .await
        })
    }
    fn health<'a>(&'a self, request: &'a Request, progress: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(async move {
            let managers = self.systemd.managers().await?;
            check_health(&managers, &Journal::new("true", Duration::from_secs(5)), request, progress).await
        })
    }
}

//! systemd activation over D-Bus: expose `current`'s unit files in the runtime
//! directories, daemon-reload (so the Quadlet generator runs) the system manager and
//! appsvc's user manager, then execute the plan — stop removed units, restart changed
//! ones, start new ones, each waiting for its job's result; unchanged units are never
//! touched. Host settings whose inputs changed are applied in between.
//!
//! Connecting needs a running systemd (the qemu appliance); everything after the
//! connection — [`execute`] and [`check_health`] — is also tested against the fake
//! manager in `fake.rs`.

#[cfg(test)]
mod end_to_end;
mod execute;
#[cfg(test)]
mod fake;
mod journal;
mod manager;
mod proxy;
#[cfg(test)]
mod tests;

use std::time::Duration;

use tokio::time::Instant;
use zbus::Connection;

use super::expose::RuntimeDirs;
use super::health::UnitStates;
use super::host::{DeviceHost, HostSettings};
use super::{Activate, BoxFuture, Failure, Progress, Request};
use crate::plan::{UnitMode, UnitRef};
use execute::{check_health, execute};
use journal::Journal;
use manager::{Manager, Verb};

/// The account whose user manager runs rootless units.
pub const ROOTLESS_USER: &str = "appsvc";

/// Runs units through the system manager and the `appsvc` user manager.
#[derive(Debug)]
pub struct SystemdActivator {
    host: Box<dyn HostSettings>,
    journal: Journal,
}

impl Default for SystemdActivator {
    fn default() -> Self {
        Self { host: Box::new(DeviceHost), journal: Journal::device() }
    }
}

/// Both managers, connected for one step.
struct Managers {
    system: Manager,
    /// None when the generation has no rootless units (appsvc's manager is not needed).
    user: Option<Manager>,
}

impl Managers {
    fn of(&self, mode: UnitMode) -> Result<&Manager, String> {
        match mode {
            UnitMode::Rootful => Ok(&self.system),
            UnitMode::Rootless => {
                self.user.as_ref().ok_or_else(|| format!("{ROOTLESS_USER}'s user manager is not connected"))
            }
        }
    }
}

impl UnitStates for Managers {
    fn active_state<'a>(&'a self, unit: &'a UnitRef, deadline: Instant) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move { self.of(unit.mode)?.active_state(&unit.service, deadline).await })
    }
}

impl SystemdActivator {
    async fn connect(&self, request: &Request) -> Result<Managers, Failure> {
        let system = manager("/run/systemd/private", Bus::System, "system").await?;
        let needs_user = request
            .plan
            .stop
            .iter()
            .chain(&request.plan.restart)
            .chain(&request.plan.start)
            .chain(&request.plan.unchanged)
            .any(|u| u.mode == UnitMode::Rootless);
        let user = if needs_user {
            // Lingering starts appsvc's manager at boot, but not necessarily before us:
            // starting user@<uid>.service waits for it (and is a no-op once it runs).
            let (uid, _) = account(ROOTLESS_USER)?;
            let deadline = Instant::from_std(request.started)
                + Duration::from_secs(request.config.activation.timeout_seconds.into());
            system
                .run(Verb::Start, &format!("user@{uid}.service"), deadline)
                .await
                .map_err(|e| Failure::new(format!("starting {ROOTLESS_USER}'s user manager: {e}")))?;
            Some(user_manager().await?)
        } else {
            None
        };
        Ok(Managers { system, user })
    }

    async fn run(&self, request: &Request, progress: Progress<'_>) -> Result<String, Failure> {
        let managers = self.connect(request).await?;
        let owner = if managers.user.is_some() { Some(account(ROOTLESS_USER)?) } else { None };
        let dirs = RuntimeDirs::device(owner.map(|(uid, _)| uid));
        execute(&managers, self.host.as_ref(), &self.journal, &dirs, owner, request, progress).await
    }

    async fn health(&self, request: &Request, progress: Progress<'_>) -> Result<String, Failure> {
        let managers = self.connect(request).await?;
        check_health(&managers, &self.journal, request, progress).await
    }
}

impl Activate for SystemdActivator {
    fn skipped(&self) -> Option<&'static str> {
        None
    }
    fn activate<'a>(&'a self, request: &'a Request, progress: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(self.run(request, progress))
    }
    fn health<'a>(&'a self, request: &'a Request, progress: Progress<'a>) -> BoxFuture<'a, Result<String, Failure>> {
        Box::pin(SystemdActivator::health(self, request, progress))
    }
}

/// appsvc's user manager. Its user bus needs lingering and may refuse root.
async fn user_manager() -> Result<Manager, Failure> {
    let (uid, _) = account(ROOTLESS_USER)?;
    manager(
        &format!("/run/user/{uid}/systemd/private"),
        Bus::Address(format!("unix:path=/run/user/{uid}/bus")),
        "appsvc",
    )
    .await
    .map_err(|f| Failure::new(format!("{} (is lingering enabled: loginctl enable-linger {ROOTLESS_USER}?)", f.message)))
}

/// The bus to try when a manager's private socket cannot be used.
enum Bus {
    System,
    Address(String),
}

/// How long connecting to a manager may take before activation fails instead of hanging.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Connects to a systemd manager through the bus, or else through its private socket
/// (peer-to-peer, the way systemctl does as root: systemd accepts uid 0 there, and it
/// works before dbus.service is up). The bus comes first: on the appliance, zbus 5.13
/// panicked in its reader task on a message from systemd's private socket ("Invalid
/// unique name"), which left the call waiting forever. Every attempt is bounded by
/// [`CONNECT_TIMEOUT`], so a manager that never answers fails the job (and rolls back).
async fn manager(private: &str, bus: Bus, label: &'static str) -> Result<Manager, Failure> {
    let connect = async {
        let via_bus = match &bus {
            Bus::System => Connection::system().await,
            Bus::Address(address) => match zbus::connection::Builder::address(address.as_str()) {
                Ok(builder) => builder.build().await,
                Err(e) => Err(e),
            },
        };
        let connection = match via_bus {
            Ok(connection) => connection,
            Err(bus_error) => {
                let direct = async {
                    zbus::connection::Builder::address(format!("unix:path={private}").as_str())?.p2p().build().await
                };
                direct.await.map_err(|private_error| {
                    Failure::new(format!(
                        "connecting to systemd ({label}): bus: {bus_error}; {private}: {private_error}"
                    ))
                })?
            }
        };
        Manager::new(connection, label).await.map_err(|e| Failure::new(format!("systemd ({label}): {e}")))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(result) => result,
        Err(_) => Err(Failure::new(format!("systemd ({label}) did not answer within {} s", CONNECT_TIMEOUT.as_secs()))),
    }
}

/// (uid, gid) of an account from /etc/passwd.
pub(crate) fn account(name: &str) -> Result<(u32, u32), Failure> {
    let passwd =
        std::fs::read_to_string("/etc/passwd").map_err(|e| Failure::new(format!("reading /etc/passwd: {e}")))?;
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
        .ok_or_else(|| Failure::new(format!("the account {name} does not exist")))
}

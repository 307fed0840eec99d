//! The parts of systemd's D-Bus API Cairn uses, as small typed zbus proxies: nothing
//! else is declared, so every call Cairn can make to systemd is listed here.

use zbus::proxy;
use zbus::zvariant::{ObjectPath, OwnedObjectPath};

/// `org.freedesktop.systemd1.Manager` (system or user manager).
#[proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
pub(crate) trait Manager {
    /// Ask for signals (JobRemoved) to be sent to this client.
    fn subscribe(&self) -> zbus::Result<()>;
    /// daemon-reload: re-run generators (Quadlet) and reload unit files.
    fn reload(&self) -> zbus::Result<()>;
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    /// Forget a unit's `failed` state (a removed unit that ended failed stays listed).
    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;
    /// The unit's object path; fails with NoSuchUnit when it is not loaded.
    fn get_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    /// A job finished: `result` is done, canceled, timeout, failed, dependency or skipped.
    #[zbus(signal)]
    fn job_removed(&self, id: u32, job: ObjectPath<'_>, unit: &str, result: &str) -> zbus::Result<()>;
}

/// `org.freedesktop.systemd1.Unit`, for its state.
#[proxy(interface = "org.freedesktop.systemd1.Unit", default_service = "org.freedesktop.systemd1")]
pub(crate) trait Unit {
    #[zbus(property)]
    fn active_state(&self) -> zbus::Result<String>;
}

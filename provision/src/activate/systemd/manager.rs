//! One systemd manager (the system's, or appsvc's user manager) driven over D-Bus:
//! reload, and start/stop/restart a unit waiting for its job's JobRemoved result.

use futures_lite::StreamExt;
use tokio::time::Instant;
use zbus::Connection;

use super::proxy::{ManagerProxy, UnitProxy};

/// A connected manager that has subscribed to job signals.
#[derive(Debug, Clone)]
pub(crate) struct Manager {
    connection: Connection,
    proxy: ManagerProxy<'static>,
    /// `system`, or `appsvc` — for messages.
    pub(crate) label: &'static str,
}

/// What to do with a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Start,
    Stop,
    Restart,
}

impl Verb {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
        }
    }
}

impl Manager {
    pub(crate) async fn new(connection: Connection, label: &'static str) -> zbus::Result<Self> {
        let proxy = ManagerProxy::new(&connection).await?;
        proxy.subscribe().await?;
        Ok(Self { connection, proxy, label })
    }

    /// daemon-reload; returns when the manager has reloaded.
    pub(crate) async fn reload(&self) -> zbus::Result<()> {
        self.proxy.reload().await
    }

    /// Queues `verb` on `unit` (mode `replace`) and waits for the job's result until `deadline`.
    pub(crate) async fn run(&self, verb: Verb, unit: &str, deadline: Instant) -> Result<(), String> {
        // Listen before queueing the job so its JobRemoved cannot be missed.
        let mut removed = self.proxy.receive_job_removed().await.map_err(|e| e.to_string())?;
        let call = match verb {
            Verb::Start => self.proxy.start_unit(unit, "replace").await,
            Verb::Stop => self.proxy.stop_unit(unit, "replace").await,
            Verb::Restart => self.proxy.restart_unit(unit, "replace").await,
        };
        let job = call.map_err(|e| format!("{} {unit}: {e}", verb.as_str()))?;
        let wait = async {
            while let Some(signal) = removed.next().await {
                let Ok(args) = signal.args() else { continue };
                if args.job().as_str() == job.as_str() {
                    return Some(args.result().to_string());
                }
            }
            None
        };
        match tokio::time::timeout_at(deadline, wait).await {
            Ok(Some(result)) if result == "done" => Ok(()),
            Ok(Some(result)) => Err(format!("{} {unit}: job {result}", verb.as_str())),
            Ok(None) => Err(format!("{} {unit}: the {} manager went away", verb.as_str(), self.label)),
            Err(_) => Err(format!("{} {unit}: no result by the activation deadline", verb.as_str())),
        }
    }

    /// The unit's ActiveState; `inactive` when it is not loaded at all.
    pub(crate) async fn active_state(&self, unit: &str) -> Result<String, String> {
        let path = match self.proxy.get_unit(unit).await {
            Ok(path) => path,
            Err(zbus::Error::MethodError(name, _, _)) if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" => {
                return Ok("inactive".to_owned());
            }
            Err(e) => return Err(format!("GetUnit {unit}: {e}")),
        };
        let proxy = UnitProxy::builder(&self.connection)
            .path(path)
            .map_err(|e| e.to_string())?
            .build()
            .await
            .map_err(|e| e.to_string())?;
        proxy.active_state().await.map_err(|e| format!("{unit} ActiveState: {e}"))
    }
}

//! One systemd manager (the system's, or appsvc's user manager) driven over D-Bus:
//! reload, and start/stop/restart a unit waiting for its job's JobRemoved result.
//!
//! Every call is bounded: a manager that stops answering (hung, or a zbus reader task
//! that died) must fail the job by the activation deadline, never leave it running.

use std::future::Future;
use std::time::Duration;

use futures_lite::StreamExt;
use tokio::time::Instant;
use zbus::Connection;
use zbus::proxy::CacheProperties;

use super::proxy::{ManagerProxy, UnitProxy};

/// How long subscribing may take when a manager is first connected.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);

/// A call made at or past the deadline still gets this long (a state read after a
/// settle period that ran over, say) instead of failing before it is sent.
pub(crate) const CALL_GRACE: Duration = Duration::from_secs(2);

/// When a call started now must have ended: the deadline, but never less than [`CALL_GRACE`] away.
pub(crate) fn call_limit(deadline: Instant) -> Instant {
    deadline.max(Instant::now() + CALL_GRACE)
}

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

/// systemd's answer to a job for a unit it has not loaded (no unit file, or one the
/// generator rejected): StopUnit says "Unit … not loaded.", StartUnit "Unit … not found.".
fn no_such_unit(error: &zbus::Error) -> bool {
    matches!(error, zbus::Error::MethodError(name, _, _) if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit")
}

impl Manager {
    pub(crate) async fn new(connection: Connection, label: &'static str) -> zbus::Result<Self> {
        Self::with_subscribe_timeout(connection, label, SUBSCRIBE_TIMEOUT).await
    }

    /// [`Manager::new`] with an explicit bound on Subscribe.
    pub(crate) async fn with_subscribe_timeout(
        connection: Connection,
        label: &'static str,
        limit: Duration,
    ) -> zbus::Result<Self> {
        let subscribe = async {
            let proxy = ManagerProxy::new(&connection).await?;
            proxy.subscribe().await?;
            Ok::<_, zbus::Error>(proxy)
        };
        let proxy = match tokio::time::timeout(limit, subscribe).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(zbus::Error::Failure(format!(
                    "Subscribe: the {label} manager did not answer within {} s",
                    limit.as_secs_f32()
                )));
            }
        };
        Ok(Self { connection, proxy, label })
    }

    /// Awaits one call until [`call_limit`]`(deadline)`; a call that outlives it is
    /// abandoned (its reply, if one ever comes, is dropped by zbus).
    async fn bounded<T>(
        &self,
        what: &str,
        deadline: Instant,
        call: impl Future<Output = zbus::Result<T>>,
    ) -> Result<zbus::Result<T>, String> {
        tokio::time::timeout_at(call_limit(deadline), call)
            .await
            .map_err(|_| format!("{what}: the {} manager did not answer by the activation deadline", self.label))
    }

    /// daemon-reload; returns when the manager has reloaded (or fails at the deadline).
    pub(crate) async fn reload(&self, deadline: Instant) -> Result<(), String> {
        self.bounded("daemon-reload", deadline, self.proxy.reload()).await?.map_err(|e| e.to_string())
    }

    /// Queues `verb` on `unit` (mode `replace`) and waits for the job's result until `deadline`.
    /// Stopping a unit the manager has not loaded succeeds: there is nothing to stop.
    pub(crate) async fn run(&self, verb: Verb, unit: &str, deadline: Instant) -> Result<(), String> {
        let what = format!("{} {unit}", verb.as_str());
        // Listen before queueing the job so its JobRemoved cannot be missed.
        let mut removed = self
            .bounded(&what, deadline, self.proxy.receive_job_removed())
            .await?
            .map_err(|e| format!("{what}: {e}"))?;
        let call = async {
            match verb {
                Verb::Start => self.proxy.start_unit(unit, "replace").await,
                Verb::Stop => self.proxy.stop_unit(unit, "replace").await,
                Verb::Restart => self.proxy.restart_unit(unit, "replace").await,
            }
        };
        let job = match self.bounded(&what, deadline, call).await? {
            Ok(job) => job,
            Err(e) if verb == Verb::Stop && no_such_unit(&e) => return Ok(()),
            Err(e) => return Err(format!("{what}: {e}")),
        };
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
            Ok(Some(result)) => Err(format!("{what}: job {result}")),
            Ok(None) => Err(format!("{what}: the {} manager went away", self.label)),
            Err(_) => Err(format!("{what}: no result by the activation deadline")),
        }
    }

    /// Clears a unit's `failed` state; a unit the manager no longer has is already clear.
    pub(crate) async fn reset_failed(&self, unit: &str, deadline: Instant) -> Result<(), String> {
        let what = format!("reset-failed {unit}");
        match self.bounded(&what, deadline, self.proxy.reset_failed_unit(unit)).await? {
            Ok(()) => Ok(()),
            Err(e) if no_such_unit(&e) => Ok(()),
            Err(e) => Err(format!("{what}: {e}")),
        }
    }

    /// The unit's ActiveState; `inactive` when it is not loaded at all.
    pub(crate) async fn active_state(&self, unit: &str, deadline: Instant) -> Result<String, String> {
        let what = format!("{unit} ActiveState");
        let read = async {
            let path = match self.proxy.get_unit(unit).await {
                Ok(path) => path,
                Err(e) if no_such_unit(&e) => return Ok("inactive".to_owned()),
                Err(e) => return Err(format!("GetUnit {unit}: {e}")),
            };
            // One read: no property cache (it would add calls and a background task).
            let proxy = UnitProxy::builder(&self.connection)
                .path(path)
                .map(|b| b.cache_properties(CacheProperties::No))
                .map_err(|e| e.to_string())?
                .build()
                .await
                .map_err(|e| e.to_string())?;
            proxy.active_state().await.map_err(|e| format!("{what}: {e}"))
        };
        tokio::time::timeout_at(call_limit(deadline), read)
            .await
            .map_err(|_| format!("{what}: the {} manager did not answer by the activation deadline", self.label))?
    }
}

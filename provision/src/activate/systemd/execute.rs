//! What activation does once the managers are connected: execute the plan in the order
//! that keeps every step safe, and wait for the generation to be healthy. Every call to
//! a manager, a host setting and a journal read is bounded, so a manager that stops
//! answering fails the job (which then rolls back) instead of leaving it running.

use std::time::Duration;

use tokio::time::Instant;

use super::journal::Journal;
use super::manager::{Verb, call_limit};
use super::{Managers, ROOTLESS_USER};
use crate::activate::expose::{self, RuntimeDirs};
use crate::activate::health::{self, Policy};
use crate::activate::host::HostSettings;
use crate::activate::{Failure, Progress, Request};
use crate::plan::UnitRef;

/// `activation.timeout_seconds` counted from the start of activation.
pub(super) fn deadline(request: &Request) -> Instant {
    Instant::from_std(request.started) + Duration::from_secs(request.config.activation.timeout_seconds.into())
}

/// Executes `request.plan` on connected managers.
pub(super) async fn execute(
    managers: &Managers,
    host: &dyn HostSettings,
    journal: &Journal,
    dirs: &RuntimeDirs,
    rootless_owner: Option<(u32, u32)>,
    request: &Request,
    progress: Progress<'_>,
) -> Result<String, Failure> {
    let deadline = deadline(request);
    let plan = &request.plan;
    // A unit the health rules let fail (activation.allow_degraded, or any non-required
    // unit when that key is absent) does not stop the others from starting. Without a
    // policy (a config whose required units this manifest lacks) nothing may fail.
    let policy = Policy::new(&request.config, &request.manifest).ok();
    let may_fail = |unit: &UnitRef| policy.as_ref().is_some_and(|p| p.may_fail(unit));
    // Stop removed units while their old definitions are still loaded.
    for unit in &plan.stop {
        if let Err(e) = managers.of(unit.mode).map_err(Failure::new)?.run(Verb::Stop, &unit.service, deadline).await {
            return Err(unit_failure(journal, unit, e).await);
        }
        progress(format!("stopped {unit}"));
    }
    let exposed = expose::sync(&request.state_dir, dirs, rootless_owner)
        .map_err(|e| Failure::new(format!("exposing unit files: {e}")))?;
    progress(format!("unit files exposed ({} linked, {} removed)", exposed.linked.len(), exposed.removed.len()));
    managers.system.reload(deadline).await.map_err(|e| Failure::new(format!("daemon-reload (system): {e}")))?;
    if let Some(user) = &managers.user {
        user.reload(deadline).await.map_err(|e| Failure::new(format!("daemon-reload ({ROOTLESS_USER}): {e}")))?;
    }
    progress("daemon-reload done".into());
    // A removed unit that ended `failed` (say, killed at its stop timeout) would stay
    // listed by `systemctl --failed` forever; it is gone from the config, so forget it.
    for unit in &plan.stop {
        let manager = managers.of(unit.mode).map_err(Failure::new)?;
        if let Err(e) = manager.reset_failed(&unit.service, deadline).await {
            progress(format!("{e} (left as is)"));
        }
    }
    let rendered = request.state_dir.join("current/rendered");
    for setting in &plan.host {
        if !setting.present_in(&request.manifest.files) {
            // Gone from the generation (or no generation left after a discarded first
            // apply): there is nothing to load; the host keeps what it has until reboot.
            progress(format!("{setting}: no input in this generation; left as is"));
            continue;
        }
        let done = match tokio::time::timeout_at(call_limit(deadline), host.apply(*setting, &rendered)).await {
            Ok(result) => result.map_err(|e| Failure::new(format!("{setting}: {e}")))?,
            Err(_) => return Err(Failure::new(format!("{setting}: not applied by the activation deadline"))),
        };
        progress(format!("{setting}: {done}"));
    }
    // Restarts and starts are queued together and awaited together: systemd orders
    // them by their dependencies (a container after the build it requires), and
    // independent units come up in parallel instead of one after another.
    let jobs = [(Verb::Restart, &plan.restart), (Verb::Start, &plan.start)]
        .into_iter()
        .flat_map(|(verb, units)| units.iter().map(move |unit| (verb, unit)))
        .map(|(verb, unit)| async move {
            let result = match managers.of(unit.mode) {
                Ok(manager) => manager.run(verb, &unit.service, deadline).await,
                Err(e) => Err(e),
            };
            (verb, unit, result)
        });
    let mut degraded = Vec::new();
    let mut first_failure = None;
    for (verb, unit, result) in futures_util::future::join_all(jobs).await {
        match result {
            Ok(()) => progress(format!("{}ed {unit}", verb.as_str())),
            Err(e) if may_fail(unit) => {
                progress(format!("{e} (tolerated: {unit} may fail)"));
                degraded.push(unit.to_string());
            }
            Err(e) => {
                progress(e.clone());
                first_failure.get_or_insert((unit, e));
            }
        }
    }
    if let Some((unit, e)) = first_failure {
        return Err(unit_failure(journal, unit, e).await);
    }
    let degraded = if degraded.is_empty() { String::new() } else { format!("; degraded: {}", degraded.join(", ")) };
    Ok(format!(
        "stopped {}, restarted {}, started {}, left {} untouched; host settings applied: {}{degraded}",
        plan.stop.len(),
        plan.restart.len(),
        plan.start.len(),
        plan.unchanged.len(),
        plan.host.len()
    ))
}

/// Waits for the generation's health policy on connected managers.
pub(super) async fn check_health(
    managers: &Managers,
    journal: &Journal,
    request: &Request,
    progress: Progress<'_>,
) -> Result<String, Failure> {
    let policy = Policy::new(&request.config, &request.manifest).map_err(Failure::new)?;
    match health::wait(&policy, managers, deadline(request), progress).await {
        Ok(summary) => Ok(summary),
        Err(unhealthy) => {
            let details = match &unhealthy.unit {
                Some(unit) => journal.tail(unit, 20).await,
                None => Vec::new(),
            };
            Err(Failure { message: unhealthy.message, details })
        }
    }
}

/// A unit's job failed: the message plus its last journal lines.
async fn unit_failure(journal: &Journal, unit: &UnitRef, message: String) -> Failure {
    Failure { message, details: journal.tail(unit, 20).await }
}

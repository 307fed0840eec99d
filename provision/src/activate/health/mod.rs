//! Health: after activation, wait until the generation is healthy by its [`Policy`] —
//! required units active (polled, not checked once), a settle period after which they
//! must still be active, no unexpected failed units when `allow_degraded` is given, and
//! every probe passing — all before one deadline.

pub mod policy;
pub mod probe;

use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};

pub use policy::{KIOSK_SERVICE, Policy};

use super::{BoxFuture, Progress};
use crate::plan::UnitRef;

/// How often unit states and failing probes are re-tried at most.
const POLL: Duration = Duration::from_millis(500);

/// Reads a unit's `ActiveState` (`active`, `activating`, `failed`, …).
pub trait UnitStates: Send + Sync {
    /// Must answer (or fail) by `deadline`, give or take a short grace for a call made past it.
    fn active_state<'a>(&'a self, unit: &'a UnitRef, deadline: Instant) -> BoxFuture<'a, Result<String, String>>;
}

/// Why the generation is not healthy; `unit` names a unit whose journal explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unhealthy {
    pub message: String,
    pub unit: Option<UnitRef>,
}

/// Waits for `policy` to hold, until `deadline`. Returns a summary line.
pub async fn wait(
    policy: &Policy,
    states: &dyn UnitStates,
    deadline: Instant,
    progress: Progress<'_>,
) -> Result<String, Unhealthy> {
    for unit in &policy.required {
        wait_active(unit, states, deadline).await?;
        progress(format!("{unit}: active"));
    }
    if !policy.settle.is_zero() {
        progress(format!("settling for {} s", policy.settle.as_secs()));
        sleep(policy.settle).await;
        for unit in &policy.required {
            let state = state(unit, states, deadline).await?;
            if state != "active" {
                return Err(Unhealthy {
                    message: format!("{unit} was active but is {state} after settling"),
                    unit: Some(unit.clone()),
                });
            }
        }
    }
    if policy.allow_degraded.is_some() {
        for unit in &policy.units {
            if policy.may_fail(unit) || policy.required.contains(unit) {
                continue;
            }
            if state(unit, states, deadline).await? == "failed" {
                return Err(Unhealthy {
                    message: format!("{unit} failed and is not in activation.allow_degraded"),
                    unit: Some(unit.clone()),
                });
            }
        }
    }
    for check in &policy.checks {
        let interval = Duration::from_secs(check.interval_seconds.max(1).into());
        let timeout = Duration::from_secs(check.timeout_seconds.max(1).into());
        loop {
            match probe::attempt(&check.probe, timeout).await {
                Ok(how) => {
                    progress(format!("check {}: {how}", check.name.value));
                    break;
                }
                Err(why) if Instant::now() + interval >= deadline => {
                    return Err(Unhealthy {
                        message: format!("check {} did not pass in time: {why}", check.name.value),
                        unit: None,
                    });
                }
                Err(why) => {
                    progress(format!("check {}: {why}; retrying", check.name.value));
                    sleep(interval).await;
                }
            }
        }
    }
    Ok(format!(
        "{} required unit{} active, {} check{} passed",
        policy.required.len(),
        if policy.required.len() == 1 { "" } else { "s" },
        policy.checks.len(),
        if policy.checks.len() == 1 { "" } else { "s" }
    ))
}

async fn state(unit: &UnitRef, states: &dyn UnitStates, deadline: Instant) -> Result<String, Unhealthy> {
    states
        .active_state(unit, deadline)
        .await
        .map_err(|e| Unhealthy { message: format!("{unit}: {e}"), unit: Some(unit.clone()) })
}

async fn wait_active(unit: &UnitRef, states: &dyn UnitStates, deadline: Instant) -> Result<(), Unhealthy> {
    loop {
        let now = state(unit, states, deadline).await?;
        match now.as_str() {
            "active" => return Ok(()),
            "failed" => return Err(Unhealthy { message: format!("{unit} failed"), unit: Some(unit.clone()) }),
            _ if Instant::now() >= deadline => {
                return Err(Unhealthy {
                    message: format!("{unit} is still {now} at the activation deadline"),
                    unit: Some(unit.clone()),
                });
            }
            _ => sleep_until((Instant::now() + POLL).min(deadline)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};
    use std::sync::Mutex;

    use super::*;
    use crate::plan::UnitMode;

    /// Each unit walks through a scripted list of states, staying on the last.
    struct Script(Mutex<HashMap<String, Vec<&'static str>>>);

    impl UnitStates for Script {
        fn active_state<'a>(&'a self, unit: &'a UnitRef, _: Instant) -> BoxFuture<'a, Result<String, String>> {
            let mut map = self.0.lock().unwrap();
            let states = map.get_mut(&unit.service).unwrap();
            let state = if states.len() > 1 { states.remove(0) } else { states[0] };
            Box::pin(async move { Ok(state.to_owned()) })
        }
    }

    fn unit(s: &str) -> UnitRef {
        UnitRef { mode: UnitMode::Rootful, service: s.into() }
    }

    fn policy(required: &[&str], units: &[&str], allow: Option<&[&str]>) -> Policy {
        Policy {
            required: required.iter().map(|s| unit(s)).collect(),
            allow_degraded: allow.map(|a| a.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()),
            units: units.iter().map(|s| unit(s)).collect(),
            checks: vec![],
            timeout: Duration::from_secs(5),
            settle: Duration::ZERO,
        }
    }

    fn script(states: &[(&str, &[&'static str])]) -> Script {
        Script(Mutex::new(states.iter().map(|(u, s)| (u.to_string(), s.to_vec())).collect()))
    }

    #[tokio::test(start_paused = true)]
    async fn required_units_are_polled_until_active() {
        let states = script(&[("web.service", &["activating", "activating", "active"])]);
        let out = wait(
            &policy(&["web.service"], &["web.service"], None),
            &states,
            Instant::now() + Duration::from_secs(5),
            &|_| {},
        )
        .await;
        assert_eq!(out.unwrap(), "1 required unit active, 0 checks passed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_required_unit_that_never_starts_fails_at_the_deadline() {
        let states = script(&[("web.service", &["activating"])]);
        let err = wait(&policy(&["web.service"], &[], None), &states, Instant::now() + Duration::from_secs(3), &|_| {})
            .await
            .unwrap_err();
        assert_eq!(err.unit, Some(unit("web.service")));
        assert!(err.message.contains("still activating at the activation deadline"), "{}", err.message);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_unit_fails_only_when_allow_degraded_is_given_and_it_is_not_listed() {
        let states =
            || script(&[("web.service", &["active"]), ("side.service", &["failed"]), ("ok.service", &["failed"])]);
        let deadline = Instant::now() + Duration::from_secs(3);
        let units = ["web.service", "side.service", "ok.service"];
        assert!(wait(&policy(&["web.service"], &units, None), &states(), deadline, &|_| {}).await.is_ok());
        assert!(
            wait(
                &policy(&["web.service"], &units, Some(&["side.service", "ok.service"])),
                &states(),
                deadline,
                &|_| {}
            )
            .await
            .is_ok()
        );
        let err = wait(&policy(&["web.service"], &units, Some(&["ok.service"])), &states(), deadline, &|_| {})
            .await
            .unwrap_err();
        assert_eq!(err.unit, Some(unit("side.service")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_unit_that_dies_while_settling_fails() {
        let states = script(&[("web.service", &["active", "failed"])]);
        let mut p = policy(&["web.service"], &[], None);
        p.settle = Duration::from_secs(2);
        let err = wait(&p, &states, Instant::now() + Duration::from_secs(10), &|_| {}).await.unwrap_err();
        assert!(err.message.contains("after settling"), "{}", err.message);
    }
}

//! systemd notifications (`Type=notify`, `WatchdogSec=`). All are no-ops outside systemd.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!("sd_notify failed: {e}");
    }
}

/// The default layout is on screen (its first frames have arrived or failed).
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

pub fn reloading() {
    send(&[NotifyState::Reloading]);
}

pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to ping the watchdog: half the configured interval, or `None` when
/// systemd did not ask for one.
pub fn watchdog_interval() -> Option<Duration> {
    watchdog_interval_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
        std::os::unix::process::parent_id(),
    )
}

/// systemd addresses the watchdog to the unit's main process. Under `cage -- kiosk`
/// that is cage, our parent, and the unit's `NotifyAccess=all` makes our pings count,
/// so a `WATCHDOG_PID` naming the parent is ours too (libsystemd would say "not for
/// you" and the UI would be killed every `WatchdogSec`).
fn watchdog_interval_from(usec: Option<&str>, pid: Option<&str>, me: u32, parent: u32) -> Option<Duration> {
    let usec: u64 = usec?.parse().ok().filter(|u| *u > 0)?;
    if let Some(pid) = pid {
        let pid: u32 = pid.parse().ok()?;
        if pid != me && pid != parent {
            return None;
        }
    }
    Some(Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_for_us_or_our_compositor_parent() {
        let half = Some(Duration::from_secs(15));
        assert_eq!(watchdog_interval_from(Some("30000000"), Some("10"), 10, 1), half);
        assert_eq!(watchdog_interval_from(Some("30000000"), Some("7"), 10, 7), half, "cage's pid");
        assert_eq!(watchdog_interval_from(Some("30000000"), None, 10, 7), half);
        assert_eq!(watchdog_interval_from(Some("30000000"), Some("99"), 10, 7), None, "someone else's");
        assert_eq!(watchdog_interval_from(None, Some("10"), 10, 7), None);
        assert_eq!(watchdog_interval_from(Some("0"), None, 10, 7), None);
        assert_eq!(watchdog_interval_from(Some("x"), None, 10, 7), None);
    }
}

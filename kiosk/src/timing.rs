//! Small time-based decisions: idle revert, reconnect backoff, stall detection.

use std::time::{Duration, Instant};

/// Returns to the default layout after a quiet period (`idle_revert_seconds`).
#[derive(Debug, Clone)]
pub struct IdleRevert {
    timeout: Option<Duration>,
    last_activity: Instant,
}

impl IdleRevert {
    /// `seconds == 0` turns idle revert off.
    pub fn new(seconds: u32, now: Instant) -> Self {
        Self { timeout: (seconds > 0).then(|| Duration::from_secs(u64::from(seconds))), last_activity: now }
    }

    pub fn set_seconds(&mut self, seconds: u32) {
        self.timeout = (seconds > 0).then(|| Duration::from_secs(u64::from(seconds)));
    }

    /// Input on the display, or a layout switch through the local API: the person (or
    /// system) that chose the current layout is still there.
    pub fn activity(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// Whether to switch back to `default` now.
    pub fn due(&self, now: Instant, current: &str, default: &str) -> bool {
        match self.timeout {
            Some(t) => current != default && now.saturating_duration_since(self.last_activity) >= t,
            None => false,
        }
    }
}

/// Exponential reconnect backoff: 1 s, 2 s, 4 s … capped at 30 s, reset by a frame.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_secs(1);
    pub const MAX: Duration = Duration::from_secs(30);

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let d = Self::FIRST.saturating_mul(1u32 << self.failures.min(16)).min(Self::MAX);
        self.failures = self.failures.saturating_add(1);
        d
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// No frame for this long means the stream is stuck (a half-open TCP connection,
/// a camera that stopped sending): the pipeline is torn down and rebuilt.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether a pipeline that started at `started` and last produced a frame at
/// `last_frame` is stalled. A pipeline that never produced a frame is judged from its start.
pub fn stalled(started: Instant, last_frame: Option<Instant>, now: Instant, timeout: Duration) -> bool {
    now.saturating_duration_since(last_frame.unwrap_or(started)) >= timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_revert_only_away_from_default_and_after_quiet() {
        let t0 = Instant::now();
        let mut i = IdleRevert::new(300, t0);
        assert!(!i.due(t0 + Duration::from_secs(299), "b", "a"));
        assert!(i.due(t0 + Duration::from_secs(300), "b", "a"));
        assert!(!i.due(t0 + Duration::from_secs(900), "a", "a"), "already on the default");
        i.activity(t0 + Duration::from_secs(200));
        assert!(!i.due(t0 + Duration::from_secs(300), "b", "a"));
        assert!(i.due(t0 + Duration::from_secs(500), "b", "a"));
        let off = IdleRevert::new(0, t0);
        assert!(!off.due(t0 + Duration::from_secs(1 << 30), "b", "a"));
    }

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::default();
        let d: Vec<u64> = (0..8).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 8, 16, 30, 30, 30]);
        for _ in 0..100 {
            b.next_delay();
        }
        assert_eq!(b.next_delay(), Backoff::MAX);
        b.reset();
        assert_eq!(b.next_delay(), Backoff::FIRST);
    }

    #[test]
    fn stall_is_measured_from_the_last_frame() {
        let t0 = Instant::now();
        let s = Duration::from_secs(15);
        assert!(!stalled(t0, None, t0 + Duration::from_secs(14), s));
        assert!(stalled(t0, None, t0 + Duration::from_secs(15), s));
        assert!(!stalled(t0, Some(t0 + Duration::from_secs(10)), t0 + Duration::from_secs(20), s));
        assert!(stalled(t0, Some(t0 + Duration::from_secs(10)), t0 + Duration::from_secs(25), s));
    }
}

//! Kubelet's crash-loop back-off: the first restart at once, then 10 s doubling to a
//! 5-minute cap; ten minutes of running forgive the crashes before.

use std::time::Duration;

/// How long a container that ran this long is forgiven its earlier crashes.
pub const RESET_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// `MINIPOD_BACKOFF_SECONDS` and `MINIPOD_BACKOFF_MAX_SECONDS` shorten it for
    /// tests and demos.
    pub fn from_env() -> Backoff {
        let secs = |name: &str, default: Duration| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .and_then(|v| Duration::try_from_secs_f64(v).ok())
                .unwrap_or(default)
        };
        let default = Backoff::default();
        Backoff {
            base: secs("MINIPOD_BACKOFF_SECONDS", default.base),
            max: secs("MINIPOD_BACKOFF_MAX_SECONDS", default.max),
        }
    }

    /// Delay before restart number `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        if n <= 1 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow(n.saturating_sub(2).min(20));
        self.base.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_matches_kubelet() {
        let b = Backoff::default();
        let delays: Vec<u64> = (1..=8).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(delays, [0, 10, 20, 40, 80, 160, 300, 300]);
    }

    #[test]
    fn a_short_backoff_for_tests_keeps_its_cap() {
        let b = Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (1..=5).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [0, 500, 1000, 1000, 1000]);
        // A crash count far beyond any real one neither overflows nor passes the cap.
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
    }
}

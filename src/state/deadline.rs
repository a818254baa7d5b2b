//! Points in time a user's number of seconds away, without overflow.
//!
//! `Instant + Duration` panics ("overflow when adding duration to instant") when the
//! sum does not fit, and users write `terminationGracePeriodSeconds:
//! 9223372036854775807` or `delete --grace-period=99999999999999`. A deadline that
//! far is as good as never: it is clamped to about a century from now.

use std::time::{Duration, Instant};

/// Far enough to mean "never" for anything a pod waits on (100 years).
pub const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + after`, at most `now + NEVER`.
pub fn after(now: Instant, after: Duration) -> Instant {
    now.checked_add(after.min(NEVER))
        .or_else(|| now.checked_add(Duration::from_secs(24 * 3600)))
        .unwrap_or(now)
}

/// `from_now` from now, at most `NEVER`.
pub fn from_now(from_now: Duration) -> Instant {
    after(Instant::now(), from_now)
}

/// A user's number of seconds as a duration: negative is zero.
pub fn seconds(value: i64) -> Duration {
    Duration::from_secs(value.max(0).unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_do_not_overflow() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::MAX), now + NEVER);
        assert_eq!(after(now, seconds(i64::MAX)), now + NEVER);
        assert_eq!(after(now, seconds(5)), now + Duration::from_secs(5));
        assert_eq!(seconds(-3), Duration::ZERO);
    }
}

//! The one clock a probe or hook runs against: `timeoutSeconds` is a deadline for the
//! whole action (connect, write, read; spawn, wait, read the output), not a timeout
//! per read, so a server that trickles a byte a second cannot stretch it.
//!
//! Probes run inside the supervisor's single-threaded loop. While one runs, the
//! loop does not read its signalfd; a `delete` (SIGTERM/SIGINT, blocked in the
//! supervisor, so it stays pending) must not wait for the probe's whole timeout. So
//! every wait is cut into short slices, and between slices a pending SIGTERM or
//! SIGINT ends the action at once ([`Stop::Interrupted`]); the loop then reads the
//! signal and carries the delete out.

use nix::poll::PollTimeout;
use std::time::{Duration, Instant};

/// Longest single wait: how late a pending delete is noticed.
const SLICE: Duration = Duration::from_millis(50);

/// Why an action stopped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Its deadline passed.
    TimedOut,
    /// A delete is waiting (SIGTERM or SIGINT pending on the supervisor).
    Interrupted,
}

#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    until: Instant,
}

impl Deadline {
    pub fn after(limit: Duration) -> Deadline {
        Deadline {
            until: crate::state::deadline::from_now(limit),
        }
    }

    /// How long the next wait may last (at most one slice), or why not at all.
    pub fn slice(&self) -> Result<Duration, Stop> {
        if delete_pending() {
            return Err(Stop::Interrupted);
        }
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stop::TimedOut);
        }
        Ok(left.min(SLICE))
    }

    /// [`Deadline::slice`] as a `poll(2)` timeout.
    pub fn poll_slice(&self) -> Result<PollTimeout, Stop> {
        let ms = self.slice()?.as_millis().max(1);
        Ok(PollTimeout::try_from(ms as u64).unwrap_or(PollTimeout::MAX))
    }
}

/// Is a SIGTERM or SIGINT pending on this process (blocked by the supervisor, which
/// reads them from its signalfd)?
pub fn delete_pending() -> bool {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigpending writes a full sigset_t into the memory it is given.
    if unsafe { libc::sigpending(set.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: sigpending returned 0, so the set is initialised.
    let set = unsafe { set.assume_init() };
    // SAFETY: sigismember only reads the initialised set.
    [libc::SIGTERM, libc::SIGINT]
        .iter()
        .any(|s| unsafe { libc::sigismember(&set, *s) } == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_gives_short_slices_then_times_out() {
        let d = Deadline::after(Duration::from_millis(120));
        assert!(d.slice().unwrap() <= SLICE);
        std::thread::sleep(Duration::from_millis(130));
        assert_eq!(d.slice(), Err(Stop::TimedOut));
    }
}

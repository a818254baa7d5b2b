//! A kernel for unit tests: it records each call, its arguments and its why, and
//! changes nothing.

use super::{Call, Kernel};
use std::os::fd::OwnedFd;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The call's name (`mount`, `setns`, …).
    pub name: &'static str,
    /// The call with its arguments, in the narration's words.
    pub what: String,
    pub why: String,
}

#[derive(Default)]
pub struct Recording {
    calls: Mutex<Vec<Recorded>>,
}

impl Recording {
    /// A recording kernel that lives as long as the test process (installed per thread).
    pub fn leaked() -> &'static Recording {
        Box::leak(Box::default())
    }

    pub fn calls(&self) -> Vec<Recorded> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Kernel for Recording {
    fn call(&self, call: &Call<'_>, why: &str) -> nix::Result<()> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(Recorded {
                name: call.name(),
                what: call.to_string(),
                why: why.to_string(),
            });
        }
        Ok(())
    }

    /// Recorded like any call; the descriptor it hands back is /dev/null's.
    fn open(&self, call: &Call<'_>, why: &str) -> nix::Result<OwnedFd> {
        self.call(call, why)?;
        std::fs::File::open("/dev/null")
            .map(OwnedFd::from)
            .map_err(|_| nix::errno::Errno::EIO)
    }
}

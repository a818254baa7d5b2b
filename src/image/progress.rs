//! A one-line progress display on stderr for large loads: `Loading  12.3MB / 74.3MB`,
//! redrawn with `\r`. Only when stderr is a terminal, so logs and tests stay clean.

use super::human::human_size;
use std::cell::Cell;
use std::io::{IsTerminal, Write};

/// Loads smaller than this finish too fast for a progress line to help.
const MIN_TOTAL_FOR_PROGRESS: u64 = 32 * 1024 * 1024;
/// Redraw after this many bytes, not on every read.
const REDRAW_EVERY: u64 = 1024 * 1024;

pub struct Progress {
    total: u64,
    done: Cell<u64>,
    last_drawn: Cell<u64>,
    enabled: bool,
}

impl Progress {
    pub fn new(total: u64) -> Progress {
        Progress {
            total,
            done: Cell::new(0),
            last_drawn: Cell::new(0),
            enabled: total >= MIN_TOTAL_FOR_PROGRESS && std::io::stderr().is_terminal(),
        }
    }

    /// `n` more bytes of the input were read.
    pub fn advance(&self, n: usize) {
        let done = self.done.get() + n as u64;
        self.done.set(done);
        if self.enabled && done - self.last_drawn.get() >= REDRAW_EVERY {
            self.last_drawn.set(done);
            let shown = done.min(self.total);
            eprint!(
                "\rLoading {:>8} / {}",
                human_size(shown),
                human_size(self.total)
            );
            let _ = std::io::stderr().flush();
        }
    }

    /// Erase the progress line.
    pub fn finish(&self) {
        if self.enabled && self.last_drawn.get() > 0 {
            eprint!("\r{:60}\r", "");
        }
    }
}

//! A tiny seeded mutator for the fuzz tests (tests only): every run is reproducible
//! from its seed, printed when a case fails.

use std::time::{Duration, Instant};

/// xorshift64*: small, fast, good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Mutates `data` in place 1 to 8 times: flip, insert a token, delete, duplicate,
/// splice from `other`, truncate.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, tokens: &[&[u8]], other: &[u8]) {
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let at = at.min(data.len() - 1);
                data[at] = *rng.pick(tokens.concat().as_slice());
            }
            1 => {
                let token = rng.pick(tokens);
                data.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(128)).min(data.len());
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
}

/// Runs `case(seed)` for seeds 0, 1, ... until `budget` is spent (at least `min`
/// cases); returns how many ran.
pub fn for_a_while(budget: Duration, min: u64, mut case: impl FnMut(u64)) -> u64 {
    let start = Instant::now();
    let mut seed = 0;
    while seed < min || start.elapsed() < budget {
        case(seed);
        seed += 1;
    }
    seed
}

/// The peak resident memory of this process (VmHWM), in KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

//! Probes as kubelet runs them: startup, liveness and readiness, each on its own
//! period with its thresholds. A liveness (or startup) failure restarts the container;
//! readiness only moves READY. Liveness and readiness wait until startup succeeded.

use super::probe_actions::{self, Target};
use k8s_openapi::api::core::v1::{Container, Probe};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Startup,
    Liveness,
    Readiness,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Startup => "Startup",
            Kind::Liveness => "Liveness",
            Kind::Readiness => "Readiness",
        }
    }
}

/// One probe of one running container.
#[derive(Debug)]
pub struct Prober {
    pub kind: Kind,
    probe: Probe,
    pub next_at: Instant,
    successes: u32,
    failures: u32,
    /// Its first run was narrated: the later ones run quietly (see `narration::quietly`).
    pub narrated: bool,
}

/// What a probe's result means for the container.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Nothing changes.
    Unchanged,
    /// A failed attempt (event `Unhealthy` with this message), threshold not reached.
    Failed(String),
    /// Startup passed: liveness and readiness may run.
    Started,
    Ready(bool),
    /// Liveness or startup failed `failureThreshold` times: restart the container.
    Restart(String),
}

fn secs(v: Option<i32>, default: i32) -> Duration {
    Duration::from_secs(v.unwrap_or(default).max(0) as u64)
}

impl Prober {
    /// The container's probes, first due after `initialDelaySeconds`.
    pub fn for_container(c: &Container, now: Instant) -> Vec<Prober> {
        [
            (Kind::Startup, &c.startup_probe),
            (Kind::Liveness, &c.liveness_probe),
            (Kind::Readiness, &c.readiness_probe),
        ]
        .into_iter()
        .filter_map(|(kind, p)| p.clone().map(|probe| (kind, probe)))
        .map(|(kind, probe)| Prober {
            kind,
            next_at: now + secs(probe.initial_delay_seconds, 0),
            probe,
            successes: 0,
            failures: 0,
            narrated: false,
        })
        .collect()
    }

    /// When this probe is next due, counted from an attempt that begins `now`.
    pub fn schedule_next(&mut self, now: Instant) {
        self.next_at = now + secs(self.probe.period_seconds, 10).max(Duration::from_secs(1));
    }

    /// Run the probe's action once against the container (the only I/O here).
    pub fn attempt(&self, target: &Target) -> Result<(), String> {
        let p = &self.probe;
        let timeout = secs(p.timeout_seconds, 1).max(Duration::from_secs(1));
        if let Some(e) = &p.exec {
            probe_actions::run_exec(e, target, timeout).map(|_| ())
        } else if let Some(h) = &p.http_get {
            probe_actions::run_http(h, target, timeout).map(|_| ())
        } else if let Some(t) = &p.tcp_socket {
            probe_actions::run_tcp(&t.port, t.host.as_deref(), target, timeout)
        } else {
            Err("the probe has no handler minipod supports".into())
        }
    }

    /// Thresholds: `successThreshold` passes in a row (readiness), `failureThreshold`
    /// failures in a row.
    pub fn judge(&mut self, result: Result<(), String>) -> Verdict {
        let success_threshold = self.probe.success_threshold.unwrap_or(1).max(1) as u32;
        let failure_threshold = self.probe.failure_threshold.unwrap_or(3).max(1) as u32;
        match result {
            Ok(()) => {
                self.failures = 0;
                self.successes += 1;
                match self.kind {
                    Kind::Startup if self.successes == 1 => Verdict::Started,
                    Kind::Readiness if self.successes == success_threshold => Verdict::Ready(true),
                    _ => Verdict::Unchanged,
                }
            }
            Err(message) => {
                self.successes = 0;
                self.failures += 1;
                let message = format!("{} probe failed: {message}", self.kind.name());
                if self.failures == failure_threshold {
                    match self.kind {
                        Kind::Readiness => Verdict::Ready(false),
                        _ => Verdict::Restart(message),
                    }
                } else {
                    Verdict::Failed(message)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prober(kind: Kind, success: i32, failure: i32) -> Prober {
        Prober {
            kind,
            probe: Probe {
                success_threshold: Some(success),
                failure_threshold: Some(failure),
                ..Default::default()
            },
            next_at: Instant::now(),
            successes: 0,
            failures: 0,
            narrated: false,
        }
    }

    #[test]
    fn liveness_restarts_after_failure_threshold_in_a_row() {
        let mut p = prober(Kind::Liveness, 1, 3);
        assert!(matches!(p.judge(Err("x".into())), Verdict::Failed(_)));
        assert!(matches!(p.judge(Err("x".into())), Verdict::Failed(_)));
        assert_eq!(p.judge(Ok(())), Verdict::Unchanged); // resets the count
        assert!(matches!(p.judge(Err("x".into())), Verdict::Failed(_)));
        assert!(matches!(p.judge(Err("x".into())), Verdict::Failed(_)));
        assert_eq!(
            p.judge(Err("boom".into())),
            Verdict::Restart("Liveness probe failed: boom".into())
        );
    }

    #[test]
    fn readiness_needs_success_threshold_passes() {
        let mut p = prober(Kind::Readiness, 2, 1);
        assert_eq!(p.judge(Ok(())), Verdict::Unchanged);
        assert_eq!(p.judge(Ok(())), Verdict::Ready(true));
        assert_eq!(p.judge(Err("no".into())), Verdict::Ready(false));
    }
}

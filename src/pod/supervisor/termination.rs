//! How a pod stops, decided (the policy's part; the executor sends the signals):
//!
//! 1. the app containers (and a classic init container still running) get their
//!    preStop hook and their stop signal, with the pod's grace period;
//! 2. once they are gone, the sidecars, in reverse order, within what is left of it;
//! 3. at the end of the grace period, SIGKILL for whatever still runs.
//!
//! A pod whose infra process died skips all that: its namespaces are gone, every
//! container is killed at once (see `sandbox_policy` for what comes next).

use super::actions::{normal, warning, Action, KillReason};
use super::pod_state::{ContainerKind, Life, Stage};
use super::policy::PodPolicy;
use crate::pod::status::Phase;
use crate::state::deadline;
use std::time::{Duration, Instant};

impl PodPolicy {
    /// Stop the pod's containers: app containers first; sidecars once those are gone
    /// (see `advance_termination`); SIGKILL for all at the deadline.
    pub fn stop_pod(&mut self, grace: i64, now: Instant) -> Vec<Action> {
        if self.is_stopping() {
            return Vec::new();
        }
        let grace = grace.max(0);
        let mut actions = Vec::new();
        for c in &mut self.containers {
            if let Life::BackOff { .. } = c.life {
                c.life = Life::Exited;
            }
        }
        for (i, c) in self.containers.iter().enumerate().skip(self.inits) {
            if c.is_running() {
                actions.push(normal(
                    "Killing",
                    format!("Stopping container {}", c.name()),
                ));
                actions.push(Action::Stop { i, grace });
            }
        }
        // A classic init container still running is stopped with the apps.
        for (i, c) in self.containers.iter().enumerate().take(self.inits) {
            if c.kind == ContainerKind::Init && c.is_running() {
                actions.push(Action::Stop { i, grace });
            }
        }
        self.stage = Stage::Terminating {
            deadline: deadline::after(now, secs(grace)),
            killed: grace == 0,
            sidecars_signaled: false,
        };
        actions
    }

    /// A second delete while the pod stops (`delete --grace-period=0 --force` after a
    /// graceful one): a shorter grace period wins, as kubelet honours a shorter
    /// override; 0 kills everything still running at once.
    pub(super) fn shorten_grace(&mut self, grace: i64, now: Instant) -> Vec<Action> {
        let Stage::Terminating {
            deadline,
            killed: false,
            sidecars_signaled,
        } = self.stage
        else {
            return Vec::new();
        };
        let due = deadline::after(now, secs(grace));
        if due >= deadline {
            return Vec::new();
        }
        self.stage = Stage::Terminating {
            deadline: due,
            killed: false,
            sidecars_signaled,
        };
        for c in &mut self.containers {
            if let Life::Running {
                kill_at: Some(kill_at),
            } = &mut c.life
            {
                *kill_at = (*kill_at).min(due);
            }
        }
        self.grace_period_over(now)
    }

    /// A stop signal went out (after the preStop hook, which may have taken a while):
    /// the container's SIGKILL is due `grace` from now. While the first round of stop
    /// signals goes out, the pod's deadline moves with them.
    pub(super) fn stop_sent(&mut self, i: usize, grace: i64, now: Instant) {
        let due = deadline::after(now, secs(grace));
        if let Life::Running { kill_at } = &mut self.containers[i].life {
            *kill_at = Some(due);
        }
        if let Stage::Terminating {
            deadline,
            sidecars_signaled: false,
            ..
        } = &mut self.stage
        {
            *deadline = (*deadline).max(due);
        }
    }

    /// Sidecars once no app container runs; Done once nothing runs.
    pub(super) fn advance_termination(&mut self, now: Instant) -> Vec<Action> {
        let Stage::Terminating {
            deadline,
            killed,
            sidecars_signaled,
        } = self.stage
        else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        let apps_running = self.containers[self.inits..].iter().any(|c| c.is_running());
        if !sidecars_signaled && !apps_running {
            // Sidecars last, in reverse order, within what is left of the grace.
            let left = if killed {
                0
            } else {
                i64::try_from(deadline.saturating_duration_since(now).as_secs()).unwrap_or(i64::MAX)
            };
            for i in (0..self.inits).rev() {
                if self.containers[i].is_running() {
                    actions.push(Action::Stop { i, grace: left });
                }
            }
            self.stage = Stage::Terminating {
                deadline,
                killed,
                sidecars_signaled: true,
            };
        }
        if self.containers.iter().all(|c| !c.is_running()) {
            self.stage = Stage::Done;
        }
        actions
    }

    /// The grace period is over: SIGKILL for every container still running.
    pub(super) fn grace_period_over(&mut self, now: Instant) -> Vec<Action> {
        let Stage::Terminating {
            deadline,
            killed: false,
            sidecars_signaled,
        } = self.stage
        else {
            return Vec::new();
        };
        if now < deadline {
            return Vec::new();
        }
        self.stage = Stage::Terminating {
            deadline,
            killed: true,
            sidecars_signaled,
        };
        self.running()
            .map(|i| Action::Kill {
                i,
                why: KillReason::GracePeriodOver,
            })
            .collect()
    }

    /// The infra process died and no new sandbox will be made (`restartPolicy:
    /// Never`, every container done, or the pod already stopping): the pod fails and
    /// every container is killed at once, its namespaces being gone.
    pub(super) fn sandbox_ends_pod(&mut self, pid: i32, now: Instant) -> Vec<Action> {
        self.phase = Phase::Failed;
        self.reason = "SandboxDied".into();
        self.message =
            format!("the infra process (PID {pid}) exited; the pod's namespaces are gone");
        let mut actions = vec![warning(
            "SandboxChanged",
            format!("the infra process {pid} exited: pod sandbox gone"),
        )];
        for c in &mut self.containers {
            c.done = true;
            if let Life::BackOff { .. } = c.life {
                c.life = Life::Exited;
            }
        }
        actions.extend(self.kill_for_sandbox());
        self.stage = Stage::Terminating {
            deadline: now,
            killed: true,
            sidecars_signaled: true,
        };
        actions
    }

    /// SIGKILL for every running container: no grace, the namespaces are gone.
    pub(super) fn kill_for_sandbox(&self) -> Vec<Action> {
        self.running()
            .map(|i| Action::Kill {
                i,
                why: KillReason::SandboxGone,
            })
            .collect()
    }

    fn running(&self) -> impl Iterator<Item = usize> + '_ {
        self.containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_running())
            .map(|(i, _)| i)
    }
}

fn secs(grace: i64) -> Duration {
    deadline::seconds(grace)
}

/// A stop signal as images and manifests name it: `SIGQUIT`, `QUIT` or `3`.
pub fn parse_signal(s: &str) -> Option<nix::sys::signal::Signal> {
    use nix::sys::signal::Signal;
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let name = if s.starts_with("SIG") {
        s.to_string()
    } else {
        format!("SIG{s}")
    };
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;

    #[test]
    fn stop_signals_parse() {
        assert_eq!(parse_signal("SIGQUIT"), Some(Signal::SIGQUIT));
        assert_eq!(parse_signal("TERM"), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Some(Signal::SIGKILL));
        assert_eq!(parse_signal("NOPE"), None);
    }
}

//! The infra process died (the pod's sandbox is gone), decided as kubelet's
//! `computePodActions` does when a sandbox changes:
//!
//! 1. every container is killed at once: its namespaces are gone;
//! 2. if a container would still run under the pod's `restartPolicy` (Always;
//!    OnFailure with an app container not yet succeeded), a new sandbox is made once
//!    nothing runs any more: new namespaces, a new IP;
//! 3. the pod starts again from its first init container ("all init containers must
//!    be rerun"), then its app containers; each start counts as a restart, and
//!    follows the container's back-off as any restart does (kubelet's `doBackOff`
//!    runs before every start: the first restart is at once, a container whose
//!    sandbox dies again soon after waits 10 s, then 20 s...).
//!
//! Under `restartPolicy: Never` (or with every container done) no new sandbox is
//! made: the pod fails (`termination::sandbox_ends_pod`).

use super::actions::{normal, warning, Action};
use super::pod_state::{ContainerKind, Life, RestartPolicy, Stage};
use super::policy::PodPolicy;
use crate::pod::status::Phase;
use std::time::Instant;

impl PodPolicy {
    pub(super) fn infra_died(&mut self, pid: i32, now: Instant) -> Vec<Action> {
        if self.is_stopping() {
            // Being deleted (or already done): whatever still runs is killed.
            return self.kill_for_sandbox();
        }
        if let Stage::SandboxGone { .. } = self.stage {
            return Vec::new();
        }
        if !self.sandbox_worth_recreating() {
            return self.sandbox_ends_pod(pid, now);
        }
        let mut actions = vec![normal(
            "SandboxChanged",
            "Pod sandbox changed, it will be killed and re-created.",
        )];
        for c in &mut self.containers {
            // A restart waiting for its back-off happens in the new sandbox instead,
            // not before the back-off is over.
            if let Life::BackOff { until } = c.life {
                c.life = Life::Exited;
                c.resume_at = Some(until);
            }
            // Every init container runs again in the new sandbox.
            if c.kind != ContainerKind::App {
                c.done = false;
            }
        }
        actions.extend(self.kill_for_sandbox());
        self.stage = Stage::SandboxGone { recreating: false };
        actions
    }

    /// kubelet makes no new sandbox for a pod that would not run a container in it:
    /// `restartPolicy: Never`, or OnFailure with every app container succeeded.
    fn sandbox_worth_recreating(&self) -> bool {
        let apps = &self.containers[self.inits..];
        match self.restart_policy {
            RestartPolicy::Never => false,
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => {
                let to_start = apps.iter().any(|c| !(c.done && c.exit_code == Some(0)));
                let initialized = apps.iter().any(|c| c.started_at.is_some());
                to_start || !initialized
            }
        }
    }

    /// Once no container of the dead sandbox runs: ask for a new sandbox.
    pub(super) fn advance_sandbox_gone(&mut self, recreating: bool) -> Vec<Action> {
        if recreating || self.containers.iter().any(|c| c.is_running()) {
            return Vec::new();
        }
        self.stage = Stage::SandboxGone { recreating: true };
        vec![Action::RecreateSandbox]
    }

    /// A container killed because its sandbox died: the restart in the new sandbox is
    /// counted for its back-off (a container the policy would not restart is not).
    pub(super) fn killed_with_sandbox(&mut self, i: usize, code: i32, now: Instant) {
        let c = &self.containers[i];
        if c.done || !self.restart_policy.restarts(c.kind, code) {
            return;
        }
        let delay = self.next_restart_delay(i, now);
        self.containers[i].resume_at = Some(crate::state::deadline::after(now, delay));
    }

    /// The new sandbox is there: the pod starts again from its beginning.
    pub(super) fn sandbox_recreated(&mut self, now: Instant) -> Vec<Action> {
        if self.stage != (Stage::SandboxGone { recreating: true }) {
            return Vec::new();
        }
        let actions = self.begin();
        self.hold_back(actions, now)
    }

    /// A start of a container whose back-off (counted when its sandbox died) is not
    /// over becomes a back-off: the clock starts it when it is (`tick`).
    pub(super) fn hold_back(&mut self, actions: Vec<Action>, now: Instant) -> Vec<Action> {
        actions
            .into_iter()
            .map(|a| match a {
                Action::Start { i, .. } => match self.containers[i].resume_at {
                    Some(until) if until > now => {
                        self.containers[i].life = Life::BackOff { until };
                        Action::BackOff {
                            i,
                            delay: until.saturating_duration_since(now),
                        }
                    }
                    _ => a,
                },
                other => other,
            })
            .collect()
    }

    /// No new sandbox: the pod fails, nothing runs any more.
    pub(super) fn sandbox_failed(&mut self, message: String, now: Instant) -> Vec<Action> {
        self.phase = Phase::Failed;
        self.reason = "SandboxCreationFailed".into();
        self.message = message.clone();
        for c in &mut self.containers {
            c.done = true;
        }
        let mut actions = vec![warning(
            "FailedCreatePodSandBox",
            format!("Failed to create pod sandbox: {message}"),
        )];
        actions.extend(self.stop_pod(0, now));
        actions
    }
}

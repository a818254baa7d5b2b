//! The pod's policy: what should happen next, decided without doing it (kubelet's
//! `computePodActions`). It sees the pod as plain data — which container runs, which
//! waits in back-off, which has finished — and turns an event or a clock tick into a
//! list of [`Action`]s for the executor. No process, file or clock is touched here:
//! the time comes in as `now`, so every rule can be tested as a table.
//!
//! Containers are numbered as in the pod's status: init containers (classic and
//! sidecars) first, in order, then the app containers.

use super::actions::{normal, warning, Action, Event, KillReason};
use super::backoff::{self, Backoff};
use super::pod_state::{ContainerKind, ContainerState, Life, RestartPolicy, Stage};
use crate::pod::probes::{self, Prober, Verdict};
use crate::pod::status::Phase;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use std::time::{Duration, Instant};

/// The whole pod as the policy sees it.
#[derive(Debug)]
pub struct PodPolicy {
    pub containers: Vec<ContainerState>,
    pub stage: Stage,
    pub restart_policy: RestartPolicy,
    /// `terminationGracePeriodSeconds` of the spec.
    pub grace: i64,
    pub backoff: Backoff,
    /// `activeDeadlineSeconds`: when the pod is failed.
    pub active_deadline: Option<Instant>,
    pub phase: Phase,
    pub reason: String,
    pub message: String,
    /// How many of `containers` are init containers (classic or sidecar).
    pub inits: usize,
}

impl PodPolicy {
    pub fn new(spec: &PodSpec, grace: i64, backoff: Backoff, now: Instant) -> PodPolicy {
        let inits: Vec<ContainerState> = spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| ContainerState::new(c.clone(), ContainerKind::of_init(c)))
            .collect();
        let n_inits = inits.len();
        let apps = spec
            .containers
            .iter()
            .map(|c| ContainerState::new(c.clone(), ContainerKind::App));
        PodPolicy {
            containers: inits.into_iter().chain(apps).collect(),
            stage: Stage::Apps,
            restart_policy: RestartPolicy::of(spec),
            grace,
            backoff,
            active_deadline: spec
                .active_deadline_seconds
                .map(|s| crate::state::deadline::after(now, crate::state::deadline::seconds(s))),
            phase: Phase::Pending,
            reason: String::new(),
            message: String::new(),
            inits: n_inits,
        }
    }

    /// The first containers: the first init container, or else every app container.
    pub fn begin(&mut self) -> Vec<Action> {
        if self.inits == 0 {
            self.start_apps()
        } else {
            self.stage = Stage::Init(0);
            vec![self.start(0)]
        }
    }

    fn start_apps(&mut self) -> Vec<Action> {
        self.stage = Stage::Apps;
        // After a new sandbox, an app container that already succeeded (OnFailure)
        // stays done; at the pod's start none is.
        (self.inits..self.containers.len())
            .filter(|&i| !self.containers[i].done)
            .map(|i| self.start(i))
            .collect()
    }

    fn start(&self, i: usize) -> Action {
        Action::Start {
            i,
            restart: self.containers[i].started_at.is_some(),
        }
    }

    pub fn is_stopping(&self) -> bool {
        matches!(self.stage, Stage::Terminating { .. } | Stage::Done)
    }

    /// What container i's status shows as READY.
    pub fn container_ready(&self, i: usize) -> bool {
        let c = &self.containers[i];
        c.ready && c.startup_done && c.is_running()
    }

    /// May probe `probe` of container i run now? (Asked again right before it runs:
    /// an earlier result of the same tick may have changed the answer.)
    pub fn may_probe(&self, i: usize, probe: usize) -> bool {
        let c = &self.containers[i];
        let Some(p) = c.probers.get(probe) else {
            return false;
        };
        let gated = p.kind != probes::Kind::Startup && !c.startup_done;
        c.is_running() && !c.is_stopping() && !gated
    }

    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        match event {
            Event::Started { i } => {
                let c = &mut self.containers[i];
                c.life = Life::Running { kill_at: None };
                c.pulls_failed = 0;
                c.started_at = Some(now);
                c.resume_at = None;
                c.exit_code = None;
                c.probers = Prober::for_container(&c.spec, now);
                c.startup_done = c.spec.startup_probe.is_none();
                c.ready = c.spec.readiness_probe.is_none();
                Vec::new()
            }
            Event::ImagePullFailed { i } => {
                // Kubelet's image back-off (its own count): 10 s doubling to 5
                // minutes, whatever the restart policy, since nothing ran.
                let c = &mut self.containers[i];
                c.pulls_failed = c.pulls_failed.saturating_add(1);
                let delay = self.backoff.delay(c.pulls_failed.saturating_add(1));
                c.life = Life::BackOff {
                    until: crate::state::deadline::after(now, delay),
                };
                vec![Action::BackOff { i, delay }]
            }
            Event::StartFailed { i } => {
                self.containers[i].life = Life::Exited;
                self.containers[i].exit_code = Some(128);
                self.after_exit(i, 128, now)
            }
            Event::Exited { i, code } => {
                let c = &mut self.containers[i];
                c.life = Life::Exited;
                c.exit_code = Some(code);
                c.probers.clear();
                // Killed with a dead sandbox: it starts again in the new one, after
                // its back-off.
                if self.is_stopping() {
                    Vec::new()
                } else if matches!(self.stage, Stage::SandboxGone { .. }) {
                    self.killed_with_sandbox(i, code, now);
                    Vec::new()
                } else {
                    self.after_exit(i, code, now)
                }
            }
            Event::PostStartFailed { i } => vec![Action::Kill {
                i,
                why: KillReason::PostStartFailed,
            }],
            Event::StopSent { i, grace } => {
                self.stop_sent(i, grace, now);
                Vec::new()
            }
            Event::ProbeResult { i, probe, result } => self.probe_result(i, probe, result, now),
            Event::InfraDied { pid } => self.infra_died(pid, now),
            Event::SandboxRecreated => self.sandbox_recreated(now),
            Event::SandboxFailed { message } => self.sandbox_failed(message, now),
            Event::DeleteRequested { grace } => {
                if self.is_stopping() {
                    return self.shorten_grace(grace, now);
                }
                let mut actions = vec![Action::MarkDeletion];
                actions.extend(self.stop_pod(grace, now));
                actions
            }
            Event::Replaced { i, spec } => self.replaced(i, *spec, now),
        }
    }

    /// Kubernetes' restartPolicy after an exit: start again (at once or after the
    /// back-off), or leave the container terminated.
    fn after_exit(&mut self, i: usize, code: i32, now: Instant) -> Vec<Action> {
        let c = &mut self.containers[i];
        if std::mem::take(&mut c.replace_pending) {
            // Replaced, not crashed: no back-off, whatever the policy.
            c.life = Life::BackOff { until: now };
            return Vec::new();
        }
        if !self.restart_policy.restarts(c.kind, code) {
            c.done = true;
            if c.kind == ContainerKind::Init && code != 0 {
                // A failed init container that will not run again fails the pod.
                self.phase = Phase::Failed;
            }
            return Vec::new();
        }
        let delay = self.next_restart_delay(i, now);
        let c = &mut self.containers[i];
        c.life = Life::BackOff {
            until: crate::state::deadline::after(now, delay),
        };
        if delay > Duration::ZERO {
            vec![Action::BackOff { i, delay }]
        } else {
            Vec::new()
        }
    }

    /// One more restart of container i counted for the back-off: the delay before
    /// it. Running ten minutes resets the back-off (not the restart count).
    pub(super) fn next_restart_delay(&mut self, i: usize, now: Instant) -> Duration {
        let c = &mut self.containers[i];
        let ran = c
            .started_at
            .map(|s| now.saturating_duration_since(s))
            .unwrap_or_default();
        if ran > backoff::RESET_AFTER {
            c.crashes = 0;
        }
        c.crashes = c.crashes.saturating_add(1);
        self.backoff.delay(c.crashes)
    }

    fn probe_result(
        &mut self,
        i: usize,
        probe: usize,
        result: Result<(), String>,
        now: Instant,
    ) -> Vec<Action> {
        let grace = self.grace;
        let c = &mut self.containers[i];
        let Some(prober) = c.probers.get_mut(probe) else {
            return Vec::new();
        };
        prober.schedule_next(now);
        let kind = prober.kind;
        match prober.judge(result) {
            Verdict::Unchanged => Vec::new(),
            Verdict::Failed(message) => vec![warning("Unhealthy", message)],
            Verdict::Started => {
                c.startup_done = true;
                Vec::new()
            }
            Verdict::Ready(ready) => {
                c.ready = ready;
                Vec::new()
            }
            Verdict::Restart(message) => vec![
                warning("Unhealthy", message),
                normal(
                    "Killing",
                    format!(
                        "Container {} failed {} probe, will be restarted",
                        c.name(),
                        kind.name().to_lowercase()
                    ),
                ),
                Action::Stop { i, grace },
            ],
        }
    }

    /// A changed container: stop the running instance (its replacement starts at
    /// once), or cut its back-off short.
    fn replaced(&mut self, i: usize, spec: Container, now: Instant) -> Vec<Action> {
        let grace = self.grace;
        let c = &mut self.containers[i];
        c.spec = spec;
        match c.life {
            Life::Running { .. } => {
                c.replace_pending = true;
                vec![
                    normal(
                        "Killing",
                        format!(
                            "Container {} definition changed, will be restarted",
                            c.name()
                        ),
                    ),
                    Action::Stop { i, grace },
                ]
            }
            Life::BackOff { .. } => {
                c.life = Life::BackOff { until: now };
                Vec::new()
            }
            Life::NotStarted | Life::Exited => Vec::new(),
        }
    }

    /// The clock: SIGKILL at the end of a grace period, activeDeadlineSeconds,
    /// restarts whose back-off is over, due probes.
    pub fn tick(&mut self, now: Instant) -> Vec<Action> {
        if let Stage::Terminating { killed: false, .. } = self.stage {
            return self.grace_period_over(now);
        }
        if self.active_deadline.is_some_and(|d| now >= d) && self.stage != Stage::Done {
            return self.deadline_exceeded(now);
        }
        let mut actions = Vec::new();
        for i in 0..self.containers.len() {
            let restart = self.start(i);
            let c = &mut self.containers[i];
            if let Life::Running {
                kill_at: Some(at), ..
            } = c.life
            {
                if at <= now {
                    actions.push(Action::Kill {
                        i,
                        why: KillReason::StopTimedOut,
                    });
                    c.life = Life::Running { kill_at: None };
                }
            }
            if let Life::BackOff { until } = c.life {
                if until <= now {
                    c.life = Life::Exited;
                    actions.push(restart);
                }
            }
            if c.is_running() && !c.is_stopping() {
                for (probe, p) in c.probers.iter().enumerate() {
                    if p.next_at <= now {
                        actions.push(Action::RunProbe { i, probe });
                    }
                }
                actions.push(Action::PublishReady { i });
            }
        }
        actions
    }

    /// `activeDeadlineSeconds` passed: the pod fails and every container stops.
    fn deadline_exceeded(&mut self, now: Instant) -> Vec<Action> {
        self.active_deadline = None;
        self.phase = Phase::Failed;
        self.reason = "DeadlineExceeded".into();
        self.message = "Pod was active on the node longer than the specified deadline".into();
        let mut actions = vec![normal("DeadlineExceeded", self.message.clone())];
        for c in &mut self.containers {
            c.done = true;
            if let Life::BackOff { .. } = c.life {
                c.life = Life::Exited;
            }
        }
        actions.extend(self.stop_pod(self.grace, now));
        actions
    }

    /// Move the pod on: the next init container, the app containers, or the end.
    pub fn advance(&mut self, now: Instant) -> Vec<Action> {
        let actions = match self.stage {
            Stage::Init(i) => self.advance_init(i, now),
            Stage::Apps => {
                if self.containers[self.inits..].iter().all(|c| c.done) {
                    self.stop_pod(self.grace, now)
                } else {
                    Vec::new()
                }
            }
            Stage::SandboxGone { recreating } => self.advance_sandbox_gone(recreating),
            Stage::Terminating { .. } => self.advance_termination(now),
            Stage::Done => Vec::new(),
        };
        let actions = self.hold_back(actions, now);
        self.refresh_phase();
        actions
    }

    fn advance_init(&mut self, i: usize, now: Instant) -> Vec<Action> {
        let c = &self.containers[i];
        let done_ok = c.done && c.exit_code == Some(0);
        // A sidecar lets the next init container start once it runs and its startup
        // probe (if any) passed.
        let sidecar_up = c.kind == ContainerKind::Sidecar && c.is_running() && c.startup_done;
        if self.phase == Phase::Failed {
            self.stop_pod(self.grace, now)
        } else if done_ok || sidecar_up {
            let next = i + 1;
            if next < self.inits {
                self.stage = Stage::Init(next);
                vec![self.start(next)]
            } else {
                self.start_apps()
            }
        } else {
            Vec::new()
        }
    }

    /// The phase from the containers, as Kubernetes derives it. A Failed pod stays so.
    pub fn refresh_phase(&mut self) {
        // While the sandbox is re-created the pod keeps the phase it had.
        if self.phase == Phase::Failed || matches!(self.stage, Stage::SandboxGone { .. }) {
            return;
        }
        let (inits, apps) = self.containers.split_at(self.inits);
        let init_done = matches!(
            self.stage,
            Stage::Apps | Stage::Terminating { .. } | Stage::Done
        ) && inits
            .iter()
            .all(|c| c.done || c.kind == ContainerKind::Sidecar);
        self.phase = if !init_done {
            Phase::Pending
        } else if apps.iter().all(|c| c.done) {
            if apps
                .iter()
                .any(|c| c.exit_code.is_some_and(|code| code != 0))
            {
                Phase::Failed
            } else {
                Phase::Succeeded
            }
        } else if apps.iter().any(ContainerState::waits_never_having_run) {
            // kubelet's getPhase: a container waiting that never terminated (not
            // started yet, or its start failed: CreateContainerConfigError) keeps the
            // pod Pending, whatever the others do.
            Phase::Pending
        } else if apps
            .iter()
            .any(|c| matches!(c.life, Life::Running { .. } | Life::BackOff { .. }))
        {
            Phase::Running
        } else {
            Phase::Pending
        };
    }

    /// When the next timer is due: a SIGKILL, a restart, a probe, the deadline.
    pub fn next_timer(&self) -> Option<Instant> {
        if let Stage::Terminating {
            deadline,
            killed: false,
            ..
        } = self.stage
        {
            return Some(deadline);
        }
        let per_container = self.containers.iter().flat_map(|c| {
            let own = match c.life {
                Life::Running { kill_at } => kill_at,
                Life::BackOff { until } => Some(until),
                Life::NotStarted | Life::Exited => None,
            };
            let probes = c
                .probers
                .iter()
                .filter(|_| c.is_running())
                .map(|p| p.next_at);
            own.into_iter().chain(probes)
        });
        per_container.chain(self.active_deadline).min()
    }
}

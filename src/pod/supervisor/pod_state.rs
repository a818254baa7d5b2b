//! The pod as the policy sees it: plain data, typed states. Which kind each container
//! is, where it is in its life, where the pod is in its own.

use crate::pod::probes::Prober;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use std::time::Instant;

/// The three kinds of container a pod runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    /// A classic init container: runs to completion (exit 0) before the next starts.
    Init,
    /// A native sidecar: an init container with `restartPolicy: Always`. The next
    /// init container starts once it runs; it is stopped after the app containers.
    Sidecar,
    /// An app container (`spec.containers`).
    App,
}

impl ContainerKind {
    /// The kind of an entry of `spec.initContainers`.
    pub fn of_init(c: &Container) -> ContainerKind {
        if c.restart_policy.as_deref() == Some("Always") {
            ContainerKind::Sidecar
        } else {
            ContainerKind::Init
        }
    }
}

/// The pod's `restartPolicy` (Always when not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub fn of(spec: &PodSpec) -> RestartPolicy {
        match spec.restart_policy.as_deref() {
            None | Some("Always") => RestartPolicy::Always,
            Some("OnFailure") => RestartPolicy::OnFailure,
            Some(_) => RestartPolicy::Never,
        }
    }

    /// Does a container of this kind that exited with `code` run again?
    pub fn restarts(self, kind: ContainerKind, code: i32) -> bool {
        match (kind, self) {
            (ContainerKind::Sidecar, _) => true,
            (ContainerKind::Init, RestartPolicy::Never) => false,
            (ContainerKind::Init, _) => code != 0,
            (ContainerKind::App, RestartPolicy::Always) => true,
            (ContainerKind::App, RestartPolicy::OnFailure) => code != 0,
            (ContainerKind::App, RestartPolicy::Never) => false,
        }
    }
}

/// Where one container is in its life.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Life {
    /// Not started yet.
    NotStarted,
    /// Its process runs; once asked to stop, SIGKILL is due at `kill_at`.
    Running { kill_at: Option<Instant> },
    /// Exited, to be started again at `until` (at once, or after its back-off).
    BackOff { until: Instant },
    /// Exited (or failed to start) and not scheduled to start again.
    Exited,
}

/// One container as the policy sees it.
#[derive(Debug)]
pub struct ContainerState {
    pub spec: Container,
    pub kind: ContainerKind,
    pub life: Life,
    /// Will not run again (its restart policy says so, or the pod is failing).
    pub done: bool,
    /// The exit code of its last run (128 for a failed start).
    pub exit_code: Option<i32>,
    /// When its current (or last) instance started.
    pub started_at: Option<Instant>,
    /// Crashes counted for the back-off.
    pub crashes: u32,
    /// Killed with its sandbox (or waiting for its back-off then): not started in the
    /// new sandbox before this (kubelet's back-off applies to every start).
    pub resume_at: Option<Instant>,
    /// Failed tries to get its image, counted for the image back-off.
    pub pulls_failed: u32,
    /// Its image changed: once it has stopped, start it again at once.
    pub replace_pending: bool,
    pub probers: Vec<Prober>,
    /// No startup probe, or it has passed.
    pub startup_done: bool,
    /// No readiness probe, or it says ready.
    pub ready: bool,
}

impl ContainerState {
    /// Waiting (not running, to be started) and never started: a pod holding one is
    /// Pending. A container whose process ran once has a terminated state to show.
    pub fn waits_never_having_run(&self) -> bool {
        !self.done && !self.is_running() && self.started_at.is_none()
    }

    pub fn new(spec: Container, kind: ContainerKind) -> ContainerState {
        ContainerState {
            spec,
            kind,
            life: Life::NotStarted,
            done: false,
            exit_code: None,
            started_at: None,
            crashes: 0,
            resume_at: None,
            pulls_failed: 0,
            replace_pending: false,
            probers: Vec::new(),
            startup_done: true,
            ready: false,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.life, Life::Running { .. })
    }

    /// Asked to stop, and its SIGKILL is scheduled.
    pub fn is_stopping(&self) -> bool {
        matches!(self.life, Life::Running { kill_at: Some(_) })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }
}

/// The pod's progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// Running init container number i.
    Init(usize),
    Apps,
    /// The infra process died: its containers are being killed; once none runs, a
    /// new sandbox is made and the pod starts again from its first init container.
    SandboxGone {
        /// `Action::RecreateSandbox` went out: waiting for the executor's answer.
        recreating: bool,
    },
    /// Stopping the containers: SIGKILL for all at the deadline.
    Terminating {
        deadline: Instant,
        killed: bool,
        /// Sidecars are stopped once the app containers have exited.
        sidecars_signaled: bool,
    },
    Done,
}

//! What the policy asks for ([`Action`]) and what it is told ([`Event`]); the
//! executor that carries the actions out.

pub mod executor;

use crate::pod::events::EventType;
use k8s_openapi::api::core::v1::Container;
use std::time::Duration;

/// Why a container gets SIGKILL (the narration says it, where it did before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReason {
    PostStartFailed,
    GracePeriodOver,
    StopTimedOut,
    SandboxGone,
}

/// What the executor is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start container i; `restart` when an earlier instance of it ran.
    Start {
        i: usize,
        restart: bool,
    },
    /// Its preStop hook (when `grace` > 0), its stop signal (SIGKILL when 0).
    Stop {
        i: usize,
        grace: i64,
    },
    Kill {
        i: usize,
        why: KillReason,
    },
    /// Run probe number `probe` of container i, if it may still run then.
    RunProbe {
        i: usize,
        probe: usize,
    },
    /// Write container i's readiness (from the policy) to its status.
    PublishReady {
        i: usize,
    },
    /// Container i waits `delay` before its restart (CrashLoopBackOff).
    BackOff {
        i: usize,
        delay: Duration,
    },
    Record {
        kind: EventType,
        reason: &'static str,
        message: String,
    },
    /// A delete is in progress (kubectl's Terminating).
    MarkDeletion,
    /// Tear the dead sandbox down (CNI DEL) and make a new one: a new infra process,
    /// new namespaces, a new IP (CNI ADD).
    RecreateSandbox,
}

/// What the executor reports back, or what happened outside.
#[derive(Debug)]
pub enum Event {
    Started {
        i: usize,
    },
    StartFailed {
        i: usize,
    },
    /// Container i's image could not be had (ErrImagePull, InvalidImageName): tried
    /// again after the image back-off, whatever the restart policy.
    ImagePullFailed {
        i: usize,
    },
    Exited {
        i: usize,
        code: i32,
    },
    PostStartFailed {
        i: usize,
    },
    /// The stop signal of an `Action::Stop` was sent (after its preStop hook).
    StopSent {
        i: usize,
        grace: i64,
    },
    ProbeResult {
        i: usize,
        probe: usize,
        result: Result<(), String>,
    },
    InfraDied {
        pid: i32,
    },
    /// A new sandbox holds the pod's namespaces (after `Action::RecreateSandbox`).
    SandboxRecreated,
    /// No new sandbox could be made: why.
    SandboxFailed {
        message: String,
    },
    /// SIGTERM from `delete`, with the grace period it asked for.
    DeleteRequested {
        grace: i64,
    },
    /// `apply` changed the container's image: its new definition.
    Replaced {
        i: usize,
        spec: Box<Container>,
    },
}

pub fn normal(reason: &'static str, message: impl Into<String>) -> Action {
    Action::Record {
        kind: EventType::Normal,
        reason,
        message: message.into(),
    }
}

pub fn warning(reason: &'static str, message: impl Into<String>) -> Action {
    Action::Record {
        kind: EventType::Warning,
        reason,
        message: message.into(),
    }
}

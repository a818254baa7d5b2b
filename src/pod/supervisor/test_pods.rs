//! Pods for the policy's table tests, and what the tests read from the actions.

use super::actions::{Action, Event};
use super::backoff::Backoff;
use super::policy::PodPolicy;
use crate::pod::events::EventType;
use k8s_openapi::api::core::v1::{Container, ExecAction, PodSpec, Probe};
use std::time::{Duration, Instant};

pub const GRACE: i64 = 30;

pub fn app(name: &str) -> Container {
    Container {
        name: name.into(),
        image: Some("busybox:1.36".into()),
        ..Default::default()
    }
}

pub fn sidecar(name: &str) -> Container {
    Container {
        restart_policy: Some("Always".into()),
        ..app(name)
    }
}

pub fn probe(failure_threshold: i32) -> Option<Probe> {
    Some(Probe {
        exec: Some(ExecAction {
            command: Some(vec!["true".into()]),
        }),
        failure_threshold: Some(failure_threshold),
        period_seconds: Some(1),
        ..Default::default()
    })
}

pub fn spec(inits: Vec<Container>, apps: Vec<Container>, restart: Option<&str>) -> PodSpec {
    PodSpec {
        init_containers: Some(inits),
        containers: apps,
        restart_policy: restart.map(String::from),
        ..Default::default()
    }
}

pub fn policy(spec: &PodSpec, t0: Instant) -> PodPolicy {
    PodPolicy::new(spec, GRACE, Backoff::default(), t0)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Carry out the starts as a runtime that never fails would; keep the rest.
pub fn run_starts(p: &mut PodPolicy, actions: Vec<Action>, now: Instant) -> Vec<Action> {
    let mut rest = Vec::new();
    for a in actions {
        match a {
            Action::Start { i, .. } => rest.extend(p.handle(Event::Started { i }, now)),
            other => rest.push(other),
        }
    }
    rest
}

pub fn starts(actions: &[Action]) -> Vec<usize> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Start { i, .. } => Some(*i),
            _ => None,
        })
        .collect()
}

pub fn stops(actions: &[Action]) -> Vec<(usize, i64)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Stop { i, grace } => Some((*i, *grace)),
            _ => None,
        })
        .collect()
}

pub fn reasons(actions: &[Action]) -> Vec<(EventType, &'static str)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Record { kind, reason, .. } => Some((*kind, *reason)),
            _ => None,
        })
        .collect()
}

//! What `kubectl get pods` prints for a pod, derived exactly as kubectl derives it
//! (printPod in kubectl's printers): STATUS, READY and RESTARTS.

use crate::pod::status::{ContainerState, ContainerStatus, PodStatus};
use crate::state::time;
use k8s_openapi::api::core::v1::Pod;

pub struct Row {
    pub ready: String,
    pub status: String,
    pub restarts: String,
}

pub fn row(pod: &Pod, status: &PodStatus) -> Row {
    let spec = pod.spec.clone().unwrap_or_default();
    let inits = spec.init_containers.clone().unwrap_or_default();
    let sidecar = |name: &str| {
        inits
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    let mut reason = if status.reason.is_empty() {
        status.phase.to_string()
    } else {
        status.reason.clone()
    };
    let total = spec.containers.len()
        + inits
            .iter()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"))
            .count();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<String> = None;
    let mut note_restart = |c: &ContainerStatus, restarts: &mut u32| {
        *restarts += c.restart_count;
        if let Some(ContainerState::Terminated { finished_at, .. }) = &c.last_state {
            if last_restart.as_ref().is_none_or(|l| finished_at > l) {
                last_restart = Some(finished_at.clone());
            }
        }
    };

    let mut initializing = false;
    let n_init = status.init_container_statuses.len();
    for (i, c) in status.init_container_statuses.iter().enumerate() {
        note_restart(c, &mut restarts);
        let is_sidecar = sidecar(&c.name);
        if is_sidecar && matches!(c.state, ContainerState::Running { .. }) {
            if c.ready {
                ready += 1;
            }
            continue;
        }
        match &c.state {
            ContainerState::Terminated { exit_code: 0, .. } => continue,
            ContainerState::Terminated {
                exit_code,
                signal,
                reason: r,
                ..
            } => {
                reason = if r.is_empty() {
                    match signal {
                        Some(s) => format!("Init:Signal:{s}"),
                        None => format!("Init:ExitCode:{exit_code}"),
                    }
                } else {
                    format!("Init:{r}")
                };
            }
            ContainerState::Waiting { reason: r, .. }
                if !r.is_empty() && r != "PodInitializing" =>
            {
                reason = format!("Init:{r}");
            }
            _ => reason = format!("Init:{i}/{n_init}"),
        }
        initializing = true;
        break;
    }

    if !initializing {
        let mut has_running = false;
        for c in status.container_statuses.iter().rev() {
            note_restart(c, &mut restarts);
            match &c.state {
                ContainerState::Waiting { reason: r, .. } if !r.is_empty() => reason = r.clone(),
                ContainerState::Terminated { reason: r, .. } if !r.is_empty() => reason = r.clone(),
                ContainerState::Terminated {
                    exit_code, signal, ..
                } => {
                    reason = match signal {
                        Some(s) => format!("Signal:{s}"),
                        None => format!("ExitCode:{exit_code}"),
                    }
                }
                ContainerState::Running { .. } if c.ready => {
                    has_running = true;
                    ready += 1;
                }
                _ => {}
            }
        }
        if reason == "Completed" && has_running {
            reason = if ready == total {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if status.deletion_timestamp.is_some() {
        reason = "Terminating".into();
    }
    let restarts = match last_restart.as_deref().and_then(time::parse) {
        Some(at) if restarts > 0 => format!("{restarts} ({} ago)", time::age(at)),
        _ => restarts.to_string(),
    };
    Row {
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
    }
}

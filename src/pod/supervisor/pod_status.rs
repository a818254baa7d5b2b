//! The pod's status as the supervisor writes it (`status.json`): its first picture,
//! each container's entry, the phase the policy decided.

use super::Supervisor;
use crate::pod::events::{self, EventType};
use crate::pod::record::{self, PodRecord};
use crate::pod::resources;
use crate::pod::status::{ContainerState, ContainerStatus, Phase, PodStatus, ProcessId};
use crate::state::time;
use anyhow::Result;
use k8s_openapi::api::core::v1::Container;
use std::io::Write;
use std::time::{Duration, Instant};

/// Every container waiting, before anything started.
pub(super) fn initial_status(record: &PodRecord) -> PodStatus {
    let spec = record.pod.spec.clone().unwrap_or_default();
    let has_inits = spec.init_containers.as_ref().is_some_and(|i| !i.is_empty());
    let waiting = |c: &Container| ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        image_id: record
            .images
            .get(&c.name)
            .map(|i| i.id.clone())
            .unwrap_or_default(),
        container_id: String::new(),
        state: ContainerState::Waiting {
            reason: if has_inits {
                "PodInitializing".into()
            } else {
                "ContainerCreating".into()
            },
            message: String::new(),
        },
        last_state: None,
        ready: false,
        restart_count: 0,
        process: None,
        user: None,
    };
    PodStatus {
        phase: Phase::Pending,
        reason: String::new(),
        message: String::new(),
        start_time: Some(time::now()),
        deletion_timestamp: None,
        supervisor: ProcessId::of(std::process::id() as i32),
        infra: None,
        qos_class: resources::qos_class(&record.pod).to_string(),
        init_container_statuses: spec.init_containers.iter().flatten().map(waiting).collect(),
        container_statuses: spec.containers.iter().map(waiting).collect(),
        ..Default::default()
    }
}

impl Supervisor {
    pub(super) fn status_mut(&mut self, i: usize) -> &mut ContainerStatus {
        let inits = self.status.init_container_statuses.len();
        if i < inits {
            &mut self.status.init_container_statuses[i]
        } else {
            &mut self.status.container_statuses[i - inits]
        }
    }

    /// The pod's phase and why, as the policy decided them.
    pub(super) fn sync_pod_status(&mut self) {
        self.status.phase = self.policy.phase;
        self.status.reason.clone_from(&self.policy.reason);
        self.status.message.clone_from(&self.policy.message);
    }

    pub(super) fn save_status(&self) -> Result<()> {
        record::save_status(&self.paths, &self.status)
    }
}

/// A status that could not be written, tried again with a growing pause.
pub(super) struct StatusRetry {
    pub at: Instant,
    pause: Duration,
    failures: u32,
}

impl Supervisor {
    /// Write the status; when that fails (a full disk), the pod runs on: the failure is
    /// reported once (supervisor log, an event if one fits) and the write is tried
    /// again after 100 ms, 200 ms, ... up to 10 s, and on every change meanwhile.
    pub(super) fn persist_status(&mut self) {
        match self.save_status() {
            Ok(()) => {
                if let Some(retry) = self.status_retry.take() {
                    events::record(
                        &self.paths,
                        EventType::Normal,
                        "StatusWritten",
                        format!(
                            "the pod's status is written again, after {} failed attempts",
                            retry.failures
                        ),
                    );
                }
            }
            Err(err) => {
                let (pause, failures) = match &self.status_retry {
                    Some(r) => ((r.pause * 2).min(Duration::from_secs(10)), r.failures + 1),
                    None => {
                        let message = format!("cannot write the pod's status, retrying: {err:#}");
                        // Not eprintln!: it panics when the log is on the full disk.
                        let _ = writeln!(std::io::stderr(), "{message}");
                        events::record(
                            &self.paths,
                            EventType::Warning,
                            "FailedStatusWrite",
                            message,
                        );
                        (Duration::from_millis(100), 1)
                    }
                };
                self.status_retry = Some(StatusRetry {
                    at: Instant::now() + pause,
                    pause,
                    failures,
                });
            }
        }
    }
}

//! The pod's status as the supervisor writes it (`status.json`): its first picture,
//! each container's entry, the phase the policy decided.

use super::Supervisor;
use crate::pod::record::{self, PodRecord};
use crate::pod::resources;
use crate::pod::status::{ContainerState, ContainerStatus, Phase, PodStatus, ProcessId};
use crate::state::time;
use anyhow::Result;
use k8s_openapi::api::core::v1::Container;

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

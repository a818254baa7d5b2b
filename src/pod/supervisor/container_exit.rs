//! A container's end as the pod records it: its last output drained, its overlay
//! unmounted, its cgroup removed, its terminated state (exit code, OOMKilled, the
//! termination message) and an `Exited` event.

use super::Supervisor;
use crate::narration;
use crate::pod::events::{self, EventType};
use crate::pod::status::ContainerState;
use crate::pod::{resources, termination_message};
use crate::runtime::cgroups;
use crate::state::time;

impl Supervisor {
    /// Container i's process exited with `code` (128 + N when killed by signal N).
    pub(super) fn record_exit(&mut self, i: usize, code: i32, signal: Option<i32>) {
        // Drain what is left in the pipes before the exit is recorded.
        let mut buf = vec![0u8; 64 * 1024];
        while !self.slots[i].outputs.is_empty() {
            let before = self.slots[i].outputs.len();
            self.read_output(i, 0, &mut buf);
            if self.slots[i].outputs.len() == before {
                // Still open (a grandchild holds it): stop draining, keep polling it.
                break;
            }
        }
        let name = self.slots[i].container.name.clone();
        self.slots[i].pid = None;
        self.slots[i].process_spec = None;
        // Attached clients see the end; a restarted instance gets a new stdin.
        self.slots[i].attach = None;
        self.unmount_rootfs(i);
        let started_at = match &self.status_mut(i).state {
            ContainerState::Running { started_at } => started_at.clone(),
            _ => time::now(),
        };
        // The kernel counts OOM kills per cgroup: that is how kubelet tells OOMKilled.
        let cgroup = resources::pod_cgroup(self.record.uid()).join(&name);
        let reason = if cgroups::oom_killed(&cgroup) {
            "OOMKilled"
        } else if code == 0 {
            "Completed"
        } else {
            "Error"
        };
        cgroups::remove(&cgroup);
        let policy = self.slots[i].container.termination_message_policy.clone();
        let restart = self.status_mut(i).restart_count;
        let message = termination_message::read(
            &self.paths,
            &name,
            policy.as_deref(),
            code,
            &self.paths.log_file(&name, restart),
        );
        let st = self.status_mut(i);
        st.state = ContainerState::Terminated {
            exit_code: code,
            signal,
            reason: reason.into(),
            message,
            started_at,
            finished_at: time::now(),
        };
        st.ready = false;
        st.process = None;
        events::record(
            &self.paths,
            if code == 0 {
                EventType::Normal
            } else {
                EventType::Warning
            },
            "Exited",
            format!("container {name} exited with code {code}"),
        );
    }

    pub(super) fn unmount_rootfs(&mut self, i: usize) {
        if let Some(rootfs) = self.slots[i].rootfs_mounted.take() {
            narration::set_actor(&self.slots[i].container.name);
            drop(rootfs);
            narration::set_actor("pod");
        }
    }
}

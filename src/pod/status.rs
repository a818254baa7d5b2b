//! What the supervisor knows about a running pod, written atomically to the pod's
//! `status.json` on every change and read by `get`, `describe`, `logs`, `delete`.

use crate::runtime::procfs;
use serde::{Deserialize, Serialize};

/// A process as recorded: its host PID and its start time (field 22 of
/// `/proc/PID/stat`), so a PID reused by another process is never mistaken for ours.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ProcessId {
    pub pid: i32,
    pub start_time: u64,
}

impl ProcessId {
    pub fn of(pid: i32) -> Option<ProcessId> {
        procfs::start_time(pid).map(|start_time| ProcessId { pid, start_time })
    }

    /// Is this very process still there (and not a zombie)?
    pub fn is_alive(&self) -> bool {
        procfs::is_running(self.pid, self.start_time)
    }
}

impl ProcessId {
    /// Wait until this process has exited, at most `limit`, calling `tick` at least
    /// every 50 ms meanwhile. Waits on a pidfd (the kernel says when the process
    /// ends) rather than by sleeping: this need not be our child. True when it ended.
    pub fn wait_exit(&self, limit: std::time::Duration, tick: &mut dyn FnMut()) -> bool {
        // SAFETY: pidfd_open(2) takes a PID and flags and returns a new descriptor.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid, 0) };
        if fd < 0 {
            return !self.is_alive();
        }
        // SAFETY: the descriptor was just returned to us and is owned here only.
        let pidfd =
            unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
        // The PID may have been reused between our record and pidfd_open.
        if !self.is_alive() {
            return true;
        }
        let until = crate::state::deadline::from_now(limit);
        loop {
            tick();
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            let ms = left.as_millis().min(50) as u16;
            let mut fds = [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&pidfd),
                nix::poll::PollFlags::POLLIN,
            )];
            if let Ok(n) = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms)) {
                if n > 0 {
                    tick();
                    return true;
                }
            }
        }
    }
}

/// A pod's phase, as Kubernetes names it (written with these very words to
/// `status.json` and printed as they are).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum Phase {
    /// Accepted, but not every container has started (init containers still running).
    #[default]
    Pending,
    /// Bound and started: at least one container runs or is restarting.
    Running,
    /// Every container exited 0 and none will restart.
    Succeeded,
    /// Every container stopped and one failed (or the pod failed as a whole).
    Failed,
    /// The supervisor is gone while the pod was not finished: nobody can tell.
    Unknown,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }

    /// Succeeded or Failed: nothing of the pod will run again.
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ContainerState {
    Waiting {
        reason: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        message: String,
    },
    Running {
        started_at: String,
    },
    Terminated {
        exit_code: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
        reason: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        message: String,
        started_at: String,
        finished_at: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    #[serde(rename = "imageID")]
    pub image_id: String,
    /// `minipod://<pod uid>/<name>/<restart>`.
    #[serde(rename = "containerID")]
    pub container_id: String,
    pub state: ContainerState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<ContainerState>,
    pub ready: bool,
    pub restart_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessId>,
    /// The identity the container's process was started with, as kubelet reports it
    /// (`user.linux.uid`, `gid`, `supplementalGroups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<ContainerUser>,
}

/// `status.containerStatuses[].user`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContainerUser {
    pub linux: LinuxContainerUser,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LinuxContainerUser {
    pub uid: u32,
    pub gid: u32,
    pub supplemental_groups: Vec<u32>,
}

/// One entry of `podIPs` / `hostIPs`: `{"ip": "10.244.0.5"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PodIp {
    pub ip: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Set when a delete is in progress (kubectl's `Terminating`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<ProcessId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infra: Option<ProcessId>,
    /// The pod's own address from its CNI network (kubelet's `status.podIP`).
    #[serde(default, rename = "podIP", skip_serializing_if = "String::is_empty")]
    pub pod_ip: String,
    #[serde(default, rename = "podIPs", skip_serializing_if = "Vec::is_empty")]
    pub pod_ips: Vec<PodIp>,
    /// The node's address.
    #[serde(default, rename = "hostIP", skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
    #[serde(default, rename = "hostIPs", skip_serializing_if = "Vec::is_empty")]
    pub host_ips: Vec<PodIp>,
    /// Guaranteed, Burstable or BestEffort, from the containers' resources.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub qos_class: String,
    // Omitted when empty, as the API server omits it (`get -o yaml`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    pub container_statuses: Vec<ContainerStatus>,
}

impl PodStatus {
    pub fn all_containers(&self) -> impl Iterator<Item = &ContainerStatus> {
        self.init_container_statuses
            .iter()
            .chain(self.container_statuses.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_written_with_kubernetes_words() {
        for (phase, word) in [
            (Phase::Pending, "Pending"),
            (Phase::Running, "Running"),
            (Phase::Succeeded, "Succeeded"),
            (Phase::Failed, "Failed"),
            (Phase::Unknown, "Unknown"),
        ] {
            assert_eq!(
                serde_json::to_string(&phase).unwrap(),
                format!("\"{word}\"")
            );
            assert_eq!(phase.to_string(), word);
            let back: Phase = serde_json::from_str(&format!("\"{word}\"")).unwrap();
            assert_eq!(back, phase);
        }
    }
}

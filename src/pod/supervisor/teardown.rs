//! The pod's end, once every container has stopped: the host-port forwarder, the
//! infra process last, then the pod's mounts and cgroup. And the last resort after
//! an error: no process of the pod survives its supervisor.

use super::Supervisor;
use crate::pod::resources;
use crate::runtime;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

impl Supervisor {
    /// Everything is stopped: the infra process goes last, then the pod's mounts.
    pub(super) fn teardown(&mut self) {
        self.stop_host_ports();
        self.detach_network();
        if let Some(infra) = self.infra.take() {
            let _ = runtime::process::signal(
                "infra",
                infra,
                Signal::SIGTERM,
                "the last process of the pod: its namespaces go with it",
            );
            wait_or_kill(infra, Duration::from_secs(2));
        }
        for i in 0..self.slots.len() {
            self.unmount_rootfs(i);
        }
        runtime::pod_mounts::unmount(
            &self.paths.shm(),
            "the pod's /dev/shm: shared memory goes with the pod",
        );
        resources::remove_pod_cgroup(self.record.uid());
        if let Some(range) = self.userns.take() {
            range.release();
        }
        self.status.infra = None;
        self.status.supervisor = None;
        let _ = self.save_status();
    }

    /// Last resort after an error: kill and reap every process of the pod at once.
    pub(super) fn kill_everything(&mut self) {
        self.stop_host_ports();
        for slot in &self.slots {
            if let Some(pid) = slot.pid {
                let _ = kill(pid, Signal::SIGKILL);
                let _ = waitpid(pid, None);
            }
        }
        self.detach_network();
        if let Some(infra) = self.infra.take() {
            let _ = kill(infra, Signal::SIGKILL);
            let _ = waitpid(infra, None);
        }
        for i in 0..self.slots.len() {
            self.unmount_rootfs(i);
        }
        resources::remove_pod_cgroup(self.record.uid());
        if let Some(range) = self.userns.take() {
            range.release();
        }
    }

    /// Before the infra process goes: the forwarder is still running then, so its PID
    /// is still ours (our reap loop only reaps it if it died on its own). After the
    /// infra died, the forwarder may have ended and been reaped already: `try_wait`
    /// then fails (ECHILD) and no signal goes to a PID that may be someone else's.
    pub(super) fn stop_host_ports(&mut self) {
        if let Some(mut child) = self.host_ports.take() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn wait_or_kill(pid: Pid, grace: Duration) {
    let until = crate::state::deadline::from_now(grace);
    while Instant::now() < until {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(5)),
            _ => return,
        }
    }
    let _ = kill(pid, Signal::SIGKILL);
    let _ = waitpid(pid, None);
}

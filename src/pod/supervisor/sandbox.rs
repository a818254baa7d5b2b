//! The pod's sandbox from the executor's side: the infra process that holds the
//! pod's namespaces, its /dev/shm, its network (CNI ADD) and host ports; and, when it died, a new
//! one in its place (kubelet's `SyncPod` with `CreateSandbox`, see `sandbox_policy`).

use super::actions::Event;
use super::Supervisor;
use crate::narration::step;
use crate::pod::events::{self, EventType};
use crate::pod::status::ProcessId;
use crate::pod::{container_spec, infra};
use crate::runtime;
use anyhow::{Context, Result};

impl Supervisor {
    /// A new infra process (new namespaces, the pod's hostname set in its UTS
    /// namespace), its network (CNI ADD: the pod's IP) and its host ports.
    pub(super) fn start_sandbox(&mut self) -> Result<()> {
        self.new_shm()?;
        let hostname = container_spec::pod_hostname(&self.record.pod);
        let share_pid = self
            .record
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.share_process_namespace)
            .unwrap_or(false);
        let cgroup = crate::pod::resources::infra_cgroup(self.record.uid());
        let infra = infra::start(
            &self.paths,
            &hostname,
            share_pid,
            self.host_network(),
            &crate::pod::security::InfraSecurity {
                userns: self.userns.as_ref().map(|r| r.host_start),
                ..crate::pod::security::infra_security(&self.record.pod)
            },
            &cgroup,
            &mut self.seccomp_programs,
        )?;
        self.infra = Some(infra);
        self.status.infra = ProcessId::of(infra.as_raw());
        self.attach_network(infra)?;
        if !self.host_network() {
            self.host_ports =
                crate::net::port_forward::start_host_ports(&self.record.pod, infra.as_raw())?;
        }
        events::record(
            &self.paths,
            EventType::Normal,
            "SandboxReady",
            format!("infra process {infra} holds the pod's namespaces"),
        );
        self.persist_status();
        Ok(())
    }

    /// The sandbox's /dev/shm, one tmpfs for every container of the pod (an IPC
    /// namespace does not cover it). As containerd keeps it under the sandbox's
    /// directory, a new sandbox has a new, empty one: what the old containers left in
    /// shared memory went with their sandbox.
    fn new_shm(&mut self) -> Result<()> {
        let shm = self.paths.shm();
        if shm.exists() {
            runtime::pod_mounts::unmount(
                &shm,
                "the old sandbox's /dev/shm: its shared memory goes with it",
            );
        }
        std::fs::create_dir_all(&shm).with_context(|| format!("create {}", shm.display()))?;
        runtime::pod_mounts::tmpfs(
            "shm",
            &shm,
            "mode=1777,size=65536k",
            true,
            "one /dev/shm for the whole pod: an IPC namespace does not cover it",
        )
    }

    /// The infra process died and every container of its sandbox has stopped: tear
    /// the old sandbox down, make a new one, tell the policy.
    pub(super) fn recreate_sandbox(&mut self) {
        step(
            "re-create the pod sandbox",
            "the old namespaces are gone: a new infra process, a new network namespace, a new IP",
        );
        // The forwarder reached the pod through the old namespace.
        self.stop_host_ports();
        // CNI DEL through the namespace we still hold open: the bridge plugin frees
        // the old IP and removes the old veth.
        self.detach_network();
        self.status.pod_ip.clear();
        self.status.pod_ips.clear();
        let event = match self.start_sandbox().context("re-create the pod sandbox") {
            Ok(()) => Event::SandboxRecreated,
            Err(e) => {
                // Whatever half of it started goes with the pod.
                if let Some(infra) = self.infra.take() {
                    let _ = nix::sys::signal::kill(infra, nix::sys::signal::Signal::SIGKILL);
                }
                self.detach_network();
                Event::SandboxFailed {
                    message: format!("{e:#}"),
                }
            }
        };
        self.handle(event);
    }
}

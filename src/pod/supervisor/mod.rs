//! The per-pod supervisor (our "shim", like conmon or containerd-shim): the program
//! `minipod-shim <uid>` (`entry`), detached from the CLI, parent of the infra process and of every container.
//!
//! It runs in a mount namespace of its own, so the pod's mounts (container rootfs
//! overlays, the shared /dev/shm tmpfs, Memory emptyDirs) live and die with it and
//! never appear in the host's mount table. It is a child subreaper: orphans of the
//! pod come back to it and are reaped. One thread, one `poll` loop over a signalfd
//! (SIGCHLD, SIGTERM, SIGINT, SIGUSR1) and the containers' stdout/stderr pipes.
//!
//! Deciding and doing are apart, as in kubelet (`computePodActions`, then `SyncPod`):
//! - `policy` (with `pod_state`, `termination`, `backoff`): pure; an event or a
//!   clock tick in, a list of `actions` out; tested as tables (`*_tests`);
//! - `actions::executor`: carries the actions out and reports what happened back;
//! - `container_start`, `container_exit`: a container's start and its end, on disk
//!   and in the status (`pod_status`); `pod_mounts`: every mount; `teardown`: the
//!   pod's end.

mod actions;
pub(crate) mod attach;
mod backoff;
mod container_exit;
mod container_start;
pub mod entry;
mod image_pull;
mod network;
mod pod_state;
mod pod_status;
mod policy;
mod resident;
mod sandbox;
mod sandbox_policy;
mod teardown;
mod termination;

#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod sandbox_tests;
#[cfg(test)]
mod termination_tests;
#[cfg(test)]
mod test_pods;

pub use termination::parse_signal;

use super::cri_log::{LogWriter, Stream};
use super::paths::PodPaths;
use super::record::PodRecord;
use super::status::{Phase, PodStatus};
use super::{etc_files, volumes};
use crate::narration::{self, step};
use crate::pod::exec::ContainerEntry;
use crate::runtime::{self, RootfsMount};
use crate::state::paths::StateRoot;
use actions::Event;
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Container;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use pod_state::Stage;
use policy::PodPolicy;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::Instant;

/// What the supervisor tells the CLI that started it, once: the pod runs, or why not.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub enum Readiness {
    Started,
    Failed(String),
}

/// What the supervisor holds for one container of the pod: the things a policy cannot
/// (its process, its pipes, its log, its mounted rootfs).
struct Slot {
    container: Container,
    pid: Option<Pid>,
    outputs: Vec<(OwnedFd, Stream)>,
    log: Option<LogWriter>,
    rootfs_mounted: Option<RootfsMount>,
    /// What exec probes and hooks get in the running instance: its process settings,
    /// cgroup and seccomp profile.
    process_spec: Option<ContainerEntry>,
    /// With `stdin`/`tty`: the other end of its stdin and the `attach` clients.
    attach: Option<attach::Attach>,
}

pub struct Supervisor {
    record: PodRecord,
    paths: PodPaths,
    status: PodStatus,
    slots: Vec<Slot>,
    policy: PodPolicy,
    volume_sources: BTreeMap<String, PathBuf>,
    infra: Option<Pid>,
    ready: Option<File>,
    /// `minipod-shim host-ports`, when the pod has hostPorts (see net::port_forward).
    host_ports: Option<std::process::Child>,
    /// The pod's CNI network (see `network`).
    net: network::PodNet,
    /// Set while the status cannot be written (a full disk): when to try again.
    status_retry: Option<pod_status::StatusRetry>,
    /// The pod's seccomp filters, each distinct profile compiled once (the infra and
    /// the containers, their restarts, their exec probes share them).
    seccomp_programs: runtime::seccomp::Programs,
    /// Every capability this kernel has (what privileged and `add: [ALL]` give).
    host_capabilities: std::collections::HashSet<oci_spec::runtime::Capability>,
    /// `hostUsers: false`: the pod's block of host ids (see `security::userns`).
    userns: Option<crate::pod::security::userns::PodRange>,
    /// The state root (its image store: an image missing at apply is looked up again
    /// at each try, see `image_pull`).
    state: StateRoot,
}

/// The supervisor of pod `uid` (`minipod-shim <uid>`, see `entry`); `ready` is the pipe to the waiting CLI.
pub fn run(state: &StateRoot, uid: &str, ready: Option<File>) -> Result<()> {
    let record_path = state.pod_run(uid).join("pod.json");
    let bytes = std::fs::read(&record_path)
        .with_context(|| format!("read the pod record {}", record_path.display()))?;
    let record: PodRecord = serde_json::from_slice(&bytes)
        .with_context(|| format!("read the pod record {}", record_path.display()))?;
    let paths = record.paths(state);
    let steps = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.steps())
        .with_context(|| format!("open {}", paths.steps().display()))?;
    narration::set_sink(narration::Sink::JsonLines(Box::new(steps)));
    narration::set_actor("pod");

    let spec = record.pod.spec.clone().unwrap_or_default();
    let policy = PodPolicy::new(
        &spec,
        record.grace_period(),
        backoff::Backoff::from_env(),
        Instant::now(),
    );
    let slots = policy
        .containers
        .iter()
        .map(|c| Slot {
            container: c.spec.clone(),
            pid: None,
            outputs: Vec::new(),
            log: None,
            rootfs_mounted: None,
            process_spec: None,
            attach: None,
        })
        .collect();
    let status = pod_status::initial_status(&record);
    let mut sup = Supervisor {
        record,
        paths,
        status,
        slots,
        policy,
        volume_sources: BTreeMap::new(),
        infra: None,
        ready,
        host_ports: None,
        net: network::PodNet::new(crate::net::pod_network::NetworkSetup::for_state(state)),
        status_retry: None,
        seccomp_programs: Default::default(),
        host_capabilities: crate::pod::security::privileges::host_capabilities(),
        userns: None,
        state: state.clone(),
    };
    let result = sup.allocate_user_namespace(state).and_then(|()| sup.run());
    if let Err(err) = &result {
        sup.notify(Readiness::Failed(format!("{err:#}")));
        sup.status.phase = Phase::Failed;
        sup.status.message = format!("{err:#}");
        sup.kill_everything();
        let _ = sup.save_status();
    }
    result
}

impl Supervisor {
    /// `hostUsers: false`: the pod's block of host ids, before anything is made.
    fn allocate_user_namespace(&mut self, state: &StateRoot) -> Result<()> {
        use crate::pod::security::userns;
        if userns::wants_own_users(&self.record.pod) {
            let range = userns::allocate(state, self.record.uid())?;
            narration::step(
                format!(
                    "claim host ids {}-{} for the pod's user namespace",
                    range.host_start,
                    u64::from(range.host_start) + u64::from(userns::LENGTH) - 1
                ),
                "hostUsers: false: no other pod has these ids",
            );
            self.userns = Some(range);
        }
        Ok(())
    }

    fn run(&mut self) -> Result<()> {
        runtime::process::become_subreaper()?;
        // The CLI that started us may be gone (Ctrl-C): our answer to it then meets a
        // closed pipe, which must be an error to ignore, never a signal that kills
        // the pod. SAFETY: signal(2) with SIG_IGN installs no handler code.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        // The pod's network namespace is pinned in the host's mounts (it outlives us).
        crate::net::netns_pin::remember_host_mounts()?;
        runtime::pod_mounts::private_mount_namespace()?;
        crate::net::netns_pin::forget_copies();

        let mut mask = SigSet::empty();
        for s in [
            Signal::SIGCHLD,
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGUSR1,
        ] {
            mask.add(s);
        }
        mask.thread_block()
            .context("block SIGCHLD/SIGTERM/SIGINT/SIGUSR1")?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .context("signalfd")?;
        self.save_status()?;

        self.prepare_pod()?;
        self.start_sandbox()?;
        self.persist_status();

        // The first containers (the first init container, or the apps): a failure
        // here is the apply's error.
        let first = self.policy.begin();
        self.start_first(first)?;
        self.policy.refresh_phase();
        self.sync_pod_status();
        self.persist_status();
        self.notify(Readiness::Started);
        // What only the start needed (its code, its heap) need not stay resident.
        resident::shed();

        self.event_loop(&signals)?;
        self.teardown();
        Ok(())
    }

    /// Volumes and the pod's /etc files (its /dev/shm belongs to the sandbox).
    fn prepare_pod(&mut self) -> Result<()> {
        self.volume_sources = volumes::prepare(&self.record.pod, &self.paths)?;
        etc_files::write(&self.record.pod, &self.paths)
    }

    fn event_loop(&mut self, signals: &SignalFd) -> Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        while self.policy.stage != Stage::Done {
            let next = match (self.policy.next_timer(), &self.status_retry) {
                (Some(at), Some(retry)) => Some(at.min(retry.at)),
                (at, retry) => at.or(retry.as_ref().map(|r| r.at)),
            };
            let timeout = match next {
                Some(at) => {
                    let ms = at.saturating_duration_since(Instant::now()).as_millis();
                    PollTimeout::try_from(ms.min(60_000) as u64 + 1).unwrap_or(PollTimeout::MAX)
                }
                None => PollTimeout::NONE,
            };
            let mut ready_outputs = Vec::new();
            let mut ready_attach = Vec::new();
            let signal_ready;
            {
                let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
                let mut owners = Vec::new();
                for (si, slot) in self.slots.iter().enumerate() {
                    for (oi, (fd, _)) in slot.outputs.iter().enumerate() {
                        fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
                        owners.push((si, oi));
                    }
                }
                // Attach sockets and their clients, after the outputs.
                let outputs = owners.len();
                for (si, slot) in self.slots.iter().enumerate() {
                    for (k, fd) in slot.attach.iter().flat_map(|a| a.fds()).enumerate() {
                        fds.push(PollFd::new(fd, PollFlags::POLLIN));
                        owners.push((si, k));
                    }
                }
                match poll(&mut fds, timeout) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(e).context("poll"),
                }
                signal_ready = fds[0].revents().is_some_and(|r| !r.is_empty());
                for (k, fd) in fds.iter().enumerate().skip(1) {
                    if fd.revents().is_some_and(|r| !r.is_empty()) {
                        if k - 1 < outputs {
                            ready_outputs.push(owners[k - 1]);
                        } else {
                            ready_attach.push(owners[k - 1]);
                        }
                    }
                }
            }
            // Clients' input first (last to first: a leaving client shifts the rest).
            for (si, k) in ready_attach.into_iter().rev() {
                if let Some(attach) = self.slots[si].attach.as_mut() {
                    attach.ready(k);
                }
            }
            // Output first, so a container's last words are logged before its exit.
            for (si, oi) in ready_outputs.into_iter().rev() {
                self.read_output(si, oi, &mut buf);
            }
            if signal_ready {
                while let Ok(Some(info)) = signals.read_signal() {
                    match Signal::try_from(info.ssi_signo as i32) {
                        Ok(Signal::SIGCHLD) => self.reap(),
                        Ok(Signal::SIGTERM) | Ok(Signal::SIGINT) => {
                            let grace = requested_grace(&self.paths)
                                .unwrap_or_else(|| self.record.grace_period());
                            self.handle(Event::DeleteRequested { grace });
                        }
                        Ok(Signal::SIGUSR1) => self.reload_images(),
                        _ => {}
                    }
                }
            }
            let is_start = |a: &actions::Action| matches!(a, actions::Action::Start { .. });
            let actions = self.policy.tick(Instant::now());
            let mut started = actions.iter().any(is_start);
            self.apply(actions);
            let actions = self.policy.advance(Instant::now());
            started |= actions.iter().any(is_start);
            self.apply(actions);
            self.policy.refresh_phase();
            self.sync_pod_status();
            self.persist_status();
            if started {
                // A (re)start ran the runtime's code again: unmap it again.
                resident::shed();
            }
        }
        Ok(())
    }

    fn read_output(&mut self, si: usize, oi: usize, buf: &mut [u8]) {
        let slot = &mut self.slots[si];
        let (fd, stream) = &slot.outputs[oi];
        let stream = *stream;
        match nix::unistd::read(fd, buf) {
            Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => {}
            Ok(0) | Err(_) => {
                if let Some(log) = slot.log.as_mut() {
                    let _ = log.finish(stream);
                }
                slot.outputs.remove(oi);
            }
            Ok(n) => {
                if let Some(log) = slot.log.as_mut() {
                    let _ = log.write(stream, &buf[..n]);
                }
                if let Some(attach) = slot.attach.as_mut() {
                    attach.broadcast(&buf[..n]);
                }
            }
        }
    }

    /// Reap every child that has exited: containers, the infra process, orphans.
    fn reap(&mut self) {
        loop {
            let status = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(s) => s,
            };
            let (pid, code, signal) = match status {
                WaitStatus::Exited(pid, code) => (pid, code, None),
                WaitStatus::Signaled(pid, sig, _) => (pid, 128 + sig as i32, Some(sig as i32)),
                _ => continue,
            };
            if Some(pid) == self.infra {
                self.infra = None;
                step(
                    format!("infra process {pid} exited"),
                    "the pod's namespaces are gone: every container dies with them",
                );
                self.status.infra = None;
                self.handle(Event::InfraDied { pid: pid.as_raw() });
            } else if let Some(i) = self.slots.iter().position(|s| s.pid == Some(pid)) {
                self.record_exit(i, code, signal);
                self.handle(Event::Exited { i, code });
            }
            // Anything else was an orphan handed to us as subreaper: reaped, done.
        }
    }

    /// `apply` changed containers' images (SIGUSR1): replace each changed container,
    /// as kubelet does when a container's spec changes.
    fn reload_images(&mut self) {
        let path = self.paths.record();
        let Ok(record) = std::fs::read(&path)
            .map_err(anyhow::Error::from)
            .and_then(|b| serde_json::from_slice::<PodRecord>(&b).map_err(anyhow::Error::from))
        else {
            return;
        };
        let spec = record.pod.spec.clone().unwrap_or_default();
        for i in 0..self.slots.len() {
            let name = self.slots[i].container.name.clone();
            let Some(new) = spec
                .init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter())
                .find(|c| c.name == name)
                .cloned()
            else {
                continue;
            };
            if new.image == self.slots[i].container.image {
                continue;
            }
            let image_id = record
                .images
                .get(&name)
                .map(|m| m.id.clone())
                .unwrap_or_default();
            self.slots[i].container = new.clone();
            let st = self.status_mut(i);
            st.image = new.image.clone().unwrap_or_default();
            st.image_id = image_id;
            self.handle(Event::Replaced {
                i,
                spec: Box::new(new),
            });
        }
        self.policy.grace = record.grace_period();
        self.record = record;
        self.give_pod_its_addresses();
    }

    fn notify(&mut self, readiness: Readiness) {
        if let Some(mut pipe) = self.ready.take() {
            if let Ok(mut line) = serde_json::to_vec(&readiness) {
                line.push(b'\n');
                let _ = pipe.write_all(&line);
            }
        }
    }
}

/// The grace period `delete` asked for, if any.
fn requested_grace(paths: &PodPaths) -> Option<i64> {
    let text = std::fs::read_to_string(paths.delete_request()).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("gracePeriodSeconds")?.as_i64()
}

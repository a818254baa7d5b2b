//! The per-pod supervisor (our "shim", like conmon or containerd-shim): `minipod shim
//! <uid>`, detached from the CLI, parent of the infra process and of every container.
//!
//! It runs in a mount namespace of its own, so the pod's mounts (container rootfs
//! overlays, the shared /dev/shm tmpfs, Memory emptyDirs) live and die with it and
//! never appear in the host's mount table. It is a child subreaper: orphans of the
//! pod come back to it and are reaped. One thread, one `poll` loop over a signalfd
//! (SIGCHLD, SIGTERM, SIGINT) and the containers' stdout/stderr pipes.

use super::container_spec::{self, SpecInputs};
use super::cri_log::{LogWriter, Stream};
use super::paths::PodPaths;
use super::probes::{self, Prober, Verdict};
use super::record::{self, PodRecord};
use super::status::{ContainerState, ContainerStatus, PodStatus, ProcessId};
use super::{
    etc_files, events, hooks, image_user, infra, probe_actions, resources, termination_message,
    volumes,
};
use crate::narration::{self, step};
use crate::runtime::{self, cgroups, RootfsMount};
use crate::state::paths::StateRoot;
use crate::state::time;
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Container;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What the supervisor tells the CLI that started it, once: the pod runs, or why not.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub enum Readiness {
    Started,
    Failed(String),
}

/// Kubelet's crash-loop back-off: the first restart at once, then 10 s doubling to a
/// 5-minute cap. `MINIPOD_BACKOFF_SECONDS` and `MINIPOD_BACKOFF_MAX_SECONDS` shorten
/// it for tests and demos.
struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    fn from_env() -> Backoff {
        let secs = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(default)
        };
        Backoff {
            base: Duration::from_secs_f64(secs("MINIPOD_BACKOFF_SECONDS", 10.0)),
            max: Duration::from_secs_f64(secs("MINIPOD_BACKOFF_MAX_SECONDS", 300.0)),
        }
    }
    /// Delay before restart number `n` (1-based).
    fn delay(&self, n: u32) -> Duration {
        if n <= 1 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow(n.saturating_sub(2).min(20));
        (self.base * factor).min(self.max)
    }
}

/// One container of the pod as the supervisor runs it.
struct Slot {
    container: Container,
    /// A classic init container: must exit 0 before the next one starts.
    init: bool,
    pid: Option<Pid>,
    outputs: Vec<(OwnedFd, Stream)>,
    log: Option<LogWriter>,
    started: Option<Instant>,
    restart_at: Option<Instant>,
    /// Terminated and will not run again.
    done: bool,
    rootfs_mounted: Option<RootfsMount>,
    /// A native sidecar: an init container with `restartPolicy: Always`.
    sidecar: bool,
    /// The running instance's process settings (for exec probes and hooks).
    process_spec: Option<super::exec::ContainerEntry>,
    probers: Vec<Prober>,
    /// No startup probe, or it has passed.
    startup_done: bool,
    /// No readiness probe, or it says ready.
    ready: bool,
    /// When a container asked to stop (probe failure) gets SIGKILL.
    kill_at: Option<Instant>,
    /// Crashes counted for the back-off (reset after ten minutes of running).
    crashes: u32,
    /// Its image changed: once it has stopped, start it again at once.
    replace_pending: bool,
}

#[derive(PartialEq, Debug)]
enum Stage {
    /// Running init container number i (index into slots).
    Init(usize),
    Apps,
    /// Stopping the containers: SIGKILL at the deadline.
    Terminating {
        deadline: Instant,
        killed: bool,
        /// Sidecars are stopped once the app containers have exited.
        sidecars_signaled: bool,
    },
    Done,
}

pub struct Supervisor {
    record: PodRecord,
    paths: PodPaths,
    status: PodStatus,
    slots: Vec<Slot>,
    volume_sources: BTreeMap<String, PathBuf>,
    infra: Option<Pid>,
    stage: Stage,
    backoff: Backoff,
    ready: Option<File>,
    /// `activeDeadlineSeconds`: when the pod is failed, counted from its start.
    deadline: Option<Instant>,
    /// `minipod host-ports`, when the pod has hostPorts (see net::port_forward).
    host_ports: Option<std::process::Child>,
}

/// Entry point of `minipod shim <uid>`; `ready` is the pipe to the waiting CLI.
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
    let mut slots = Vec::new();
    for c in spec.init_containers.iter().flatten() {
        let sidecar = c.restart_policy.as_deref() == Some("Always");
        slots.push(Slot::new(c.clone(), !sidecar, sidecar));
    }
    for c in &spec.containers {
        slots.push(Slot::new(c.clone(), false, false));
    }
    let status = initial_status(&record);
    let mut sup = Supervisor {
        record,
        paths,
        status,
        slots,
        volume_sources: BTreeMap::new(),
        infra: None,
        stage: Stage::Apps,
        backoff: Backoff::from_env(),
        ready,
        deadline: spec
            .active_deadline_seconds
            .map(|s| Instant::now() + Duration::from_secs(s.max(0) as u64)),
        host_ports: None,
    };
    let result = sup.run();
    if let Err(err) = &result {
        sup.notify(Readiness::Failed(format!("{err:#}")));
        sup.status.phase = "Failed".into();
        sup.status.message = format!("{err:#}");
        sup.kill_everything();
        let _ = sup.save_status();
    }
    result
}

impl Slot {
    fn new(container: Container, init: bool, sidecar: bool) -> Slot {
        Slot {
            sidecar,
            process_spec: None,
            probers: Vec::new(),
            startup_done: true,
            ready: false,
            kill_at: None,
            crashes: 0,
            replace_pending: false,
            container,
            init,
            pid: None,
            outputs: Vec::new(),
            log: None,
            started: None,
            restart_at: None,
            done: false,
            rootfs_mounted: None,
        }
    }
}

fn initial_status(record: &PodRecord) -> PodStatus {
    let spec = record.pod.spec.clone().unwrap_or_default();
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
            reason: if spec.init_containers.as_ref().is_some_and(|i| !i.is_empty()) {
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
        phase: "Pending".into(),
        reason: String::new(),
        message: String::new(),
        start_time: Some(time::now()),
        deletion_timestamp: None,
        supervisor: ProcessId::of(std::process::id() as i32),
        infra: None,
        qos_class: super::resources::qos_class(&record.pod).to_string(),
        init_container_statuses: spec.init_containers.iter().flatten().map(waiting).collect(),
        container_statuses: spec.containers.iter().map(waiting).collect(),
    }
}

impl Supervisor {
    fn run(&mut self) -> Result<()> {
        // SAFETY: PR_SET_CHILD_SUBREAPER takes plain integers.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        runtime::pod_mounts::private_mount_namespace()?;

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
            .context("block SIGCHLD/SIGTERM/SIGINT")?;
        let signals = SignalFd::with_flags(
            &mask,
            nix::sys::signalfd::SfdFlags::SFD_NONBLOCK | nix::sys::signalfd::SfdFlags::SFD_CLOEXEC,
        )
        .context("signalfd")?;
        self.save_status()?;

        self.prepare_pod()?;
        let hostname = container_spec::pod_hostname(&self.record.pod);
        let share_pid = self
            .record
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.share_process_namespace)
            .unwrap_or(false);
        let infra = infra::start(&self.paths, &hostname, share_pid)?;
        self.infra = Some(infra);
        self.status.infra = ProcessId::of(infra.as_raw());
        self.host_ports =
            crate::net::port_forward::start_host_ports(&self.record.pod, infra.as_raw())?;
        events::record(
            &self.paths,
            "Normal",
            "SandboxReady",
            format!("infra process {infra} holds the pod's namespaces"),
        );
        self.save_status()?;

        // The first containers: a failure here is the apply's error.
        // Init containers (classic and sidecars) first, in order; else the apps.
        if self.status.init_container_statuses.is_empty() {
            self.start_apps(true)?;
        } else {
            self.stage = Stage::Init(0);
            self.start(0)?;
        }
        self.update_phase();
        self.save_status()?;
        self.notify(Readiness::Started);

        self.event_loop(&signals)?;
        self.teardown();
        Ok(())
    }

    /// Volumes, the pod's /dev/shm, its /etc files.
    fn prepare_pod(&mut self) -> Result<()> {
        self.volume_sources = volumes::prepare(&self.record.pod, &self.paths)?;
        let shm = self.paths.shm();
        std::fs::create_dir_all(&shm).with_context(|| format!("create {}", shm.display()))?;
        runtime::pod_mounts::tmpfs(
            "shm",
            &shm,
            "mode=1777,size=65536k",
            true,
            "mode=1777,size=64m",
            "one /dev/shm for the whole pod: an IPC namespace does not cover it",
        )?;
        etc_files::write(&self.record.pod, &self.paths)
    }

    fn start_apps(&mut self, fail_fast: bool) -> Result<()> {
        self.stage = Stage::Apps;
        let inits = self.status.init_container_statuses.len();
        for i in inits..self.slots.len() {
            if fail_fast {
                self.start(i)?;
            } else {
                self.start_or_record_failure(i);
            }
        }
        Ok(())
    }

    fn status_mut(&mut self, i: usize) -> &mut ContainerStatus {
        let inits = self.status.init_container_statuses.len();
        if i < inits {
            &mut self.status.init_container_statuses[i]
        } else {
            &mut self.status.container_statuses[i - inits]
        }
    }

    /// Start slot i: its rootfs, its spec, its process.
    fn start(&mut self, i: usize) -> Result<()> {
        let name = self.slots[i].container.name.clone();
        // subPaths first, each pinned by the descriptor opened inside its volume; one
        // that escapes its volume leaves this container waiting, as kubelet does.
        let sub_paths = match volumes::prepare_sub_paths(
            &self.slots[i].container,
            &self.volume_sources,
            &self.paths,
        ) {
            Ok(held) => held,
            Err(err) => {
                self.config_error(i, &err);
                return Ok(());
            }
        };
        if self.slots[i].started.is_some() {
            // A restart: the count goes up when the new instance starts, and the
            // instance that ended becomes the last state.
            let st = self.status_mut(i);
            st.restart_count += 1;
            if let ContainerState::Terminated { .. } = st.state {
                st.last_state = Some(st.state.clone());
            }
        }
        let restart = self.status_mut(i).restart_count;
        let image = self
            .record
            .images
            .get(&name)
            .with_context(|| format!("container {name} has no resolved image"))?
            .clone();
        let bundle = self.paths.bundle(&name);
        let rootfs = bundle.join("rootfs");
        std::fs::create_dir_all(&rootfs).with_context(|| format!("create {}", rootfs.display()))?;
        self.unmount_rootfs(i);
        events::record(
            &self.paths,
            "Normal",
            "Pulled",
            format!(
                "Container image \"{}\" already present on machine",
                self.slots[i].container.image.as_deref().unwrap_or_default()
            ),
        );

        // A fresh writable layer for every start, as a new container gets one.
        let overlay = self.paths.overlay(&name);
        let _ = std::fs::remove_dir_all(&overlay);
        let (upper, work) = (overlay.join("upper"), overlay.join("work"));
        for d in [&upper, &work] {
            std::fs::create_dir_all(d).with_context(|| format!("create {}", d.display()))?;
        }
        narration::set_actor(&name);
        let mounted = RootfsMount::overlay(&rootfs, &image.layers, &upper, &work, &image.reference)
            .with_context(|| format!("container {name}"))?;
        self.slots[i].rootfs_mounted = Some(mounted);
        narration::set_actor("pod");

        let user = image_user::resolve(&image.user, &rootfs).with_context(|| {
            format!(
                "container {name}: resolve the image's user {:?}",
                image.user
            )
        })?;
        let infra = self.infra.context("the infra process is not running")?;
        let spec = container_spec::build(&SpecInputs {
            pod: &self.record.pod,
            container: &self.slots[i].container,
            image: &image,
            paths: &self.paths,
            infra_pid: infra.as_raw(),
            volume_sources: &self.volume_sources,
            sub_paths: &sub_paths,
            user,
            seccomp: super::seccomp::choose_for(&self.record, &self.slots[i].container),
        })?;
        spec.save(bundle.join("config.json"))
            .with_context(|| format!("write {}", bundle.join("config.json").display()))?;

        let (out_r, out_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe for stdout")?;
        let (err_r, err_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe for stderr")?;
        for fd in [&out_r, &err_r] {
            // The supervisor's loop must never block on one container's output.
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            )
            .context("make the output pipe non-blocking")?;
        }
        let stdin: OwnedFd = File::open("/dev/null").context("open /dev/null")?.into();
        let log = LogWriter::create(&self.paths.log_file(&name, restart))?;
        let stdio = runtime::Stdio {
            stdin,
            stdout: out_w,
            stderr: err_w,
        };
        termination_message::prepare(&self.paths, &name)?;
        events::record(
            &self.paths,
            "Normal",
            "Created",
            format!("Created container: {name}"),
        );
        let started_at = time::now();
        let pid = runtime::run(&name, &bundle, &spec, &stdio)
            .with_context(|| format!("start container {name}"))?;
        drop(stdio); // our copies of the write ends: EOF comes when the container's close
        let now = Instant::now();
        let slot = &mut self.slots[i];
        slot.pid = Some(pid);
        slot.outputs = vec![(out_r, Stream::Stdout), (err_r, Stream::Stderr)];
        slot.log = Some(log);
        slot.started = Some(now);
        slot.restart_at = None;
        slot.kill_at = None;
        slot.process_spec = super::exec::ContainerEntry::from_spec(&spec).ok();
        slot.probers = Prober::for_container(&slot.container, now);
        slot.startup_done = slot.container.startup_probe.is_none();
        slot.ready = slot.container.readiness_probe.is_none();
        let ready = slot.ready && slot.startup_done;
        let uid = self.record.uid().to_string();
        let st = self.status_mut(i);
        st.state = ContainerState::Running { started_at };
        st.process = ProcessId::of(pid.as_raw());
        st.container_id = format!("minipod://{uid}/{name}/{restart}");
        st.ready = ready;
        events::record(
            &self.paths,
            "Normal",
            "Started",
            format!("Started container {name}"),
        );
        self.post_start(i);
        Ok(())
    }

    /// `lifecycle.postStart`: run right after the container started; if it fails, the
    /// container is killed (kubelet's FailedPostStartHook).
    fn post_start(&mut self, i: usize) {
        let Some(handler) = self.slots[i]
            .container
            .lifecycle
            .as_ref()
            .and_then(|l| l.post_start.clone())
        else {
            return;
        };
        let name = self.slots[i].container.name.clone();
        let result = self.with_target(i, |target| {
            hooks::run(&handler, target, Duration::from_secs(30))
        });
        if let Some(Err(message)) = result {
            events::record(
                &self.paths,
                "Warning",
                "FailedPostStartHook",
                format!("PostStartHook failed: {message}"),
            );
            if let Some(pid) = self.slots[i].pid {
                let _ = kill(pid, Signal::SIGKILL);
                narration::set_actor(&name);
                step(format!("kill({pid}, SIGKILL)"), "its postStart hook failed");
                narration::set_actor("pod");
            }
        }
    }

    /// Run `f` against the running container of slot i (its PID, process settings, the
    /// pod's network namespace); `None` when it is not running.
    fn with_target<T>(&self, i: usize, f: impl FnOnce(&probe_actions::Target) -> T) -> Option<T> {
        let slot = &self.slots[i];
        let (pid, entry, infra) = (slot.pid?, slot.process_spec.as_ref()?, self.infra?);
        let ports = slot.container.ports.clone().unwrap_or_default();
        Some(f(&probe_actions::Target {
            pid,
            entry,
            infra,
            ports: &ports,
        }))
    }

    /// kubelet's CreateContainerConfigError: the container is not created, waits with
    /// the reason, and is tried again later; the pod's other containers go on.
    fn config_error(&mut self, i: usize, err: &anyhow::Error) {
        let message = format!("{err:#}");
        events::record(
            &self.paths,
            "Warning",
            "Failed",
            format!("Error: {message}"),
        );
        let st = self.status_mut(i);
        let before = std::mem::replace(
            &mut st.state,
            ContainerState::Waiting {
                reason: "CreateContainerConfigError".into(),
                message,
            },
        );
        if let ContainerState::Terminated { .. } = before {
            st.last_state = Some(before);
        }
        st.ready = false;
        // kubelet retries it on its next sync; never a busy loop, whatever the back-off.
        let retry = self.backoff.base.max(Duration::from_secs(1));
        self.slots[i].restart_at = Some(Instant::now() + retry);
    }

    /// Start slot i after the pod is up: a failure is the container's state, not ours.
    fn start_or_record_failure(&mut self, i: usize) {
        if let Err(err) = self.start(i) {
            let name = self.slots[i].container.name.clone();
            events::record(&self.paths, "Warning", "Failed", format!("Error: {err:#}"));
            let now = time::now();
            let st = self.status_mut(i);
            st.state = ContainerState::Terminated {
                exit_code: 128,
                signal: None,
                reason: "StartError".into(),
                message: format!("{err:#}"),
                started_at: now.clone(),
                finished_at: now,
            };
            st.ready = false;
            let _ = name;
            self.after_exit(i, 128);
        }
    }

    fn event_loop(&mut self, signals: &SignalFd) -> Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        while self.stage != Stage::Done {
            let timeout = self
                .next_timer()
                .map(|at| at.saturating_duration_since(Instant::now()));
            let timeout = match timeout {
                Some(d) => PollTimeout::try_from(d.as_millis().min(60_000) as u64 + 1)
                    .unwrap_or(PollTimeout::MAX),
                None => PollTimeout::NONE,
            };
            let mut ready_outputs = Vec::new();
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
                match poll(&mut fds, timeout) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(e).context("poll"),
                }
                signal_ready = fds[0].revents().is_some_and(|r| !r.is_empty());
                for (k, fd) in fds.iter().enumerate().skip(1) {
                    if fd.revents().is_some_and(|r| !r.is_empty()) {
                        ready_outputs.push(owners[k - 1]);
                    }
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
                        Ok(Signal::SIGTERM) | Ok(Signal::SIGINT) => self.begin_termination(),
                        Ok(Signal::SIGUSR1) => self.reload_images(),
                        _ => {}
                    }
                }
            }
            self.run_timers();
            self.advance();
            self.save_status()?;
        }
        Ok(())
    }

    fn next_timer(&self) -> Option<Instant> {
        if let Stage::Terminating {
            deadline,
            killed: false,
            ..
        } = self.stage
        {
            return Some(deadline);
        }
        let per_slot = self.slots.iter().flat_map(|s| {
            let probes = s
                .probers
                .iter()
                .filter(|_| s.pid.is_some())
                .map(|p| p.next_at);
            s.restart_at.into_iter().chain(s.kill_at).chain(probes)
        });
        per_slot.chain(self.deadline).min()
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
                self.infra_died(pid);
            } else if let Some(i) = self.slots.iter().position(|s| s.pid == Some(pid)) {
                self.container_exited(i, code, signal);
            }
            // Anything else was an orphan handed to us as subreaper: reaped, done.
        }
    }

    fn container_exited(&mut self, i: usize, code: i32, signal: Option<i32>) {
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
        let slot = &mut self.slots[i];
        slot.probers.clear();
        slot.kill_at = None;
        slot.process_spec = None;
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
            if code == 0 { "Normal" } else { "Warning" },
            "Exited",
            format!("container {name} exited with code {code}"),
        );
        if !matches!(self.stage, Stage::Terminating { .. } | Stage::Done) {
            self.after_exit(i, code);
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
        let grace = self.spec_grace();
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
            if self.slots[i].pid.is_some() {
                events::record(
                    &self.paths,
                    "Normal",
                    "Killing",
                    format!("Container {name} definition changed, will be restarted"),
                );
                self.slots[i].replace_pending = true;
                self.stop_container(i, grace);
            } else if self.slots[i].restart_at.is_some() {
                self.slots[i].restart_at = Some(Instant::now());
            }
        }
        self.record = record;
    }

    /// Kubernetes' restartPolicy: restart, or leave the container terminated.
    fn after_exit(&mut self, i: usize, code: i32) {
        if std::mem::take(&mut self.slots[i].replace_pending) {
            // Replaced, not crashed: no back-off, whatever the policy.
            self.slots[i].restart_at = Some(Instant::now());
            return;
        }
        let policy = self
            .record
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.clone())
            .unwrap_or_else(|| "Always".into());
        let slot = &self.slots[i];
        let sidecar = slot.container.restart_policy.as_deref() == Some("Always");
        let restart = if sidecar {
            true
        } else if slot.init {
            code != 0 && policy != "Never"
        } else {
            match policy.as_str() {
                "Always" => true,
                "OnFailure" => code != 0,
                _ => false,
            }
        };
        if !restart {
            self.slots[i].done = true;
            if self.slots[i].init && code != 0 {
                // A failed init container with restartPolicy Never fails the pod.
                self.status.phase = "Failed".into();
            }
            return;
        }
        // Running ten minutes resets the back-off (not the restart count), as
        // kubelet does.
        let ran = self.slots[i]
            .started
            .map(|s| s.elapsed())
            .unwrap_or_default();
        if ran > Duration::from_secs(600) {
            self.slots[i].crashes = 0;
        }
        self.slots[i].crashes += 1;
        let delay = self.backoff.delay(self.slots[i].crashes);
        let name = self.slots[i].container.name.clone();
        let pod = format!(
            "{}_{}({})",
            self.record.name(),
            self.record.namespace(),
            self.record.uid()
        );
        if delay > Duration::ZERO {
            let st = self.status_mut(i);
            let last = std::mem::replace(
                &mut st.state,
                ContainerState::Waiting {
                    reason: "CrashLoopBackOff".into(),
                    message: format!(
                        "back-off {}s restarting failed container={name} pod={pod}",
                        delay.as_secs()
                    ),
                },
            );
            st.last_state = Some(last);
            events::record(
                &self.paths,
                "Warning",
                "BackOff",
                format!("Back-off restarting failed container {name} in pod {pod}"),
            );
        }
        self.slots[i].restart_at = Some(Instant::now() + delay);
    }

    fn run_timers(&mut self) {
        let now = Instant::now();
        if let Stage::Terminating {
            deadline,
            killed: false,
            sidecars_signaled,
        } = self.stage
        {
            if now >= deadline {
                for slot in &self.slots {
                    if let Some(pid) = slot.pid {
                        let _ = kill(pid, Signal::SIGKILL);
                        narration::set_actor(&slot.container.name);
                        step(format!("kill({pid}, SIGKILL)"), "the grace period is over");
                    }
                }
                narration::set_actor("pod");
                self.stage = Stage::Terminating {
                    deadline,
                    killed: true,
                    sidecars_signaled,
                };
            }
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) && !matches!(self.stage, Stage::Done) {
            self.deadline = None;
            self.status.phase = "Failed".into();
            self.status.reason = "DeadlineExceeded".into();
            self.status.message =
                "Pod was active on the node longer than the specified deadline".into();
            events::record(
                &self.paths,
                "Normal",
                "DeadlineExceeded",
                self.status.message.clone(),
            );
            for slot in &mut self.slots {
                slot.restart_at = None;
                slot.done = true;
            }
            let grace = self.spec_grace();
            self.stop_pod(grace);
            return;
        }
        for i in 0..self.slots.len() {
            let slot = &self.slots[i];
            if let (Some(pid), Some(at)) = (slot.pid, slot.kill_at) {
                if at <= now {
                    let _ = kill(pid, Signal::SIGKILL);
                    self.slots[i].kill_at = None;
                }
            }
            if self.slots[i].restart_at.is_some_and(|at| at <= now) {
                self.slots[i].restart_at = None;
                self.start_or_record_failure(i);
            }
            self.run_probes(i, now);
        }
    }

    /// The container's due probes; liveness and readiness only after startup passed.
    fn run_probes(&mut self, i: usize, now: Instant) {
        if self.slots[i].pid.is_none() || self.slots[i].kill_at.is_some() {
            return;
        }
        let name = self.slots[i].container.name.clone();
        let mut probers = std::mem::take(&mut self.slots[i].probers);
        for prober in probers.iter_mut() {
            let gated = prober.kind != probes::Kind::Startup && !self.slots[i].startup_done;
            if gated || prober.next_at > now || self.slots[i].kill_at.is_some() {
                continue;
            }
            let Some(verdict) = self.with_target(i, |target| prober.run(target)) else {
                continue;
            };
            match verdict {
                Verdict::Unchanged => {}
                Verdict::Failed(message) => {
                    events::record(&self.paths, "Warning", "Unhealthy", message);
                }
                Verdict::Started => self.slots[i].startup_done = true,
                Verdict::Ready(ready) => self.slots[i].ready = ready,
                Verdict::Restart(message) => {
                    events::record(&self.paths, "Warning", "Unhealthy", message);
                    let kind = prober.kind.name().to_lowercase();
                    events::record(
                        &self.paths,
                        "Normal",
                        "Killing",
                        format!("Container {name} failed {kind} probe, will be restarted"),
                    );
                    self.stop_container(i, self.spec_grace());
                }
            }
        }
        self.slots[i].probers = probers;
        let ready =
            self.slots[i].ready && self.slots[i].startup_done && self.slots[i].pid.is_some();
        self.status_mut(i).ready = ready;
    }

    /// Ask one container to stop: preStop hook, its stop signal, SIGKILL after `grace`.
    fn stop_container(&mut self, i: usize, grace: i64) {
        let Some(pid) = self.slots[i].pid else { return };
        let name = self.slots[i].container.name.clone();
        if grace > 0 {
            let pre_stop = self.slots[i]
                .container
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.clone());
            if let Some(handler) = pre_stop {
                narration::set_actor(&name);
                step(
                    "preStop hook",
                    "the container's last words before its stop signal",
                );
                narration::set_actor("pod");
                let limit = Duration::from_secs(grace as u64);
                if let Some(Err(message)) = self.with_target(i, |t| hooks::run(&handler, t, limit))
                {
                    events::record(
                        &self.paths,
                        "Warning",
                        "FailedPreStopHook",
                        format!("PreStopHook failed: {message}"),
                    );
                }
            }
        }
        let signal = if grace == 0 {
            Signal::SIGKILL
        } else {
            self.stop_signal(&name)
        };
        let _ = kill(pid, signal);
        narration::set_actor(&name);
        step(
            format!("kill({pid}, {signal})"),
            "the container's PID 1 is asked to stop",
        );
        narration::set_actor("pod");
        self.slots[i].kill_at = Some(Instant::now() + Duration::from_secs(grace.max(0) as u64));
    }

    fn spec_grace(&self) -> i64 {
        self.record.grace_period()
    }

    /// Move the pod on: next init container, app containers, or the end.
    fn advance(&mut self) {
        match self.stage {
            Stage::Init(i) => {
                let done_ok = self.slots[i].done
                    && matches!(
                        self.status_mut(i).state,
                        ContainerState::Terminated { exit_code: 0, .. }
                    );
                // A sidecar lets the next init container start once it runs and its
                // startup probe (if any) passed.
                let sidecar_up = self.slots[i].sidecar
                    && self.slots[i].pid.is_some()
                    && self.slots[i].startup_done;
                if self.status.phase == "Failed" {
                    let grace = self.spec_grace();
                    self.stop_pod(grace);
                } else if done_ok || sidecar_up {
                    let inits = self.status.init_container_statuses.len();
                    match (i + 1..inits).next() {
                        Some(next) => {
                            self.stage = Stage::Init(next);
                            self.start_or_record_failure(next);
                        }
                        None => {
                            let _ = self.start_apps(false);
                        }
                    }
                }
            }
            Stage::Apps => {
                let inits = self.status.init_container_statuses.len();
                let apps_done = self.slots[inits..].iter().all(|s| s.done);
                if apps_done {
                    let grace = self.spec_grace();
                    self.stop_pod(grace);
                }
            }
            Stage::Terminating {
                deadline,
                killed,
                sidecars_signaled,
            } => {
                let inits = self.status.init_container_statuses.len();
                let apps_running = self.slots[inits..].iter().any(|s| s.pid.is_some());
                if !sidecars_signaled && !apps_running {
                    // Sidecars last, in reverse order, within what is left of the grace.
                    let left = deadline.saturating_duration_since(Instant::now()).as_secs() as i64;
                    for i in (0..inits).rev() {
                        self.stop_container(i, if killed { 0 } else { left });
                    }
                    self.stage = Stage::Terminating {
                        deadline,
                        killed,
                        sidecars_signaled: true,
                    };
                }
                if self.slots.iter().all(|s| s.pid.is_none()) {
                    self.stage = Stage::Done;
                }
            }
            Stage::Done => {}
        }
        self.update_phase();
    }

    /// Stop the pod's containers: app containers first, sidecars once they are gone
    /// (see `advance`), SIGKILL for all at the deadline.
    fn stop_pod(&mut self, grace: i64) {
        if matches!(self.stage, Stage::Terminating { .. } | Stage::Done) {
            return;
        }
        let grace = grace.max(0);
        for slot in &mut self.slots {
            slot.restart_at = None;
        }
        let inits = self.status.init_container_statuses.len();
        for i in inits..self.slots.len() {
            if self.slots[i].pid.is_some() {
                let name = self.slots[i].container.name.clone();
                events::record(
                    &self.paths,
                    "Normal",
                    "Killing",
                    format!("Stopping container {name}"),
                );
                self.stop_container(i, grace);
            }
        }
        // A classic init container still running is stopped with the apps.
        for i in 0..inits {
            if !self.slots[i].sidecar && self.slots[i].pid.is_some() {
                self.stop_container(i, grace);
            }
        }
        self.stage = Stage::Terminating {
            deadline: Instant::now() + Duration::from_secs(grace as u64),
            killed: grace == 0,
            sidecars_signaled: false,
        };
    }

    /// The pod has lost its infra process: kill what still runs, at once.
    fn begin_stop(&mut self) {
        for slot in &self.slots {
            if let Some(pid) = slot.pid {
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        self.stage = Stage::Terminating {
            deadline: Instant::now(),
            killed: true,
            sidecars_signaled: true,
        };
    }

    /// SIGTERM from `delete`: stop every container within the grace period.
    fn begin_termination(&mut self) {
        if matches!(self.stage, Stage::Terminating { .. } | Stage::Done) {
            return;
        }
        let grace = requested_grace(&self.paths).unwrap_or_else(|| self.spec_grace());
        self.status.deletion_timestamp = Some(time::now());
        self.stop_pod(grace);
    }

    fn stop_signal(&self, name: &str) -> Signal {
        self.record
            .images
            .get(name)
            .and_then(|i| i.stop_signal.as_deref())
            .and_then(parse_signal)
            .unwrap_or(Signal::SIGTERM)
    }

    /// The pod lives exactly as long as its infra process.
    fn infra_died(&mut self, pid: Pid) {
        step(
            format!("infra process {pid} exited"),
            "the pod's namespaces are gone: every container dies with them",
        );
        events::record(
            &self.paths,
            "Warning",
            "SandboxChanged",
            format!("the infra process {pid} exited: pod sandbox gone"),
        );
        self.status.phase = "Failed".into();
        self.status.reason = "SandboxDied".into();
        self.status.message =
            format!("the infra process (PID {pid}) exited; the pod's namespaces are gone");
        self.status.infra = None;
        for slot in &mut self.slots {
            slot.restart_at = None;
            slot.done = true;
        }
        self.begin_stop();
    }

    /// Phase from the containers, as Kubernetes derives it.
    fn update_phase(&mut self) {
        if self.status.phase == "Failed" {
            return;
        }
        let inits = self.status.init_container_statuses.len();
        let apps = &self.status.container_statuses;
        let init_done = matches!(
            self.stage,
            Stage::Apps | Stage::Terminating { .. } | Stage::Done
        ) && self.slots[..inits].iter().all(|s| s.done || !s.init);
        self.status.phase = if !init_done {
            "Pending"
        } else if self.slots[inits..].iter().all(|s| s.done) {
            let failed = apps.iter().any(|c| matches!(c.state, ContainerState::Terminated { exit_code, .. } if exit_code != 0));
            if failed { "Failed" } else { "Succeeded" }
        } else if apps.iter().any(|c| matches!(c.state, ContainerState::Running { .. }))
            || self.slots[inits..].iter().any(|s| s.restart_at.is_some())
        {
            "Running"
        } else {
            "Pending"
        }
        .into();
    }

    fn unmount_rootfs(&mut self, i: usize) {
        if let Some(rootfs) = self.slots[i].rootfs_mounted.take() {
            narration::set_actor(&self.slots[i].container.name);
            drop(rootfs);
            narration::set_actor("pod");
        }
    }

    /// Everything is stopped: the infra process goes last, then the pod's mounts.
    fn teardown(&mut self) {
        self.stop_host_ports();
        if let Some(infra) = self.infra.take() {
            let _ = kill(infra, Signal::SIGTERM);
            narration::set_actor("infra");
            step(
                format!("kill({infra}, SIGTERM)"),
                "the last process of the pod: its namespaces go with it",
            );
            narration::set_actor("pod");
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
        self.status.infra = None;
        self.status.supervisor = None;
        let _ = self.save_status();
    }

    /// Last resort after an error: no process of the pod survives its supervisor.
    fn kill_everything(&mut self) {
        self.stop_host_ports();
        for slot in &self.slots {
            if let Some(pid) = slot.pid {
                let _ = kill(pid, Signal::SIGKILL);
                let _ = waitpid(pid, None);
            }
        }
        if let Some(infra) = self.infra.take() {
            let _ = kill(infra, Signal::SIGKILL);
            let _ = waitpid(infra, None);
        }
        for i in 0..self.slots.len() {
            self.unmount_rootfs(i);
        }
        resources::remove_pod_cgroup(self.record.uid());
    }

    /// Before the infra process goes: the forwarder is still running then, so its PID
    /// is still ours (our reap loop only reaps it if it died on its own).
    fn stop_host_ports(&mut self) {
        if let Some(mut child) = self.host_ports.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn save_status(&self) -> Result<()> {
        record::save_status(&self.paths, &self.status)
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

fn wait_or_kill(pid: Pid, grace: Duration) {
    let until = Instant::now() + grace;
    while Instant::now() < until {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(5)),
            _ => return,
        }
    }
    let _ = kill(pid, Signal::SIGKILL);
    let _ = waitpid(pid, None);
}

/// The grace period `delete` asked for, if any.
fn requested_grace(paths: &PodPaths) -> Option<i64> {
    let text = std::fs::read_to_string(paths.delete_request()).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("gracePeriodSeconds")?.as_i64()
}

/// `SIGQUIT`, `QUIT` or `3`.
pub fn parse_signal(s: &str) -> Option<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let name = if s.starts_with("SIG") {
        s.to_string()
    } else {
        format!("SIG{s}")
    };
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_matches_kubelet() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(300),
        };
        let delays: Vec<u64> = (1..=8).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(delays, [0, 10, 20, 40, 80, 160, 300, 300]);
    }

    #[test]
    fn stop_signals_parse() {
        assert_eq!(parse_signal("SIGQUIT"), Some(Signal::SIGQUIT));
        assert_eq!(parse_signal("TERM"), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Some(Signal::SIGKILL));
    }
}

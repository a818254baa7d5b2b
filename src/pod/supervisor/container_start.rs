//! Starting one container: its overlay rootfs, its OCI spec, its output pipes and
//! log, the runtime's `run`, its status. A failure says which step broke it, in
//! Kubernetes' words (see `start_failure`).

use super::actions::{Action, Event};
use super::Supervisor;
use crate::narration;
use crate::pod::container_spec::{self, SpecInputs};
use crate::pod::cri_log::{LogWriter, Stream};
use crate::pod::events::{self, EventType};
use crate::pod::exec::ContainerEntry;
use crate::pod::log_files::LogLimits;
use crate::pod::start_failure::{StartError, StartFailure};
use crate::pod::status::{ContainerState, ProcessId};
use crate::pod::{security, termination_message, volumes};
use crate::runtime::{self, RootfsMount};
use crate::state::time;
use anyhow::{Context, Result};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::time::Duration;

/// Mark an error with the step it broke, unless code below already did.
fn failed(kind: StartFailure) -> impl Fn(anyhow::Error) -> StartError {
    move |error| match StartError::kind_of(&error).unwrap_or(kind) {
        StartFailure::Config => StartError::config(error),
        StartFailure::Create => StartError::create(error),
        StartFailure::Run => StartError::run(error),
        image => StartError::of_kind(image, error),
    }
}

/// What a container's streams are made of: the ends we read (with their stream),
/// the ends it gets, and where `attach` input goes (with `stdin`/`tty`).
type ContainerStreams = (Vec<(OwnedFd, Stream)>, runtime::Stdio, Option<OwnedFd>);

/// What the policy is told about a failed start: an image failure is retried on the
/// image back-off, any other is an exit of the container.
fn failed_event(i: usize, err: &StartError) -> Event {
    if err.kind.is_image() {
        Event::ImagePullFailed { i }
    } else {
        Event::StartFailed { i }
    }
}

impl Supervisor {
    /// The pod's first containers: a failure to create or run one is the apply's
    /// error; a configuration kubelet would refuse (a subPath that escapes its volume)
    /// leaves that container waiting, as on a cluster, and the pod runs on.
    pub(super) fn start_first(&mut self, actions: Vec<Action>) -> Result<()> {
        for action in actions {
            if let Action::Start { i, restart } = action {
                match self.start(i, restart) {
                    Ok(()) => self.started(i),
                    Err(err) if err.kind == StartFailure::Config || err.kind.is_image() => {
                        self.record_start_failure(i, &err);
                        self.handle(failed_event(i, &err));
                    }
                    Err(err) => return Err(err.error),
                }
            }
        }
        Ok(())
    }

    /// Start container i for the policy; a failure becomes the container's state.
    pub(super) fn start_or_record_failure(&mut self, i: usize, restart: bool) {
        match self.start(i, restart) {
            Ok(()) => self.started(i),
            Err(err) => {
                self.record_start_failure(i, &err);
                self.handle(failed_event(i, &err));
            }
        }
    }

    /// Tell the policy, then run the postStart hook.
    fn started(&mut self, i: usize) {
        self.handle(Event::Started { i });
        self.post_start(i);
    }

    /// Start container i: its rootfs, its spec, its process. `restart` when an earlier
    /// instance of it ran.
    fn start(&mut self, i: usize, restart: bool) -> Result<(), StartError> {
        let name = self.slots[i].container.name.clone();
        // subPaths first, each pinned by the descriptor opened inside its volume; one
        // that escapes its volume leaves this container waiting
        // (CreateContainerConfigError), as kubelet does.
        let sub_paths =
            volumes::prepare_sub_paths(&self.slots[i].container, &self.volume_sources, &self.paths)
                .map_err(failed(StartFailure::Config))?;
        if restart {
            // The count goes up when the new instance starts, and the instance that
            // ended becomes the last state.
            let st = self.status_mut(i);
            st.restart_count += 1;
            if let ContainerState::Terminated { .. } = st.state {
                st.last_state = Some(st.state.clone());
            }
        }
        let restart = self.status_mut(i).restart_count;
        let (image, just_pulled) = self.image_of(i)?;
        let bundle = self.paths.bundle(&name);
        let rootfs = bundle.join("rootfs");
        std::fs::create_dir_all(&rootfs)
            .with_context(|| format!("create {}", rootfs.display()))
            .map_err(failed(StartFailure::Create))?;
        self.unmount_rootfs(i);
        if !just_pulled {
            events::record(
                &self.paths,
                EventType::Normal,
                "Pulled",
                format!(
                    "Container image \"{}\" already present on machine",
                    self.slots[i].container.image.as_deref().unwrap_or_default()
                ),
            );
        }
        // A fresh writable layer for every start, as a new container gets one.
        let overlay = self.paths.overlay(&name);
        let _ = std::fs::remove_dir_all(&overlay);
        let (upper, work) = (overlay.join("upper"), overlay.join("work"));
        for d in [&upper, &work] {
            std::fs::create_dir_all(d)
                .with_context(|| format!("create {}", d.display()))
                .map_err(failed(StartFailure::Create))?;
        }
        narration::set_actor(&name);
        let mounted = match (&self.userns, self.infra) {
            (Some(range), Some(infra)) => RootfsMount::overlay_idmapped(
                &rootfs,
                &image.layers,
                &upper,
                &work,
                &image.reference,
                &std::path::PathBuf::from(format!("/proc/{infra}/ns/user")),
                range.host_start,
                &range.map_line(),
            ),
            _ => RootfsMount::overlay(&rootfs, &image.layers, &upper, &work, &image.reference),
        }
        .with_context(|| format!("container {name}"));
        narration::set_actor("pod");
        self.slots[i].rootfs_mounted = Some(mounted.map_err(failed(StartFailure::Create))?);

        let container = &self.slots[i].container;
        let pod = &self.record.pod;
        security::identity::check_run_as_non_root(pod, container, &image.user)
            .map_err(anyhow::Error::msg)
            .map_err(failed(StartFailure::Config))?;
        let user =
            security::identity::resolve(pod, container, &image.user, &rootfs, &image.reference)
                .with_context(|| format!("container {name}"))
                .map_err(failed(StartFailure::Config))?;
        let privileges = security::privileges::decide(container, &self.host_capabilities);
        let infra = self
            .infra
            .context("the infra process is not running")
            .map_err(failed(StartFailure::Create))?;
        let spec = container_spec::build(&SpecInputs {
            pod: &self.record.pod,
            container: &self.slots[i].container,
            image: &image,
            paths: &self.paths,
            infra_pid: infra.as_raw(),
            volume_sources: &self.volume_sources,
            sub_paths: &sub_paths,
            user,
            privileges,
            userns: self.userns.as_ref().map(|r| r.host_start),
            seccomp: crate::pod::seccomp::choose_for(&self.record, &self.slots[i].container),
        })
        .map_err(failed(StartFailure::Config))?;
        let config = bundle.join("config.json");
        spec.save(&config)
            .with_context(|| format!("write {}", config.display()))
            .map_err(failed(StartFailure::Create))?;

        let (outputs, stdio, stdin_writer) =
            self.output_pipes(i).map_err(failed(StartFailure::Create))?;
        let attach = match stdin_writer {
            Some(writer) => Some(
                super::attach::Attach::listen(
                    &self.paths.run.join("attach"),
                    &name,
                    writer,
                    self.slots[i].container.stdin_once == Some(true),
                )
                .map_err(failed(StartFailure::Create))?,
            ),
            None => None,
        };
        let log = LogLimits::from_env()
            .and_then(|limits| LogWriter::create(&self.paths.log_file(&name, restart), limits))
            .map_err(failed(StartFailure::Create))?;
        termination_message::prepare(&self.paths, &name).map_err(failed(StartFailure::Create))?;
        events::record(
            &self.paths,
            EventType::Normal,
            "Created",
            format!("Created container: {name}"),
        );
        let started_at = time::now();
        let pid = runtime::run(&name, &bundle, &spec, &mut self.seccomp_programs, &stdio)
            .with_context(|| format!("start container {name}"))
            .map_err(failed(StartFailure::Run))?;
        drop(stdio); // our copies of the write ends: EOF comes when the container's close
        let slot = &mut self.slots[i];
        slot.pid = Some(pid);
        slot.outputs = outputs;
        slot.log = Some(log);
        slot.attach = attach;
        slot.process_spec = ContainerEntry::from_spec(&spec, &mut self.seccomp_programs).ok();
        let c = &slot.container;
        let ready = c.readiness_probe.is_none() && c.startup_probe.is_none();
        let uid = self.record.uid().to_string();
        let st = self.status_mut(i);
        st.user = spec
            .process()
            .as_ref()
            .map(|p| crate::pod::status::ContainerUser {
                linux: crate::pod::status::LinuxContainerUser {
                    uid: p.user().uid(),
                    gid: p.user().gid(),
                    supplemental_groups: p.user().additional_gids().clone().unwrap_or_default(),
                },
            });
        st.state = ContainerState::Running { started_at };
        st.process = ProcessId::of(pid.as_raw());
        st.container_id = format!("minipod://{uid}/{name}/{restart}");
        st.ready = ready;
        events::record(
            &self.paths,
            EventType::Normal,
            "Started",
            format!("Started container {name}"),
        );
        Ok(())
    }

    /// The container's stdout and stderr: pipes we read (non-blocking) and the write
    /// ends it gets; its stdin is /dev/null, or with `stdin: true` a pipe whose write
    /// end comes back for `attach`. With `tty: true` all three are a pseudo-terminal
    /// and its master is both what we read and where `attach` input goes.
    fn output_pipes(&self, i: usize) -> Result<ContainerStreams> {
        let container = &self.slots[i].container;
        let nonblocking = |fd: &OwnedFd| {
            // The supervisor's loop must never block on one container's output.
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            )
            .map(|_| ())
            .context("make the container's output non-blocking")
        };
        if container.tty == Some(true) {
            let pty = nix::pty::openpty(None, None).context("openpty for the container's tty")?;
            for fd in [&pty.master, &pty.slave] {
                nix::fcntl::fcntl(
                    fd,
                    nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
                )
                .context("close the pty on exec")?;
            }
            nonblocking(&pty.master)?;
            let reader = pty.master.try_clone().context("dup the pty's master")?;
            let stdio = runtime::Stdio {
                stdin: pty.slave.try_clone().context("dup the pty's slave")?,
                stdout: pty.slave.try_clone().context("dup the pty's slave")?,
                stderr: pty.slave,
            };
            return Ok((vec![(reader, Stream::Stdout)], stdio, Some(pty.master)));
        }
        let (out_r, out_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe for stdout")?;
        let (err_r, err_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe for stderr")?;
        for fd in [&out_r, &err_r] {
            nonblocking(fd)?;
        }
        let (stdin, writer) = if container.stdin == Some(true) {
            let (r, w) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe for stdin")?;
            (r, Some(w))
        } else {
            let null: OwnedFd = File::open("/dev/null").context("open /dev/null")?.into();
            (null, None)
        };
        let stdio = runtime::Stdio {
            stdin,
            stdout: out_w,
            stderr: err_w,
        };
        Ok((
            vec![(out_r, Stream::Stdout), (err_r, Stream::Stderr)],
            stdio,
            writer,
        ))
    }

    /// Kubelet's view of a failed start: the container waits with the failure's reason
    /// (`CreateContainerConfigError`, `RunContainerError`, ...); a process that was
    /// created but did not start is its last state, terminated with `StartError`.
    fn record_start_failure(&mut self, i: usize, err: &StartError) {
        let message = err.to_string();
        // An image failure has its own event already; this one names the reason.
        let said = if err.kind.is_image() {
            err.reason().to_string()
        } else {
            message.clone()
        };
        events::record(
            &self.paths,
            EventType::Warning,
            "Failed",
            format!("Error: {said}"),
        );
        let now = time::now();
        let st = self.status_mut(i);
        if err.kind == StartFailure::Run {
            st.last_state = Some(ContainerState::Terminated {
                exit_code: 128,
                signal: None,
                reason: "StartError".into(),
                message: message.clone(),
                started_at: now.clone(),
                finished_at: now,
            });
        }
        st.state = ContainerState::Waiting {
            reason: err.reason().into(),
            message,
        };
        st.ready = false;
        st.process = None;
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
        // While the hook runs the container is not started yet for Kubernetes: it
        // shows as waiting (ContainerCreating), and `apply` has its answer now rather
        // than after the hook (kubectl returns at once on a cluster).
        let started = std::mem::replace(
            &mut self.status_mut(i).state,
            ContainerState::Waiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            },
        );
        self.policy.refresh_phase();
        self.sync_pod_status();
        let _ = self.save_status();
        self.notify(super::Readiness::Started);
        let result = self.run_hook(i, &handler, Duration::from_secs(30));
        self.status_mut(i).state = started;
        if let Some(Err(message)) = result {
            events::record(
                &self.paths,
                EventType::Warning,
                "FailedPostStartHook",
                format!("PostStartHook failed: {message}"),
            );
            self.handle(Event::PostStartFailed { i });
        }
    }
}

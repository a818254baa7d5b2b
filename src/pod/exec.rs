//! A new process inside a running container (`exec`, exec probes, lifecycle hooks):
//! the pod-level part. Which container, is it running, what its bundle says; the
//! joining itself is the runtime's (`runtime::exec`).

use super::pty;
use super::record::StoredPod;
use crate::runtime;
use crate::runtime::seccomp;
use anyhow::{bail, Context, Result};
use nix::unistd::Pid;
use oci_spec::runtime::{Process, Spec};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// What a new process in the container gets from the container's spec: its process
/// settings (user, capabilities, env, cwd), its cgroup and its seccomp filter.
#[derive(Debug, Clone)]
pub struct ContainerEntry {
    pub process: Process,
    pub cgroup: Option<PathBuf>,
    /// The spec's `linux.seccomp`, compiled.
    pub seccomp: Option<seccomp::Program>,
}

impl ContainerEntry {
    /// In the supervisor: the filter from the pod's compiled programs.
    pub fn from_spec(spec: &Spec, programs: &mut seccomp::Programs) -> Result<ContainerEntry> {
        let seccomp = programs.for_spec(spec)?;
        ContainerEntry::with_seccomp(spec, seccomp)
    }

    /// From the container's bundle's `config.json` (the CLI's `exec`): the filter the
    /// supervisor saved beside it when it was compiled from this profile, else
    /// compiled here.
    pub fn load(bundle: &Path) -> Result<ContainerEntry> {
        let config = bundle.join("config.json");
        let spec = Spec::load(&config).with_context(|| format!("read {}", config.display()))?;
        let seccomp = spec
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
            .map(|profile| seccomp::saved_or_compiled(bundle, profile))
            .transpose()?;
        ContainerEntry::with_seccomp(&spec, seccomp)
    }

    fn with_seccomp(spec: &Spec, seccomp: Option<seccomp::Program>) -> Result<ContainerEntry> {
        Ok(ContainerEntry {
            process: spec
                .process()
                .clone()
                .context("the container's spec has no process")?,
            cgroup: spec.linux().as_ref().and_then(|l| l.cgroups_path().clone()),
            seccomp,
        })
    }
}

/// Start `argv` inside the container whose first process is `target` (the
/// supervisor's child, so its PID cannot be reused meanwhile); returns the PID of a
/// child that exits with the command's exit status.
pub fn spawn(
    target: Pid,
    entry: &ContainerEntry,
    argv: &[String],
    stdio: [Option<OwnedFd>; 3],
) -> Result<Pid> {
    let start_time = runtime::procfs::start_time(target.as_raw())
        .with_context(|| format!("the container's process {target} is gone"))?;
    let target = runtime::exec::Target {
        pid: target.as_raw(),
        start_time,
        process: &entry.process,
        cgroup: entry.cgroup.as_deref(),
        seccomp: entry.seccomp.as_ref(),
        who: "exec",
        error_context: None,
    };
    Ok(runtime::exec::spawn(&target, argv, runtime::exec::Stdio::Fds(stdio))?.pid)
}

/// How the command's standard streams are wired.
pub enum Stdio {
    /// The caller's own stdin/stdout/stderr.
    Inherit,
    /// A new pseudo-terminal; `stdin` says whether the caller's input is copied to it;
    /// `term` replaces the container's `TERM` (the client's terminal type).
    Tty { stdin: bool, term: Option<String> },
    /// These descriptors for stdin, stdout, stderr (`None`: the caller's own).
    Fds([Option<OwnedFd>; 3]),
}

/// `name=value` in the process's environment, replacing an earlier `name`.
fn set_env(process: &mut Process, name: &str, value: &str) {
    let prefix = format!("{name}=");
    let mut env: Vec<String> = process
        .env()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !e.starts_with(&prefix))
        .collect();
    env.push(format!("{prefix}{value}"));
    process.set_env(Some(env));
}

pub fn exec(pod: &StoredPod, container: &str, argv: &[String], stdio: Stdio) -> Result<i32> {
    let status = pod
        .status
        .as_ref()
        .with_context(|| format!("pod \"{}\" has no status yet", pod.record.name()))?;
    let cs = status
        .all_containers()
        .find(|c| c.name == container)
        .with_context(|| {
            format!(
                "container {container} not found in pod {}",
                pod.record.name()
            )
        })?;
    let Some(process) = cs.process.filter(|p| p.is_alive()) else {
        bail!(
            "cannot exec in a container that is not running: container {container} of pod {}",
            pod.record.name()
        );
    };
    let mut entry = ContainerEntry::load(&pod.paths.bundle(container))?;
    if let Stdio::Tty {
        term: Some(term), ..
    } = &stdio
    {
        set_env(&mut entry.process, "TERM", term);
    }
    let who = format!("exec {container}");
    let error_context = format!("exec in container {container}");
    let target = runtime::exec::Target {
        pid: process.pid,
        start_time: process.start_time,
        process: &entry.process,
        cgroup: entry.cgroup.as_deref(),
        seccomp: entry.seccomp.as_ref(),
        who: &who,
        error_context: Some(&error_context),
    };
    match stdio {
        Stdio::Inherit => {
            let started = runtime::exec::spawn(&target, argv, runtime::exec::Stdio::Inherit)?;
            runtime::exec::wait_exit_code(started.pid)
        }
        Stdio::Fds(fds) => {
            // Our copies of the command's ends close when spawn returns: the other
            // ends see EOF when the command is done with them.
            let started = runtime::exec::spawn(&target, argv, runtime::exec::Stdio::Fds(fds))?;
            runtime::exec::wait_exit_code(started.pid)
        }
        Stdio::Tty { stdin, .. } => {
            // SIGCHLD and SIGWINCH are read from a signalfd by the relay: blocked
            // before the command can end (the stage unblocks them for itself).
            let sigfd = pty::block_signals()?;
            let started = runtime::exec::spawn(&target, argv, runtime::exec::Stdio::Pty)?;
            let Some(master) = started.pty_master else {
                // The runtime failed before the terminal was made, and said why.
                return runtime::exec::wait_exit_code(started.pid);
            };
            // Raw mode only when the caller types into the command.
            let _raw = if stdin {
                Some(pty::RawMode::enter()?)
            } else {
                None
            };
            pty::relay(master, started.pid, stdin, &sigfd)
        }
    }
}

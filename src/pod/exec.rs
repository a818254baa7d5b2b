//! A new process inside a running container (`exec`, exec probes, lifecycle hooks).
//!
//! It joins every namespace of the container's first process (mnt last: after it,
//! host paths are gone), forks once more so the PID namespace takes effect, then
//! becomes the container's user with its capabilities, in its working directory, with
//! its environment. The caller's process itself never changes namespace: the first
//! fork does the joining, and exits with the command's status.

use super::pty;
use super::record::StoredPod;
use crate::runtime;
use anyhow::{bail, Context, Result};
use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::{Process, Spec};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Standard streams for the new process; `None` keeps the caller's.
#[derive(Default)]
pub struct ExecStdio {
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// The container's process settings and cgroup, from its bundle's `config.json`.
pub fn container_process(bundle: &Path) -> Result<(Process, Option<PathBuf>)> {
    let config = bundle.join("config.json");
    let spec = Spec::load(&config).with_context(|| format!("read {}", config.display()))?;
    let process = spec
        .process()
        .clone()
        .context("the container's spec has no process")?;
    let cgroup = spec.linux().as_ref().and_then(|l| l.cgroups_path().clone());
    Ok((process, cgroup))
}

/// Every namespace of the container's first process, opened before any is joined
/// (once one is joined, `/proc` paths may mean something else), mnt last: after it,
/// host paths are gone.
fn open_namespaces(target: Pid) -> Result<Vec<(String, std::fs::File, CloneFlags)>> {
    let mut opened = Vec::new();
    for (name, flag) in [
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ] {
        let path = format!("/proc/{target}/ns/{name}");
        let fd = std::fs::File::open(&path).with_context(|| format!("open {path}"))?;
        opened.push((path, fd, flag));
    }
    Ok(opened)
}

/// Start `argv` inside the container whose first process is `target`; returns the
/// PID of a child that exits with the command's exit status.
pub fn spawn(
    target: Pid,
    process: &Process,
    cgroup: Option<&Path>,
    argv: &[String],
    stdio: ExecStdio,
) -> Result<Pid> {
    let opened = open_namespaces(target)?;
    // SAFETY: callers (the CLI, the supervisor) are single-threaded.
    match unsafe { fork() }.context("fork to join the container")? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            runtime::unblock_signals();
            let code = match join_and_run(&opened, process, cgroup, argv, &stdio) {
                Ok(code) => code,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    126
                }
            };
            // SAFETY: end the forked child without the parent's exit handlers.
            unsafe { libc::_exit(code) }
        }
    }
}

fn join_and_run(
    opened: &[(String, std::fs::File, CloneFlags)],
    process: &Process,
    cgroup: Option<&Path>,
    argv: &[String],
    stdio: &ExecStdio,
) -> Result<i32> {
    for (fd, target) in [(&stdio.stdin, 0), (&stdio.stdout, 1), (&stdio.stderr, 2)] {
        if let Some(fd) = fd {
            // SAFETY: dup2 of a valid descriptor onto a standard stream.
            unsafe { libc::dup2(fd.as_raw_fd(), target) };
        }
    }
    // The container's cgroup first, while the host's cgroup tree is still in view.
    if let Some(cgroup) = cgroup {
        runtime::cgroups::join(cgroup)?;
    }
    for (path, fd, flag) in opened {
        nix::sched::setns(fd, *flag).with_context(|| format!("setns {path}"))?;
    }
    // setns(CLONE_NEWPID) only places our children in the container's PID namespace.
    // SAFETY: this child is single-threaded.
    match unsafe { fork() }.context("fork into the container's PID namespace")? {
        ForkResult::Child => {
            let Err(err) = (|| -> Result<std::convert::Infallible> {
                runtime::process::set_user_and_capabilities(process)?;
                runtime::process::enter_cwd(process.cwd())?;
                runtime::process::close_fds_on_exec()?;
                let env = process.env().clone().unwrap_or_default();
                Ok(runtime::process::exec(argv, &env)?)
            })();
            eprintln!("error: {err:#}");
            // SAFETY: as above.
            unsafe { libc::_exit(126) }
        }
        ForkResult::Parent { child } => wait_exit_code(child),
    }
}

/// Wait for `pid` and turn its end into a shell-style exit code.
pub fn wait_exit_code(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e).context("wait for the process in the container"),
        }
    }
}

/// Wait at most `limit`; a process still running then is killed and `None` returned.
pub fn wait_with_timeout(pid: Pid, limit: Duration) -> Option<i32> {
    let until = Instant::now() + limit;
    loop {
        match waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Some(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Some(128 + sig as i32),
            Ok(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) | Err(_) => {
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                let _ = waitpid(pid, None);
                return None;
            }
        }
    }
}

/// How the command's standard streams are wired.
pub enum Stdio {
    /// The caller's own stdin/stdout/stderr.
    Inherit,
    /// A new pseudo-terminal; `stdin` says whether the caller's input is copied to it.
    Tty { stdin: bool },
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
    let (proc_spec, cgroup) = container_process(&pod.paths.bundle(container))?;
    let seccomp = runtime::seccomp::from_bundle(&pod.paths.bundle(container))?;

    let opened = open_namespaces(Pid::from_raw(process.pid))?;
    if !process.is_alive() {
        bail!("container {container} stopped while exec was joining it");
    }
    // The container's cgroup first, while the host's cgroup tree is still in view.
    if let Some(cgroup) = &cgroup {
        runtime::cgroups::join(cgroup)?;
    }
    // The CLI itself joins (it is single-threaded and exits after the command), so a
    // pseudo-terminal can be opened in the container's own /dev/pts.
    for (path, fd, flag) in &opened {
        nix::sched::setns(fd, *flag).with_context(|| format!("setns {path}"))?;
    }
    drop(opened);
    // The terminal is allocated in the container's namespaces (after setns): its
    // slave is the command's controlling terminal, its master stays with us.
    let tty = match stdio {
        Stdio::Tty { stdin } => Some((pty::open()?, pty::block_signals()?, stdin)),
        Stdio::Inherit => None,
    };
    // SAFETY: the CLI is single-threaded, so the child may run Rust code.
    match unsafe { fork() }.context("fork the exec'd process")? {
        ForkResult::Child => {
            let result = (|| -> Result<std::convert::Infallible> {
                if let Some((pty, _, _)) = &tty {
                    pty::unblock_signals();
                    pty::become_controlling_terminal(&pty.slave)?;
                }
                runtime::seccomp::load_around(seccomp.as_ref(), &proc_spec, || {
                    Ok(runtime::process::set_user_and_capabilities(&proc_spec)?)
                })?;
                runtime::process::enter_cwd(proc_spec.cwd())?;
                runtime::process::close_fds_on_exec()?;
                let env = proc_spec.env().clone().unwrap_or_default();
                Ok(runtime::process::exec(argv, &env)?)
            })();
            let Err(err) = result;
            eprintln!("error: exec in container {container}: {err:#}");
            // SAFETY: end the forked child without the parent's exit handlers.
            unsafe { libc::_exit(126) }
        }
        ForkResult::Parent { child } if tty.is_some() => {
            let Some((pty, sigfd, stdin)) = tty else {
                unreachable!("matched on tty.is_some()")
            };
            drop(pty.slave);
            // Raw mode only when the caller types into the command.
            let _raw = if stdin {
                Some(pty::RawMode::enter()?)
            } else {
                None
            };
            pty::relay(pty.master, child, stdin, &sigfd)
        }
        ForkResult::Parent { child } => wait_exit_code(child),
    }
}

//! `exec`: a new process inside a running container. It joins every namespace of the
//! container's first process (mnt last: after it, host paths are gone), forks once so
//! the PID namespace takes effect, then becomes the container's user with its
//! capabilities, in its working directory, with its environment.

use super::pty;
use super::record::StoredPod;
use crate::runtime;
use anyhow::{bail, Context, Result};
use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::Spec;

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
    let config = pod.paths.bundle(container).join("config.json");
    let spec = Spec::load(&config).with_context(|| format!("read {}", config.display()))?;
    let proc_spec = spec
        .process()
        .clone()
        .context("the container's spec has no process")?;

    // Open every namespace first, then join: mnt last.
    let mut opened = Vec::new();
    for (name, flag) in [
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ] {
        let path = format!("/proc/{}/ns/{name}", process.pid);
        let fd = std::fs::File::open(&path).with_context(|| format!("open {path}"))?;
        opened.push((path, fd, flag));
    }
    if !process.is_alive() {
        bail!("container {container} stopped while exec was joining it");
    }
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
                runtime::process::set_user_and_capabilities(&proc_spec)?;
                runtime::process::enter_cwd(proc_spec.cwd())?;
                runtime::process::close_fds_on_exec()?;
                let env = proc_spec.env().clone().unwrap_or_default();
                runtime::process::exec(argv, &env)
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
        ForkResult::Parent { child } => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
                Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e).context("wait for the exec'd process"),
            }
        },
    }
}

//! The runtime layer (runc's job): one container from an OCI bundle. It knows nothing
//! about pods: the namespaces to join arrive as paths in the spec.
//!
//! The processes of one `create`, named with prctl so `ps` tells the story:
//! ```text
//! caller (the pod supervisor)
//!  └─ minipod-inter   joins namespaces by path, unshares the new ones, forks
//!      └─ minipod-init  PID 1 of the new PID namespace: mounts, pivot_root,
//!                       user and capabilities, then execve → the container's program
//! ```
//! `unshare(CLONE_NEWPID)` only moves the *children* of the caller into the new PID
//! namespace, hence the intermediate process; it exits once it has reported the
//! init's host PID, and the init is re-parented to the supervisor (a subreaper).

pub mod cgroups;
pub mod channel;
pub mod devices;
pub mod error;
pub mod kernel;
mod mount_options;
pub mod namespaces;
pub mod process;
mod rootfs;
pub mod safe_path;
pub mod seccomp;

pub use error::Error;

use crate::narration;
use anyhow::{anyhow, Context, Result};
use channel::ChildMessage;
use kernel::{kernel, Prctl};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::Spec;
use process::refused;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

/// The container's standard streams, as the supervisor opened them.
pub struct Stdio {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Create and start the container described by `spec` in `bundle`; returns the host
/// PID of its first process once `execve` succeeded, or the error that stopped it.
pub fn run(name: &str, bundle: &Path, spec: &Spec, stdio: &Stdio) -> Result<Pid> {
    let process = spec.process().as_ref().context("the spec has no process")?;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    let plan = namespaces::plan(&namespaces).map_err(Error::from)?;
    let root = spec.root().as_ref().context("the spec has no root")?;
    let rootfs = bundle.join(root.path());
    let (parent_end, child_end) = channel::pair()?;

    // SAFETY: the supervisor that calls us is single-threaded, so the child may run
    // ordinary Rust code (no lock can be held by a thread that fork did not copy).
    match unsafe { fork() }.context("fork the container's intermediate process")? {
        ForkResult::Child => {
            drop(parent_end);
            unblock_signals();
            forward_steps_to(&child_end, name);
            let result = intermediate(&plan, spec.linux().as_ref(), &child_end, || {
                init(spec, process, &rootfs, stdio).map(|_| ())
            });
            if let Err(err) = result {
                channel::send(&child_end, &ChildMessage::Error(err));
            }
            // SAFETY: _exit ends the forked child without running the parent's atexit
            // handlers or flushing buffers it shares with the parent.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => {
            drop(child_end);
            let mut pid = None;
            let mut error = None;
            while let Some(message) = channel::receive(&parent_end)? {
                match message {
                    ChildMessage::Step(s) => narration::record(s),
                    ChildMessage::Pid(p) => pid = Some(Pid::from_raw(p)),
                    ChildMessage::Error(e) => error = Some(e),
                }
            }
            // The intermediate exits as soon as it has reported; reap it.
            let _ = waitpid(child, None);
            match (error, pid) {
                (Some(err), Some(pid)) => {
                    // The init failed before execve and exits; reap it here.
                    let _ = waitpid(pid, None);
                    Err(err.into())
                }
                (Some(err), None) => Err(err.into()),
                (None, Some(pid)) => Ok(pid),
                (None, None) => Err(anyhow!(
                    "container {name}: the setup process exited without a word"
                )),
            }
        }
    }
}

/// From now on this process's narrated steps travel to the parent over the channel.
fn forward_steps_to(channel_end: &OwnedFd, actor: &str) {
    let fd: RawFd = channel_end.as_raw_fd();
    narration::set_actor(actor);
    narration::set_sink(narration::Sink::Forward(Box::new(move |s| {
        // SAFETY: the channel's fd stays open until this process execs or exits.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        channel::send(borrowed, &ChildMessage::Step(s.clone()));
    })));
}

/// The intermediate: join, unshare, fork the init, report its PID, exit.
fn intermediate(
    plan: &namespaces::Plan,
    linux: Option<&oci_spec::runtime::Linux>,
    channel_end: &OwnedFd,
    init: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    set_process_name("minipod-inter");
    // Nothing in the container may open this process's memory or /proc/PID/exe (the
    // minipod binary) while it is being set up (CVE-2019-5736); execve resets it.
    let _ = kernel().prctl(
        Prctl::Dumpable(false),
        "nothing in the container may open this process or its binary (CVE-2019-5736)",
    );
    namespaces::join_all(plan)?;
    // Into the container's cgroup before the cgroup namespace is made, so that the
    // container sees its own cgroup as its root.
    if let Some(path) = linux.and_then(|l| l.cgroups_path().clone()) {
        cgroups::enter(&path, linux.and_then(|l| l.resources().as_ref()))?;
    }
    if !plan.create.is_empty() {
        kernel()
            .unshare(
                plan.create,
                "own filesystem view and own PID 1 (a new PID namespace takes effect for children)",
            )
            .map_err(|errno| error::NamespaceError::Unshare {
                flags: namespaces::describe(plan.create),
                errno: errno.into(),
            })?;
    }
    // SAFETY: this process is single-threaded (a fork of a single-threaded parent).
    match unsafe { fork() }.map_err(refused("fork the container's init process"))? {
        ForkResult::Parent { child } => {
            channel::send(channel_end, &ChildMessage::Pid(child.as_raw()));
            // SAFETY: see above; the init carries on alone.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Child => {
            narration::set_pid(host_pid());
            set_process_name("minipod-init");
            init()
        }
    }
}

/// The container's first process, up to `execve`.
fn init(
    spec: &Spec,
    process: &oci_spec::runtime::Process,
    rootfs: &Path,
    stdio: &Stdio,
) -> Result<std::convert::Infallible, Error> {
    nix::unistd::setsid().map_err(refused("setsid"))?;
    for (fd, target) in [(&stdio.stdin, 0), (&stdio.stdout, 1), (&stdio.stderr, 2)] {
        // SAFETY: dup2 onto 0, 1, 2 with a valid fd; Rust holds no handle to them.
        if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
            return Err(refused("dup2 the container's stdio")(nix::errno::Errno::last()).into());
        }
    }
    build(spec, process, rootfs)
}

/// From the new mount namespace to `execve`: the order the kernel sees.
fn build(
    spec: &Spec,
    process: &oci_spec::runtime::Process,
    rootfs: &Path,
) -> Result<std::convert::Infallible, Error> {
    rootfs::prepare(spec, rootfs)?;
    if let Some(hostname) = spec.hostname() {
        kernel()
            .sethostname(hostname, "the container's own UTS namespace")
            .map_err(refused(format!("sethostname {hostname}")))?;
    }
    // The seccomp filter goes on around the drop of privileges (the kernel's order).
    let filter = seccomp::from_spec(spec)?;
    seccomp::load_around(filter.as_ref(), process, || {
        Ok(process::set_user_and_capabilities(process)?)
    })?;
    process::enter_cwd(process.cwd())?;
    process::close_fds_on_exec()?;
    let env = process.env().clone().unwrap_or_default();
    let args = process.args().clone().unwrap_or_default();
    Ok(process::exec(&args, &env)?)
}

/// The PID of this process as the host sees it (read before a new /proc is mounted:
/// /proc still belongs to the host's PID namespace here).
pub fn host_pid() -> i32 {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| std::process::id() as i32)
}

/// A child inherits its parent's blocked signals, and keeps them across execve: the
/// supervisor blocks SIGCHLD, SIGTERM and SIGINT for its signalfd, a container must not.
pub fn unblock_signals() {
    let _ = nix::sys::signal::SigSet::empty().thread_set_mask();
}

/// Name this process for `ps` (15 bytes at most).
pub fn set_process_name(name: &str) {
    if let Ok(c) = std::ffi::CString::new(name) {
        let _ = kernel().prctl(Prctl::Name(&c), "ps tells the story");
    }
}

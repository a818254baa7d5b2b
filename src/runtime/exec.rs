//! `exec`: a new process in a running container (the CLI's `exec`, exec probes,
//! exec lifecycle hooks), as runc's `exec`, crun's `libcrun_join_process` or youki's
//! tenant container make it.
//!
//! ```text
//! caller
//!  └─ minipod-exec   the sealed copy of minipod, non-dumpable: opens every namespace
//!      │             of the container's first process, joins its cgroup, then the
//!      │             namespaces (mnt last), makes the pty there (-t), forks, waits,
//!      │             and exits with the command's status
//!      └─ the command  in the container's PID namespace: the closing sequence, execve
//! ```
//! `setns(CLONE_NEWPID)` only places the *children* of the caller in the namespace,
//! hence the fork. The caller itself never changes namespace.

use super::channel::{self, ChildMessage};
use super::kernel::kernel;
use super::stage::{self, Job};
use super::{cgroups, closing, procfs, seccomp, terminal};
use crate::narration;
use anyhow::{anyhow, bail, Context, Result};
use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::Process;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The running container to enter.
pub struct Target<'a> {
    /// Host PID of its first process, and that process's start time (so a reused
    /// PID is never joined).
    pub pid: i32,
    pub start_time: u64,
    /// Its process settings (user, capabilities, environment, cwd) from config.json.
    pub process: &'a Process,
    /// Its cgroup, which the command joins.
    pub cgroup: Option<&'a Path>,
    /// Its seccomp filter (`linux.seccomp` of its spec, compiled): the command gets
    /// the same filter as the container's first process.
    pub seccomp: Option<&'a seccomp::Program>,
    /// Who the narration names.
    pub who: &'a str,
    /// What an error of the command's process starts with (`exec in container c`).
    pub error_context: Option<&'a str>,
}

/// The command's standard streams.
pub enum Stdio {
    /// The caller's own.
    Inherit,
    /// These descriptors (`None`: the caller's).
    Fds([Option<OwnedFd>; 3]),
    /// A new pseudo-terminal made in the container; its master comes back.
    Pty,
}

/// A started command: `pid` (our child) exits with the command's status.
pub struct Started {
    pub pid: Pid,
    pub pty_master: Option<OwnedFd>,
    /// The host PID of the command itself (the stage's child in the container).
    pub program_pid: Option<i32>,
}

#[derive(Serialize, Deserialize)]
pub struct ExecJob {
    pid: i32,
    start_time: u64,
    process: Process,
    cgroup: Option<PathBuf>,
    seccomp: Option<seccomp::Program>,
    argv: Vec<String>,
    tty: bool,
    pub who: String,
    error_context: Option<String>,
    /// runc's `exec --detach`: the stage leaves as soon as the command runs, so the
    /// command is re-parented to the caller's subreaper (conmon, a containerd shim),
    /// which waits for it.
    #[serde(default)]
    detach: bool,
    /// runc's `exec --preserve-fds N`: the caller's descriptors 3..3+N go to the
    /// command as the same numbers.
    #[serde(default)]
    preserve_fds: u32,
}

/// Start `argv` in the container; returns once the command runs (or has failed).
pub fn spawn(target: &Target, argv: &[String], stdio: Stdio) -> Result<Started> {
    spawn_preserving(target, argv, stdio, false, 0)
}

/// runc's `exec [--detach] [--preserve-fds N]`: as [`spawn`], and the command also
/// gets the caller's descriptors 3, 4, … 3+N-1 as the same numbers. With `detach` the
/// stage exits once the command runs, and the command belongs to the caller's
/// subreaper (conmon, a containerd shim).
pub fn spawn_preserving(
    target: &Target,
    argv: &[String],
    stdio: Stdio,
    detach: bool,
    preserve_fds: u32,
) -> Result<Started> {
    let job = Job::Exec(Box::new(ExecJob {
        pid: target.pid,
        start_time: target.start_time,
        process: target.process.clone(),
        cgroup: target.cgroup.map(Path::to_path_buf),
        seccomp: target.seccomp.cloned(),
        argv: argv.to_vec(),
        tty: matches!(stdio, Stdio::Pty),
        who: target.who.to_string(),
        error_context: target.error_context.map(str::to_string),
        detach,
        preserve_fds,
    }));
    let fds = match &stdio {
        Stdio::Fds(fds) => [0, 1, 2].map(|i| fds[i].as_ref().map(|f| f.as_fd())),
        Stdio::Inherit | Stdio::Pty => [None, None, None],
    };
    let (pid, channel_end) = stage::start("minipod-exec", &job, fds, preserve_fds)?;
    // Our copies of the command's streams: closed, so a pipe sees its end.
    drop(stdio);
    let mut pty_master = None;
    let mut program_pid = None;
    while let Some((message, fd)) = channel::receive_with_fd(&channel_end)? {
        if fd.is_some() {
            pty_master = fd;
        }
        match message {
            ChildMessage::Step(s) => narration::record(s),
            // The command runs: what it says from now on is its own business.
            ChildMessage::Pid(p) => {
                program_pid = Some(p);
                break;
            }
            ChildMessage::Error(e) => {
                let _ = waitpid(pid, None);
                return Err(anyhow!(e));
            }
            ChildMessage::HooksDue | ChildMessage::Terminal | ChildMessage::WaitingForStart => {}
        }
    }
    if detach {
        // The stage exits right after reporting the command's PID.
        let _ = waitpid(pid, None);
    }
    Ok(Started {
        pid,
        pty_master,
        program_pid,
    })
}

/// The stage's side (in the sealed copy, non-dumpable): join, fork, wait.
pub(super) fn stage(job: ExecJob, channel_end: &OwnedFd) -> i32 {
    super::set_process_name("minipod-exec");
    match join_and_run(&job, channel_end) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            126
        }
    }
}

fn join_and_run(job: &ExecJob, channel_end: &OwnedFd) -> Result<i32> {
    let opened = open_namespaces(job.pid)?;
    // The files are open: if the process is still the one we were told of, they are
    // its namespaces, whatever happens to the PID from now on.
    if !procfs::is_running(job.pid, job.start_time) {
        bail!("the container stopped while exec was joining it");
    }
    // The container's cgroup first, while the host's cgroup tree is still in view.
    if let Some(cgroup) = &job.cgroup {
        cgroups::join(cgroup)?;
    }
    for (path, fd, flag) in &opened {
        kernel()
            .setns(
                fd.as_fd(),
                Path::new(path),
                *flag,
                "exec: join the container's namespaces, mnt last",
            )
            .with_context(|| format!("setns {path}"))?;
    }
    drop(opened);
    let slave = if job.tty {
        let (master, slave) = terminal::open()?;
        send_with_fd(channel_end, master.as_raw_fd(), &job.who)?;
        Some(slave)
    } else {
        None
    };
    // Told when the command has exec'd: its end of this pipe closes then.
    let (exec_r, exec_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;
    // SAFETY: this stage is single-threaded.
    match unsafe { fork() }.context("fork into the container's PID namespace")? {
        ForkResult::Child => {
            drop(exec_r);
            let Err(err) = (|| -> Result<std::convert::Infallible> {
                if let Some(slave) = &slave {
                    terminal::become_controlling_terminal(slave)?;
                }
                Ok(closing::become_program(
                    &job.process,
                    job.seccomp.as_ref(),
                    &job.argv,
                    job.preserve_fds,
                )?)
            })();
            match &job.error_context {
                Some(context) => eprintln!("error: {context}: {err:#}"),
                None => eprintln!("error: {err:#}"),
            }
            // SAFETY: end the forked child without the parent's exit handlers.
            unsafe { libc::_exit(126) }
        }
        ForkResult::Parent { child } => {
            drop(slave);
            drop(exec_w);
            let mut byte = [0u8; 1];
            while let Err(nix::errno::Errno::EINTR) = nix::unistd::read(&exec_r, &mut byte) {}
            channel::send(channel_end, &ChildMessage::Pid(child.as_raw()));
            if job.detach {
                return Ok(0);
            }
            wait_exit_code(child)
        }
    }
}

/// Every namespace of the container's first process, opened before any is joined
/// (once one is joined, `/proc` paths may mean something else), mnt last: after it,
/// host paths are gone.
fn open_namespaces(target: i32) -> Result<Vec<(String, OwnedFd, CloneFlags)>> {
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
        opened.push((path, OwnedFd::from(fd), flag));
    }
    // A pod with its own user namespace (hostUsers: false): joined last, after the
    // mount namespace, which belongs to the host's.
    let user = format!("/proc/{target}/ns/user");
    if std::fs::read_link(&user).ok() != std::fs::read_link("/proc/self/ns/user").ok() {
        let fd = std::fs::File::open(&user).with_context(|| format!("open {user}"))?;
        opened.push((user, OwnedFd::from(fd), CloneFlags::CLONE_NEWUSER));
    }
    Ok(opened)
}

/// A step message carrying the pty's master to the caller.
fn send_with_fd(channel_end: &OwnedFd, fd: RawFd, who: &str) -> Result<()> {
    let message = ChildMessage::Step(narration::Step {
        who: who.to_string(),
        pid: super::host_pid(),
        what: "open /dev/pts/ptmx, ioctl(TIOCGPTPEER) in the container".into(),
        why: "exec -t: the command's terminal; its master goes to the caller".into(),
    });
    channel::send_with_fd(channel_end, &message, fd).context("send the pty's master to the caller")
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

//! The runtime layer (runc's job): one container from an OCI bundle. It knows nothing
//! about pods: the namespaces to join arrive as paths in the spec.
//!
//! The processes of one `create`, named with prctl so `ps` tells the story:
//! ```text
//! caller (the pod supervisor)
//!  └─ minipod-inter   the sealed copy of minipod (see `stage`, `sealed`), non-dumpable:
//!      │              joins namespaces by path, unshares the new ones, forks
//!      └─ minipod-init  PID 1 of the new PID namespace: mounts, pivot_root,
//!                       user and capabilities, then execve → the container's program
//! ```
//! `unshare(CLONE_NEWPID)` only moves the *children* of the caller into the new PID
//! namespace, hence the intermediate process; it exits once it has reported the
//! init's host PID, and the init is re-parented to the supervisor (a subreaper).

mod cgroup_mount;
pub mod cgroup_usage;
pub mod cgroups;
pub mod channel;
mod closing;
pub mod devices;
pub mod error;
pub mod exec;
pub mod kernel;
mod loopback;
pub mod mount_options;
pub mod namespaces;
pub mod oci_hooks;
pub mod pod_mounts;
pub mod process;
pub mod procfs;
mod rootfs;
mod rootfs_mount;
pub mod safe_path;
mod sealed;
pub mod seccomp;
pub mod stage;
pub mod start_gate;
pub mod sysctl;
pub(crate) mod terminal;
pub mod userns;
pub mod visit;

pub use error::Error;

use crate::narration;
use anyhow::{anyhow, Context, Result};
use channel::ChildMessage;
use kernel::{kernel, Prctl};
use nix::sched::CloneFlags;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::Spec;
use process::refused;
pub use rootfs_mount::RootfsMount;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// The container's standard streams, as the supervisor opened them.
pub struct Stdio {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Create and start the container described by `spec` in `bundle`; returns the host
/// PID of its first process once `execve` succeeded, or the error that stopped it.
/// `programs`: the caller's compiled seccomp filters, where the spec's is found (or
/// compiled, once), then saved beside the bundle for a later `exec`.
pub fn run(
    name: &str,
    bundle: &Path,
    spec: &Spec,
    programs: &mut seccomp::Programs,
    stdio: &Stdio,
) -> Result<Pid> {
    let profile = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let seccomp = match profile {
        Some(profile) => {
            let program = programs
                .for_profile(profile)
                .with_context(|| format!("container {name}: compile its seccomp profile"))?;
            seccomp::save(bundle, profile, &program)?;
            Some(program)
        }
        None => None,
    };
    let job = stage::Job::Create {
        name: name.to_string(),
        bundle: bundle.to_path_buf(),
        spec: Box::new(spec.clone()),
        seccomp,
        gate: None,
        preserve_fds: 0,
    };
    launch(name, spec, &job, stdio, |_| Ok(())).map(|created| created.pid)
}

/// A container made by [`create`]: its init waits at the start gate.
pub struct Created {
    /// The host PID of the container's first process.
    pub pid: Pid,
    /// The master of its terminal, when `process.terminal` is set.
    pub terminal: Option<OwnedFd>,
}

/// runc's `create`: build the container described by `spec` in `bundle` up to its
/// program and leave its init waiting at `gate` until [`start_gate::open`].
/// `runtime_hooks` runs the prestart and createRuntime hooks once the namespaces and
/// mounts exist (before pivot_root), given the init's PID; its error stops the init.
/// `preserve_fds`: the caller's descriptors 3, 4, … that the program gets too.
#[allow(clippy::too_many_arguments)]
pub fn create(
    name: &str,
    bundle: &Path,
    spec: &Spec,
    seccomp: Option<seccomp::Program>,
    stdio: &Stdio,
    gate: start_gate::Gate,
    preserve_fds: u32,
    runtime_hooks: impl FnMut(Pid) -> Result<()>,
) -> Result<Created> {
    let job = stage::Job::Create {
        name: name.to_string(),
        bundle: bundle.to_path_buf(),
        spec: Box::new(spec.clone()),
        seccomp,
        gate: Some(gate),
        preserve_fds,
    };
    launch(name, spec, &job, stdio, runtime_hooks)
}

/// Start the stage for a `Create` job and follow what it says until the program runs
/// (end of file: `execve` closed the channel) or the init waits at its start gate.
fn launch(
    name: &str,
    spec: &Spec,
    job: &stage::Job,
    stdio: &Stdio,
    mut runtime_hooks: impl FnMut(Pid) -> Result<()>,
) -> Result<Created> {
    let fds = [&stdio.stdin, &stdio.stdout, &stdio.stderr].map(|fd| Some(fd.as_fd()));
    let preserve = match job {
        stage::Job::Create { preserve_fds, .. } => *preserve_fds,
        stage::Job::Exec(_) => 0,
    };
    let (child, parent_end) = stage::start("minipod-inter", job, fds, preserve)?;
    let mut pid = None;
    let mut error = None;
    let mut terminal = None;
    while let Some((message, fd)) = channel::receive_with_fd(&parent_end)? {
        match message {
            ChildMessage::Step(s) => narration::record(s),
            ChildMessage::Pid(p) => pid = Some(Pid::from_raw(p)),
            ChildMessage::Error(e) => error = Some(e),
            ChildMessage::Terminal => terminal = fd,
            ChildMessage::HooksDue => {
                let ran = match pid {
                    Some(pid) => runtime_hooks(pid),
                    None => Err(anyhow!("the init asked for hooks before it had a PID")),
                };
                match ran {
                    Ok(()) => {
                        nix::unistd::write(&parent_end, channel::HOOKS_DONE)
                            .context("tell the init its hooks ran")?;
                    }
                    Err(err) => {
                        // Closing our end (below) is the init's answer: it stops.
                        error = Some(Error::from(err));
                        break;
                    }
                }
            }
            // The init blocks at its gate, holding its end of the channel open.
            ChildMessage::WaitingForStart => break,
        }
    }
    drop(parent_end);
    // The intermediate exits as soon as it has reported; reap it (unless, with no
    // PID namespace to enter, it became the container's first process itself).
    if pid != Some(child) {
        let _ = waitpid(child, None);
    }
    match (error, pid) {
        (Some(err), Some(pid)) => {
            // The init failed before execve and exits; reap it here (our child only
            // when we are a subreaper, as the supervisor is).
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(pid, None);
            Err(anyhow!(err))
        }
        (Some(err), None) => Err(anyhow!(err)),
        (None, Some(pid)) => Ok(Created { pid, terminal }),
        (None, None) => Err(anyhow!(silent_setup_death(name, spec))),
    }
}

/// Why the setup process may have died before it could report: it joins the
/// container's cgroup early, and a memory limit below what it needs (`memory: "1"`)
/// has it OOM-killed there. runc says "container init was OOM-killed (memory limit
/// too low?)"; we say the same, with the limit.
fn silent_setup_death(name: &str, spec: &Spec) -> String {
    let linux = spec.linux().as_ref();
    let oom_killed = linux
        .and_then(|l| l.cgroups_path().as_deref())
        .is_some_and(cgroups::oom_killed);
    if !oom_killed {
        return format!("container {name}: the setup process exited without a word");
    }
    let limit = linux
        .and_then(|l| l.resources().as_ref())
        .and_then(|r| r.memory().as_ref())
        .and_then(|m| m.limit());
    match limit {
        Some(bytes) => format!(
            "container {name}: the setup process was OOM-killed in the container's cgroup \
             (memory limit too low?): resources.limits.memory is {bytes} bytes, too little \
             to even start the container"
        ),
        None => {
            format!("container {name}: the setup process was OOM-killed in the container's cgroup")
        }
    }
}

/// What the init of a `Create` job works from.
pub(crate) struct Setup<'a> {
    pub spec: &'a Spec,
    pub seccomp: Option<&'a seccomp::Program>,
    /// runc's `create`: wait for `start` before the program.
    pub gate: Option<&'a start_gate::Gate>,
    /// runc's `--preserve-fds`: descriptors 3.. the program gets from the caller.
    pub preserve_fds: u32,
    pub channel_end: &'a OwnedFd,
}

/// The `Create` job of a stage (the sealed copy of minipod, its stdio already the
/// container's): become the intermediate, which forks the init.
fn create_stage(setup: &Setup, bundle: &Path) -> Result<(), Error> {
    let spec = setup.spec;
    let process = spec.process().as_ref().context("the spec has no process")?;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    let plan = namespaces::plan(&namespaces)?;
    let root = spec.root().as_ref().context("the spec has no root")?;
    let rootfs = bundle.join(root.path());
    intermediate(&plan, spec.linux().as_ref(), setup.channel_end, || {
        init(setup, process, &rootfs).map(|_| ())
    })
}

/// The intermediate: join, unshare, fork the init, report its PID, exit.
fn intermediate(
    plan: &namespaces::Plan,
    linux: Option<&oci_spec::runtime::Linux>,
    channel_end: &OwnedFd,
    init: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    // This process is the sealed copy of minipod, non-dumpable since its first
    // instruction (see `stage`): nothing in the container can open it.
    set_process_name("minipod-inter");
    namespaces::join_all(plan)?;
    // Into the container's cgroup before the cgroup namespace is made, so that the
    // container sees its own cgroup as its root.
    if let Some(path) = linux.and_then(|l| l.cgroups_path().clone()) {
        cgroups::enter(&path, linux.and_then(|l| l.resources().as_ref()))?;
    }
    // The user namespace before any other: the ones made after it are its own.
    if plan.user == Some(userns::UserPlan::Create) {
        let maps = |m: Option<&Vec<oci_spec::runtime::LinuxIdMapping>>| {
            userns::map_text(m.map(Vec::as_slice).unwrap_or(&[]))
        };
        userns::create(
            &maps(linux.and_then(|l| l.uid_mappings().as_ref())),
            &maps(linux.and_then(|l| l.gid_mappings().as_ref())),
        )?;
    }
    let unshare = |flags: CloneFlags, why: &str| {
        kernel()
            .unshare(flags, why)
            .map_err(|errno| error::NamespaceError::Unshare {
                flags: namespaces::describe(flags),
                errno: errno.into(),
            })
    };
    // The pod's namespaces first, when this container is a pod's infra: they are
    // born here, and every container of the pod will join them.
    // The words are read from the flags (hostNetwork, hostIPC leave some out).
    let pod_level = namespaces::pod_level(plan);
    if !pod_level.is_empty() {
        unshare(pod_level, &namespaces::pod_level_why(plan))?;
        if pod_level.contains(CloneFlags::CLONE_NEWNET) {
            kernel()
                .link_up(
                    "lo",
                    "a new network namespace's lo is down: localhost works once it is up",
                )
                .map_err(refused("bring lo up in the pod's network namespace"))?;
        }
    }
    // A new PID namespace, or a joined one, takes effect for children only: the
    // container's first process is a child of this one, then.
    let own = plan.create - pod_level;
    let fork_needed = own.contains(CloneFlags::CLONE_NEWPID)
        || plan
            .join
            .iter()
            .any(|(typ, _)| *typ == oci_spec::runtime::LinuxNamespaceType::Pid);
    if !own.is_empty() {
        unshare(own, &namespaces::own_why(own, fork_needed))?;
    }
    sysctl::write_all(linux.and_then(|l| l.sysctl().as_ref()), plan)?;
    if !fork_needed {
        // No PID namespace to enter: this process is the container's first one.
        channel::send(channel_end, &ChildMessage::Pid(host_pid()));
        set_process_name("minipod-init");
        return init();
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

/// The container's first process, up to `execve` (its stdio is already 0, 1, 2).
fn init(
    setup: &Setup,
    process: &oci_spec::runtime::Process,
    rootfs: &Path,
) -> Result<std::convert::Infallible, Error> {
    nix::unistd::setsid().map_err(refused("setsid"))?;
    if process.terminal() == Some(true) && setup.gate.is_none() {
        // A pod's tty container: its stdin is the terminal the supervisor made, the
        // new session's controlling terminal. (minipod-runc's `create` makes the
        // terminal itself later, see `give_terminal`.)
        // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal it).
        if unsafe { libc::ioctl(0, libc::TIOCSCTTY as _, 0) } < 0 {
            let errno = nix::errno::Errno::last();
            return Err(refused("ioctl(TIOCSCTTY) on the container's terminal")(errno).into());
        }
    }
    build(setup, process, rootfs)
}

/// From the new mount namespace to `execve`: the order the kernel sees.
fn build(
    setup: &Setup,
    process: &oci_spec::runtime::Process,
    rootfs: &Path,
) -> Result<std::convert::Infallible, Error> {
    let spec = setup.spec;
    // Read while /proc is still the host's: this process's PID, and a user namespace
    // to join (its mapping makes the root and the volumes idmapped mounts).
    let pid = host_pid();
    let fifo = setup.gate.map(start_gate::open_early).transpose()?;
    let linux = spec.linux().as_ref();
    let join_user = linux
        .and_then(|l| l.namespaces().as_ref())
        .and_then(|ns| {
            ns.iter()
                .find(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::User)
        })
        .and_then(|n| n.path().clone());
    let user_fd = join_user.as_deref().map(userns::open).transpose()?;
    // A bundle's container (runc's `create`) with a user namespace made for it (not
    // joined): from here on (host paths such as the start FIFO are open) this process
    // is the namespace's root, and builds its mounts and /dev as that root, as runc
    // does. (A pod's infra keeps the host's root for its few mounts; its containers
    // join its namespace last, over idmapped mounts: see `userns`.)
    let made_user = setup.gate.is_some()
        && linux
            .and_then(|l| l.namespaces().as_ref())
            .is_some_and(|ns| {
                ns.iter().any(|n| {
                    n.typ() == oci_spec::runtime::LinuxNamespaceType::User && n.path().is_none()
                })
            });
    if made_user {
        userns::become_root()?;
    }
    let mapping = userns::map_text(
        linux
            .and_then(|l| l.uid_mappings().as_deref())
            .unwrap_or(&[]),
    );
    let mapping = mapping.trim_end().replace('\n', ", ");
    rootfs::mount_all(
        spec,
        rootfs,
        user_fd.as_ref().map(|fd| (fd.as_fd(), mapping.as_str())),
    )?;
    if let Some(gate) = setup.gate {
        start_gate::hooks_before_pivot(gate, spec, setup.channel_end)?;
    }
    rootfs::pivot(spec, rootfs)?;
    if let Some(hostname) = spec.hostname() {
        kernel()
            .sethostname(hostname, "the container's own UTS namespace")
            .map_err(refused(format!("sethostname {hostname}")))?;
    }
    if let (Some(fd), Some(path)) = (&user_fd, &join_user) {
        userns::join(fd.as_fd(), path)?;
    }
    let args = process.args().clone().unwrap_or_default();
    if let (Some(gate), Some(fifo)) = (setup.gate, fifo) {
        if process.terminal() == Some(true) {
            give_terminal(setup.channel_end)?;
        }
        // A program that is not there fails `create`, not a later `start`.
        let program = args.first().ok_or(error::ProcessError::NoCommand)?;
        let env = process.env().clone().unwrap_or_default();
        process::find_executable(program, &env)?;
        start_gate::wait_for_start(gate, spec, fifo, pid, setup.channel_end)?;
        // Nobody reads the channel after `create` returned: what fails from here on
        // is said on the container's stderr, where its program's errors go too.
        let Err(err) = closing::become_program(process, setup.seccomp, &args, setup.preserve_fds);
        eprintln!("error: container {}: {err}", gate.id);
        return Err(err);
    }
    // The filter arrived compiled with the job: here it is only loaded.
    closing::become_program(process, setup.seccomp, &args, setup.preserve_fds)
}

/// `process.terminal`: a pty made in the container's /dev/pts, its slave this
/// process's controlling terminal and stdio, its master sent to the caller.
fn give_terminal(channel_end: &OwnedFd) -> Result<(), Error> {
    let (master, slave) = terminal::open()?;
    channel::send_with_fd(
        channel_end,
        &ChildMessage::Terminal,
        std::os::fd::AsRawFd::as_raw_fd(&master),
    )?;
    drop(master);
    terminal::bind_console(&slave)?;
    terminal::make_controlling(&slave)?;
    Ok(())
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

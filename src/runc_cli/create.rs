//! `create ID`: build the container from its bundle up to its program, which waits
//! at the start gate (runtime-spec runtime.md#create). The container's stdio is ours
//! (conmon and containerd's shim hand us pipes), or with `process.terminal` a pty
//! whose master goes to `--console-socket`.

use super::container::{self, lock_dir, Container, Record};
use super::{console_socket, Context};
use crate::runtime::oci_hooks;
use crate::runtime::{self, cgroups, procfs, seccomp, start_gate, Stdio};
use anyhow::{bail, Context as _, Result};
use clap::Args;
use oci_spec::runtime::Spec;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    /// The bundle: the directory holding config.json and the root file system.
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
    /// Write the container's PID here once it is created.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// A unix socket to receive the master of the container's terminal
    /// (`process.terminal`), as SCM_RIGHTS.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Accepted for runc compatibility: minipod always uses pivot_root.
    #[arg(long)]
    pub no_pivot: bool,
    /// Accepted for runc compatibility: minipod makes no session keyring.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass this many of our descriptors after stderr (3, 4, …) on to the program.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    pub id: String,
}

pub fn run(ctx: &Context, args: &CreateArgs) -> Result<()> {
    create(ctx, args, false).map(|_| ())
}

/// Create the container; returns its locked directory (`run` starts it next) and,
/// when `hold_terminal` (a foreground `run`) and `process.terminal` is set without a
/// console socket, the master of its terminal, for the caller to relay.
pub fn create(
    ctx: &Context,
    args: &CreateArgs,
    hold_terminal: bool,
) -> Result<(Container, Option<OwnedFd>)> {
    container::check_id(&args.id)?;
    let bundle = std::fs::canonicalize(&args.bundle)
        .with_context(|| format!("bundle {}", args.bundle.display()))?;
    let mut spec = Spec::load(bundle.join("config.json"))
        .with_context(|| format!("read {}", bundle.join("config.json").display()))?;
    let process = spec
        .process()
        .as_ref()
        .context("config.json has no process")?;
    let terminal = process.terminal() == Some(true);
    if terminal && args.console_socket.is_none() && !hold_terminal {
        // runc's words: only a foreground `run` stays to hold the terminal.
        bail!("cannot allocate tty if {} will detach without setting console socket (process.terminal is true: give --console-socket)", super::NAME);
    }
    if !terminal && args.console_socket.is_some() {
        bail!("--console-socket is only for a container with process.terminal: true");
    }
    let cgroup = cgroup_path(&mut spec, &args.id)?;
    add_default_devices(&mut spec)?;
    let listen_fds = socket_activation(&mut spec);

    std::fs::create_dir_all(&ctx.root)
        .with_context(|| format!("create the state root {}", ctx.root.display()))?;
    let dir = ctx.root.join(&args.id);
    match std::fs::create_dir(&dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("container {:?} already exists", args.id)
        }
        Err(err) => return Err(err).with_context(|| format!("create {}", dir.display())),
    }
    let lock = lock_dir(&dir)?;
    match build(&dir, &bundle, &spec, &cgroup, args, listen_fds) {
        Ok((record, master)) => Ok((Container::new(dir, record, lock), master)),
        Err(err) => {
            discard_cgroup(&cgroup);
            let _ = std::fs::remove_dir_all(&dir);
            Err(err)
        }
    }
}

/// Everything after the state directory exists; on error the caller removes it.
fn build(
    dir: &Path,
    bundle: &Path,
    spec: &Spec,
    cgroup: &Path,
    args: &CreateArgs,
    listen_fds: u32,
) -> Result<(Record, Option<OwnedFd>)> {
    spec.save(dir.join("config.json"))
        .with_context(|| format!("save config.json in {}", dir.display()))?;
    let fifo = dir.join("exec.fifo");
    start_gate::make_fifo(&fifo)?;
    let seccomp = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(profile) => {
            let program = seccomp::compile(profile)
                .with_context(|| format!("container {}: compile its seccomp profile", args.id))?;
            // exec finds it here.
            seccomp::save(dir, profile, &program)?;
            Some(program)
        }
        None => None,
    };
    let gate = start_gate::Gate {
        fifo,
        id: args.id.clone(),
        bundle: bundle.to_path_buf(),
    };
    let hooks = spec.hooks().clone().unwrap_or_default();
    let runtime_hooks = |pid: nix::unistd::Pid| {
        let state = gate.state(spec, "creating", pid.as_raw());
        oci_hooks::run(
            "prestart",
            hooks.prestart().as_deref().unwrap_or(&[]),
            &state,
        )?;
        oci_hooks::run(
            "createRuntime",
            hooks.create_runtime().as_deref().unwrap_or(&[]),
            &state,
        )
    };
    let mut created = runtime::create(
        &args.id,
        bundle,
        spec,
        seccomp,
        &own_stdio()?,
        gate.clone(),
        listen_fds.saturating_add(args.preserve_fds),
        runtime_hooks,
    )?;
    let pid = created.pid.as_raw();
    let init = created.pid;
    let kill = || {
        let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
    };
    if let (Some(socket), Some(master)) = (&args.console_socket, &created.terminal) {
        if let Err(err) = console_socket::send(socket, master.as_fd()) {
            kill();
            return Err(err);
        }
    }
    // Without a console socket (a foreground `run`), the caller relays the terminal.
    let master = match args.console_socket {
        Some(_) => None,
        None => created.terminal.take(),
    };
    let Some(start_time) = procfs::start_time(pid) else {
        bail!(
            "container {}: its process (PID {pid}) exited during create",
            args.id
        );
    };
    let record = Record {
        id: args.id.clone(),
        bundle: bundle.to_path_buf(),
        pid,
        start_time,
        cgroup: cgroup.to_path_buf(),
        created: crate::state::time::rfc3339_nanos(std::time::SystemTime::now()),
    };
    let saved =
        crate::state::atomic::write_json(&dir.join("state.json"), &record).and_then(
            |()| match &args.pid_file {
                Some(path) => container::write_pid_file(path, pid),
                None => Ok(()),
            },
        );
    if let Err(err) = saved {
        kill();
        return Err(err);
    }
    Ok((record, master))
}

/// systemd's socket activation, as runc passes it on: when we were started with
/// `LISTEN_FDS=N` meant for us (`LISTEN_PID` is our PID), descriptors 3..3+N go to the
/// program (before any `--preserve-fds` ones) with `LISTEN_FDS=N` and `LISTEN_PID=1`
/// in its environment. Returns N (0 without activation).
fn socket_activation(spec: &mut Spec) -> u32 {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| ours && *n > 0);
    let (Some(count), Some(mut process)) = (count, spec.process().clone()) else {
        return 0;
    };
    let mut env = process.env().clone().unwrap_or_default();
    env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
    env.push(format!("LISTEN_FDS={count}"));
    env.push("LISTEN_PID=1".into());
    process.set_env(Some(env));
    spec.set_process(Some(process));
    count
}

/// After a failed create: kill what is left in the cgroup, wait until the kernel has
/// emptied it (a killed process leaves it when it is gone), remove it.
fn discard_cgroup(cgroup: &Path) {
    for _ in 0..5000 {
        let pids = cgroups::procs(cgroup);
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    cgroups::remove(cgroup);
}

/// The container's cgroup: `linux.cgroupsPath` (an absolute cgroupfs path, as podman
/// and containerd give it), or `/<id>` as runc picks; systemd's `slice:prefix:name`
/// form needs a systemd driver, which minipod-runc has not.
fn cgroup_path(spec: &mut Spec, id: &str) -> Result<PathBuf> {
    let mut linux = spec.linux().clone().unwrap_or_default();
    let path = match linux.cgroups_path() {
        Some(p) if p.to_string_lossy().contains(':') => bail!(
            "linux.cgroupsPath {:?} is systemd's slice:prefix:name form; minipod-runc manages cgroupfs paths only",
            p.display()
        ),
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => Path::new("/").join(p),
        None => Path::new("/").join(id),
    };
    if path
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        bail!(
            "linux.cgroupsPath {} leaves the cgroup root",
            path.display()
        );
    }
    linux.set_cgroups_path(Some(path.clone()));
    spec.set_linux(Some(linux));
    Ok(path)
}

/// The devices every container gets (runtime-spec config-linux.md#default-devices),
/// with the device-cgroup rules that let it open them and its terminal, as runc adds
/// them: a spec may list none and deny every device (`runc spec` does).
fn add_default_devices(spec: &mut Spec) -> Result<()> {
    use oci_spec::runtime::{LinuxDeviceCgroupBuilder, LinuxDeviceType};
    let mut linux = spec.linux().clone().unwrap_or_default();
    let mut devices = linux.devices().clone().unwrap_or_default();
    let mut rules = Vec::new();
    for node in crate::runtime::devices::default_nodes()? {
        rules.push((node.major(), Some(node.minor())));
        if !devices.iter().any(|d| d.path() == node.path()) {
            devices.push(node);
        }
    }
    // /dev/console, /dev/ptmx and the terminals of /dev/pts.
    rules.extend([(5, Some(1)), (5, Some(2)), (136, None)]);
    linux.set_devices(Some(devices));
    let mut resources = linux.resources().clone().unwrap_or_default();
    let mut cgroup_rules = resources.devices().clone().unwrap_or_default();
    for (major, minor) in rules {
        let rule = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(LinuxDeviceType::C)
            .major(major)
            .access("rwm");
        let rule = match minor {
            Some(minor) => rule.minor(minor),
            None => rule,
        };
        cgroup_rules.push(rule.build()?);
    }
    resources.set_devices(Some(cgroup_rules));
    linux.set_resources(Some(resources));
    spec.set_linux(Some(linux));
    Ok(())
}

/// The container's stdio: copies of ours (a closed one becomes /dev/null).
fn own_stdio() -> Result<Stdio> {
    let copy = |fd: std::os::fd::BorrowedFd| -> Result<OwnedFd> {
        match fd.try_clone_to_owned() {
            Ok(owned) => Ok(owned),
            Err(_) => Ok(OwnedFd::from(
                std::fs::File::options()
                    .read(true)
                    .write(true)
                    .open("/dev/null")
                    .context("open /dev/null for a closed stdio")?,
            )),
        }
    };
    Ok(Stdio {
        stdin: copy(std::io::stdin().as_fd())?,
        stdout: copy(std::io::stdout().as_fd())?,
        stderr: copy(std::io::stderr().as_fd())?,
    })
}

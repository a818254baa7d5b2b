//! `exec ID [COMMAND...]` or `exec --process FILE ID`: a new process in a running
//! container, through the runtime layer's exec (the same path minipod's own `exec`,
//! probes and hooks take: a sealed, non-dumpable stage joins the container's
//! namespaces and cgroup, then forks the command). Without `--detach` minipod-runc
//! waits and exits with the command's status; with it, the command is left to the
//! caller's subreaper (conmon, the containerd shim) and `--pid-file` says its PID.

use super::container::{Container, Status};
use super::{console_socket, Context};
use crate::runtime::exec::{self, Stdio, Target};
use crate::runtime::{procfs, seccomp};
use anyhow::{bail, Context as _, Result};
use clap::Args;
use oci_spec::runtime::{Process, User};
use std::os::fd::AsFd;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// A JSON file with the whole process (runtime-spec `process`), instead of COMMAND.
    #[arg(long, short = 'p')]
    pub process: Option<PathBuf>,
    /// Give the command a pseudo-terminal (its master goes to --console-socket).
    #[arg(long, short = 't')]
    pub tty: bool,
    /// Return once the command runs.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// Write the command's PID here.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// A unix socket to receive the terminal's master (with --tty).
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// The working directory inside the container.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Extra environment variables (KEY=VALUE).
    #[arg(long, short = 'e')]
    pub env: Vec<String>,
    /// UID[:GID] to run as.
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// Pass this many of our descriptors after stderr (3, 4, …) on to the command.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    pub id: String,
    /// The command and its arguments (when there is no --process).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(ctx: &Context, args: &ExecArgs) -> Result<i32> {
    let container = Container::open(&ctx.root, &args.id)?;
    if container.status() != Status::Running {
        return Err(container.wrong_status("exec in"));
    }
    let spec = container.spec()?;
    let process = process(&spec, args)?;
    let tty = process.terminal() == Some(true);
    // Without a console socket a foreground exec holds the terminal itself, as runc.
    let relayed = tty && args.console_socket.is_none();
    if relayed && args.detach {
        bail!("cannot allocate tty if {} will detach without setting console socket (--tty or process.terminal: give --console-socket)", super::NAME);
    }
    let argv = process.args().clone().unwrap_or_default();
    if argv.is_empty() {
        bail!("exec: no command given (COMMAND, or args in --process)");
    }
    let program = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(profile) => Some(seccomp::saved_or_compiled(&container.dir, profile)?),
        None => None,
    };
    let record = container.record.clone();
    let start_time = procfs::start_time(record.pid).unwrap_or(record.start_time);
    let target = Target {
        pid: record.pid,
        start_time,
        process: &process,
        cgroup: Some(&record.cgroup),
        seccomp: program.as_ref(),
        who: &args.id,
        error_context: None,
    };
    let stdio = if tty { Stdio::Pty } else { Stdio::Inherit };
    // The container's lock is not held while the command runs.
    drop(container);
    let started = exec::spawn_preserving(&target, &argv, stdio, args.detach, args.preserve_fds)?;
    if let (Some(socket), Some(master)) = (&args.console_socket, &started.pty_master) {
        console_socket::send(socket, master.as_fd())?;
    }
    // Ours only when we relay it: the console socket's receiver has its own.
    let master = started.pty_master.filter(|_| relayed);
    if let (Some(path), Some(pid)) = (&args.pid_file, started.program_pid) {
        super::container::write_pid_file(path, pid)?;
    }
    if args.detach {
        return Ok(0);
    }
    match master {
        Some(master) => super::relay::exec_until_exit(master, started.pid),
        None => exec::wait_exit_code(started.pid),
    }
}

/// The process to run: the --process file, or the container's own process with
/// COMMAND, --tty, --cwd, --env and --user applied (as runc builds it).
fn process(spec: &oci_spec::runtime::Spec, args: &ExecArgs) -> Result<Process> {
    if let Some(path) = &args.process {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read the process file {}", path.display()))?;
        let mut process: Process = serde_json::from_str(&text)
            .with_context(|| format!("decode the process file {}", path.display()))?;
        if args.tty {
            process.set_terminal(Some(true));
        }
        return Ok(process);
    }
    if args.command.is_empty() {
        bail!("exec: give a COMMAND or --process FILE");
    }
    let mut process = spec.process().clone().unwrap_or_default();
    process.set_args(Some(args.command.clone()));
    process.set_terminal(Some(args.tty));
    if let Some(cwd) = &args.cwd {
        process.set_cwd(cwd.clone());
    }
    if !args.env.is_empty() {
        let mut env = process.env().clone().unwrap_or_default();
        env.extend(args.env.iter().cloned());
        process.set_env(Some(env));
    }
    if let Some(user) = &args.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        let parse = |s: &str| {
            s.parse::<u32>()
                .with_context(|| format!("--user {user}: UID[:GID] are numbers"))
        };
        let mut u = User::default();
        u.set_uid(parse(uid)?);
        u.set_gid(parse(gid)?);
        process.set_user(u);
    }
    Ok(process)
}

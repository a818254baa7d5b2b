//! `minipod-runc`: runc's command line over minipod's runtime layer, so podman,
//! containerd (and a person) can drive it as they drive runc, crun and youki.
//!
//! minipod is one binary: started under the name `minipod-runc` (a symlink or hard
//! link to `minipod`), it is this command line. One file per verb; each container
//! lives in `--root/<id>` ([`container`]). The lifecycle is the OCI runtime spec's:
//!
//! ```text
//! create ──► created ──start──► running ──(program exits)──► stopped ──delete──► gone
//!               │                  │ ▲
//!               └──delete──► gone  pause/resume (paused)
//! ```

mod console_socket;
mod container;
mod create;
mod delete;
mod exec;
mod features;
mod kill;
mod list;
mod log;
mod pause;
mod ps;
mod relay;
mod run;
mod spec;
mod start;
mod state;
mod update;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The name this command line answers to (argv[0]'s file name).
pub const NAME: &str = "minipod-runc";

/// Was minipod started as `minipod-runc`?
pub fn invoked_as_runc() -> bool {
    std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n == NAME))
        .unwrap_or(false)
}

#[derive(Parser, Debug)]
#[command(
    name = NAME,
    version,
    about = "An OCI runtime with runc's command line, over minipod's runtime layer",
    after_help = "Example:\n  minipod-runc spec && minipod-runc run -d mycontainer\n  podman --runtime /usr/local/bin/minipod-runc run --rm busybox echo hi"
)]
pub struct Cli {
    /// Where containers' state is kept, one directory per id.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/run/minipod-runc"
    )]
    root: PathBuf,

    /// Write errors (and with --debug the kernel steps) to FILE instead of only stderr.
    #[arg(long, global = true, value_name = "FILE")]
    log: Option<PathBuf>,

    /// The form of --log's lines.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: log::Format,

    /// Log every kernel step the runtime takes (the narration) at debug level.
    #[arg(long, global = true)]
    debug: bool,

    /// Manage cgroups with systemd (refused: minipod-runc writes cgroupfs itself).
    #[arg(long, global = true)]
    systemd_cgroup: bool,

    /// crun's way to choose the cgroup manager: cgroupfs, or disabled.
    #[arg(long, global = true, value_enum)]
    cgroup_manager: Option<CgroupManager>,

    /// Rootless mode (refused when true: minipod-runc runs as root).
    #[arg(long, global = true, value_name = "true|false|auto")]
    rootless: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum CgroupManager {
    Cgroupfs,
    Systemd,
    Disabled,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a container from a bundle; its program waits until `start`.
    Create(create::CreateArgs),
    /// Run the program of a created container.
    Start(start::StartArgs),
    /// Create and start a container, and wait for it unless --detach.
    Run(run::RunArgs),
    /// Print a container's state (runtime-spec state JSON).
    State(state::StateArgs),
    /// Send a signal to a container's process (or to all of them).
    Kill(kill::KillArgs),
    /// Remove a stopped container (a running one only with --force).
    Delete(delete::DeleteArgs),
    /// Run a new process in a running container.
    Exec(exec::ExecArgs),
    /// List the processes of a container.
    Ps(ps::PsArgs),
    /// List the containers under --root.
    List(list::ListArgs),
    /// Freeze every process of a container (cgroup freezer).
    Pause(pause::PauseArgs),
    /// Thaw a paused container.
    Resume(pause::PauseArgs),
    /// Change a container's resource limits.
    Update(update::UpdateArgs),
    /// Write a default config.json for a new bundle.
    Spec(spec::SpecArgs),
    /// Print what this runtime supports (runtime-spec features JSON).
    Features,
}

/// What every verb gets: where containers live, and the log.
pub struct Context {
    pub root: PathBuf,
}

/// The whole command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return err.exit_code();
        }
    };
    let logger = log::Logger::open(cli.log.as_deref(), cli.log_format, cli.debug);
    let result = check_globals(&cli).and_then(|()| {
        let ctx = Context {
            root: cli.root.clone(),
        };
        dispatch(&ctx, cli.command)
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            logger.error(&format!("{err:#}"));
            1
        }
    }
}

/// The global flags minipod-runc cannot honour are refused, never ignored.
fn check_globals(cli: &Cli) -> Result<()> {
    let systemd = cli.systemd_cgroup || cli.cgroup_manager == Some(CgroupManager::Systemd);
    if systemd {
        if !std::path::Path::new("/run/systemd/system").is_dir() {
            bail!(
                "--systemd-cgroup: this host does not run systemd; use cgroupfs (podman: --cgroup-manager=cgroupfs)"
            );
        }
        bail!("--systemd-cgroup: minipod-runc writes cgroupfs itself and has no systemd cgroup driver; use cgroupfs");
    }
    if cli.cgroup_manager == Some(CgroupManager::Disabled) {
        bail!("--cgroup-manager=disabled: minipod-runc always puts a container in its own cgroup");
    }
    if cli.rootless.as_deref() == Some("true") {
        bail!("--rootless=true: minipod-runc runs containers as root only");
    }
    Ok(())
}

fn dispatch(ctx: &Context, command: Command) -> Result<i32> {
    match command {
        Command::Create(args) => create::run(ctx, &args).map(|()| 0),
        Command::Start(args) => start::run(ctx, &args).map(|()| 0),
        Command::Run(args) => run::run(ctx, &args),
        Command::State(args) => state::run(ctx, &args).map(|()| 0),
        Command::Kill(args) => kill::run(ctx, &args).map(|()| 0),
        Command::Delete(args) => delete::run(ctx, &args).map(|()| 0),
        Command::Exec(args) => exec::run(ctx, &args),
        Command::Ps(args) => ps::run(ctx, &args).map(|()| 0),
        Command::List(args) => list::run(ctx, &args).map(|()| 0),
        Command::Pause(args) => pause::pause(ctx, &args).map(|()| 0),
        Command::Resume(args) => pause::resume(ctx, &args).map(|()| 0),
        Command::Update(args) => update::run(ctx, &args).map(|()| 0),
        Command::Spec(args) => spec::run(&args).map(|()| 0),
        Command::Features => features::run().map(|()| 0),
    }
}

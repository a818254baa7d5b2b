//! `delete ID`: remove a stopped container: its cgroup, its state directory, then the
//! poststop hooks (runtime-spec runtime.md#delete). A running or paused container is
//! an error unless `--force`, which kills every process first. A created container
//! is deleted as runc deletes it (its waiting init is killed): containerd and podman
//! clean up a failed start that way.

use super::container::{Container, Status};
use super::Context;
use crate::runtime::{cgroups, oci_hooks};
use anyhow::{bail, Result};
use clap::Args;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Kill a running container first.
    #[arg(long, short = 'f')]
    pub force: bool,
    pub id: String,
}

pub fn run(ctx: &Context, args: &DeleteArgs) -> Result<()> {
    let container = match Container::open(&ctx.root, &args.id) {
        Ok(c) => c,
        // runc: deleting what is not there is fine when forced.
        Err(_) if args.force && super::container::check_id(&args.id).is_ok() => {
            let _ = std::fs::remove_dir_all(ctx.root.join(&args.id));
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    match container.status() {
        Status::Stopped => {}
        Status::Created => kill_all(&container)?,
        Status::Running | Status::Paused if args.force => kill_all(&container)?,
        Status::Running | Status::Paused => bail!(
            "cannot delete container {:?}: it is {} (stop it first, or use --force)",
            args.id,
            container.status().as_str()
        ),
    }
    delete(container)
}

/// SIGKILL to every process of the container (thawed first: a frozen process dies
/// only once it runs), then wait until they are gone.
fn kill_all(container: &Container) -> Result<()> {
    let cgroup = &container.record.cgroup;
    let _ = nix::sys::signal::kill(Pid::from_raw(container.record.pid), Signal::SIGKILL);
    for pid in cgroups::procs(cgroup) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    if cgroups::is_frozen(cgroup) {
        cgroups::freeze(cgroup, false)?;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while container.is_alive() || !cgroups::procs(cgroup).is_empty() {
        if Instant::now() > deadline {
            bail!(
                "container {:?}: its processes did not die within 10 s of SIGKILL",
                container.id()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Remove what create made, then run the poststop hooks.
pub fn delete(container: Container) -> Result<()> {
    let spec = container.spec().ok();
    let mut state = container.state();
    state.status = "stopped".into();
    state.pid = None;
    cgroups::remove(&container.record.cgroup);
    std::fs::remove_dir_all(&container.dir)
        .map_err(|err| anyhow::anyhow!("remove {}: {err}", container.dir.display()))?;
    if let Some(hooks) = spec
        .as_ref()
        .and_then(|s| s.hooks().as_ref())
        .and_then(|h| h.poststop().clone())
    {
        // Failures are reported; the container is gone either way (spec).
        if let Err(err) = oci_hooks::run("poststop", &hooks, &state) {
            eprintln!("{}: warning: {err:#}", super::NAME);
        }
    }
    Ok(())
}

/// Kill whatever still runs, then delete (`run` cleaning up after its container).
pub fn delete_forced(container: Container) -> Result<()> {
    if container.status() != Status::Stopped {
        kill_all(&container)?;
    }
    delete(container)
}

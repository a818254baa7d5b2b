//! The mounts a pod's supervisor makes for the whole pod, in a mount namespace of its
//! own: they are seen by the containers it starts (bound into them) and vanish, all
//! at once, when the supervisor and its namespace are gone.

use crate::narration::step;
use anyhow::{Context, Result};
use nix::mount::{mount, MsFlags};
use std::path::Path;

const NONE: Option<&str> = None;

/// Give this process a mount namespace of its own, private: nothing mounted here
/// reaches the host, nothing mounted on the host reaches here.
pub fn private_mount_namespace() -> Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .context("unshare(CLONE_NEWNS) for the pod's mount namespace")?;
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE)
        .context("make / rprivate in the pod's mount namespace")?;
    step(
        "unshare(NEWNS); mount(/, MS_REC|MS_PRIVATE)",
        "the pod's mounts live in the supervisor's namespace and vanish with it",
    );
    Ok(())
}

/// A tmpfs named `source` on `target` with the tmpfs options `data`, nosuid and nodev
/// (and noexec when asked); `shown` is the data as the narration prints it.
pub fn tmpfs(
    source: &str,
    target: &Path,
    data: &str,
    noexec: bool,
    shown: &str,
    why: &str,
) -> Result<()> {
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    if noexec {
        flags |= MsFlags::MS_NOEXEC;
    }
    mount(Some(source), target, Some("tmpfs"), flags, Some(data))
        .with_context(|| format!("mount tmpfs {source} on {}", target.display()))?;
    step(
        format!("mount -t tmpfs -o {shown} {source} {}", target.display()),
        why,
    );
    Ok(())
}

/// Detach a pod-wide mount (a process still holding a file there keeps it).
pub fn unmount(target: &Path, why: &str) {
    let _ = nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH);
    step(format!("umount2({}, MNT_DETACH)", target.display()), why);
}

//! Every mount the supervisor makes for its pod, in one place: its own mount
//! namespace, the pod's /dev/shm, each container's overlay rootfs. (They are to move
//! into the runtime layer; keep them together until then.)

use crate::narration::{self, step};
use anyhow::{Context, Result};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::path::{Path, PathBuf};

const NONE: Option<&str> = None;

/// A mount namespace for the supervisor: the pod's mounts live and die with it and
/// never appear in the host's mount table.
pub fn enter_own_namespace() -> Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .context("unshare(CLONE_NEWNS) for the pod's mount namespace")?;
    // Without rprivate, our mounts would propagate back to the host's namespace.
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE)
        .context("make / rprivate in the pod's mount namespace")?;
    step(
        "unshare(NEWNS); mount(/, MS_REC|MS_PRIVATE)",
        "the pod's mounts live in the supervisor's namespace and vanish with it",
    );
    Ok(())
}

/// The pod's one /dev/shm, a tmpfs its containers share.
pub fn mount_shm(shm: &Path) -> Result<()> {
    std::fs::create_dir_all(shm).with_context(|| format!("create {}", shm.display()))?;
    mount(
        Some("shm"),
        shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )
    .with_context(|| format!("mount the pod's shm tmpfs on {}", shm.display()))?;
    step(
        format!("mount -t tmpfs -o mode=1777,size=64m shm {}", shm.display()),
        "one /dev/shm for the whole pod: an IPC namespace does not cover it",
    );
    Ok(())
}

pub fn unmount_shm(shm: &Path) {
    let _ = umount2(shm, MntFlags::MNT_DETACH);
    step(
        format!("umount2({}, MNT_DETACH)", shm.display()),
        "the pod's /dev/shm: shared memory goes with the pod",
    );
}

/// What a container's overlay rootfs is made of.
pub struct Overlay<'a> {
    pub container: &'a str,
    /// The image's layers, base first (as the image lists them).
    pub layers: &'a [PathBuf],
    pub image: &'a str,
    /// The container's own directory for its writable layer.
    pub dir: &'a Path,
    pub rootfs: &'a Path,
}

/// The image's read-only layers under a fresh writable layer, on `rootfs`.
pub fn mount_overlay(o: &Overlay) -> Result<()> {
    // A fresh writable layer for every start, as a new container gets one.
    let _ = std::fs::remove_dir_all(o.dir);
    let (upper, work) = (o.dir.join("upper"), o.dir.join("work"));
    for d in [&upper, &work] {
        std::fs::create_dir_all(d).with_context(|| format!("create {}", d.display()))?;
    }
    // overlayfs lists lower layers top first; the image lists them base first.
    let lower: Vec<String> = o
        .layers
        .iter()
        .rev()
        .map(|l| l.display().to_string())
        .collect();
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        upper.display(),
        work.display()
    );
    mount(
        Some("overlay"),
        o.rootfs,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .with_context(|| {
        format!(
            "mount the overlay rootfs of container {} on {}",
            o.container,
            o.rootfs.display()
        )
    })?;
    narration::set_actor(o.container);
    step(
        format!(
            "mount -t overlay ({} layers of {}) {}",
            lower.len(),
            o.image,
            o.rootfs.display()
        ),
        "the image's read-only layers under a fresh writable layer",
    );
    narration::set_actor("pod");
    Ok(())
}

pub fn unmount_rootfs(container: &str, rootfs: &Path) {
    let _ = umount2(rootfs, MntFlags::MNT_DETACH);
    narration::set_actor(container);
    step(
        format!("umount2({}, MNT_DETACH)", rootfs.display()),
        "the container's overlay goes; its writable layer is removed with the pod",
    );
    narration::set_actor("pod");
}

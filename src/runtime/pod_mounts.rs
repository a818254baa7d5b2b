//! The mounts a pod's supervisor makes for the whole pod, in a mount namespace of its
//! own: they are seen by the containers it starts (bound into them) and vanish, all
//! at once, when the supervisor and its namespace are gone.

use super::kernel::kernel;
use super::safe_path;
use anyhow::{Context, Result};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::stat::SFlag;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Give this process a mount namespace of its own, private: nothing mounted here
/// reaches the host, nothing mounted on the host reaches here.
pub fn private_mount_namespace() -> Result<()> {
    kernel()
        .unshare(
            CloneFlags::CLONE_NEWNS,
            "the pod's mounts live in the supervisor's namespace and vanish with it",
        )
        .context("unshare(CLONE_NEWNS) for the pod's mount namespace")?;
    kernel()
        .mount(
            None,
            Path::new("/"),
            None,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None,
            "nothing mounted here reaches the host, nothing mounted there reaches here",
        )
        .context("make / rprivate in the pod's mount namespace")?;
    Ok(())
}

/// A tmpfs named `source` on `target` with the tmpfs options `data`, nosuid and nodev
/// (and noexec when asked).
pub fn tmpfs(source: &str, target: &Path, data: &str, noexec: bool, why: &str) -> Result<()> {
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    if noexec {
        flags |= MsFlags::MS_NOEXEC;
    }
    kernel()
        .mount(
            Some(Path::new(source)),
            target,
            Some("tmpfs"),
            flags,
            Some(data),
            why,
        )
        .with_context(|| format!("mount tmpfs {source} on {}", target.display()))?;
    Ok(())
}

/// Detach a pod-wide mount (a process still holding a file there keeps it).
pub fn unmount(target: &Path, why: &str) {
    let _ = kernel().umount2(target, MntFlags::MNT_DETACH, why);
}

/// An emptyDir's host directory, world-writable as kubelet makes it, whatever the
/// umask says.
pub fn empty_dir(dir: &Path) -> Result<()> {
    kernel()
        .mkdir(
            dir,
            "emptyDir: a host directory born with the pod, removed with it",
        )
        .with_context(|| format!("mkdir {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))
        .with_context(|| format!("chmod 0777 {}", dir.display()))
}

/// Bind the opened subPath `fd` onto `target`, a mount point of the pod's own: the
/// directory checked when `fd` was opened is pinned there, at a path no container can
/// reach, and the container's runtime binds that path.
pub fn pin(fd: &OwnedFd, target: &Path) -> Result<()> {
    // A restart pins the subPath again: drop the previous pin. The mount point is ours
    // (never inside a volume), so removing it when empty is safe.
    if target.exists() {
        unmount(
            target,
            "the previous pin of this subPath, from an earlier start",
        );
    }
    let _ = std::fs::remove_file(target).or_else(|_| std::fs::remove_dir(target));
    let parent = target.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    // A bind needs a mount point of the same kind: a directory for a directory.
    let is_dir = nix::sys::stat::fstat(fd)
        .map(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
        .context("fstat the opened subPath")?;
    if is_dir {
        std::fs::create_dir(target)
    } else {
        std::fs::File::create(target).map(drop)
    }
    .with_context(|| format!("create the mount point {}", target.display()))?;
    let source = safe_path::fd_path(fd);
    kernel()
        .mount(
            Some(&source),
            target,
            None,
            MsFlags::MS_BIND,
            None,
            "the subPath pinned by its descriptor, at a path no container can swap",
        )
        .with_context(|| format!("mount --bind {} {}", source.display(), target.display()))?;
    Ok(())
}

//! A container's root file system as a mount that is a value: made by a constructor,
//! undone when dropped (`umount2(MNT_DETACH)`), so whoever holds it cannot forget it.
//!
//! - `overlay`: an image's read-only layers under a fresh writable layer.
//! - `tmpfs`: a small empty file system, the infra's whole root.

use super::kernel::kernel;
use anyhow::{Context, Result};
use nix::mount::{MntFlags, MsFlags};
use std::path::{Path, PathBuf};

pub struct RootfsMount {
    target: PathBuf,
}

impl RootfsMount {
    /// Mount `layers` (base first, as an image lists them) under `upper`/`work` on
    /// `target`; `what` names the image for the narration.
    pub fn overlay(
        target: &Path,
        layers: &[PathBuf],
        upper: &Path,
        work: &Path,
        what: &str,
    ) -> Result<RootfsMount> {
        // overlayfs lists lower layers top first.
        let lower: Vec<String> = layers
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
        let why = format!(
            "the {} read-only layers of {what} under a fresh writable layer",
            lower.len()
        );
        kernel()
            .mount(
                Some(Path::new("overlay")),
                target,
                Some("overlay"),
                MsFlags::empty(),
                Some(data.as_str()),
                &why,
            )
            .with_context(|| format!("mount the overlay rootfs on {}", target.display()))?;
        Ok(RootfsMount {
            target: target.to_path_buf(),
        })
    }

    /// `overlay` for a pod with its own user namespace (`userns`, its mapping starting
    /// at `host_start`): each image layer is first cloned as an idmapped mount, so its
    /// files, owned by 0 on disk, are owned by the pod's root; the layers on disk stay
    /// shared and unchanged (containerd's overlay snapshotter does the same). An
    /// idmapped mount of the overlay itself is what Linux 6.18 refuses
    /// (`mount_setattr(MOUNT_ATTR_IDMAP)` on an overlay: EINVAL). The writable layer
    /// is the container's own: its root belongs to the pod's root.
    #[allow(clippy::too_many_arguments)]
    pub fn overlay_idmapped(
        target: &Path,
        layers: &[PathBuf],
        upper: &Path,
        work: &Path,
        what: &str,
        userns: &Path,
        host_start: u32,
        mapping: &str,
    ) -> Result<RootfsMount> {
        use std::os::fd::AsFd;
        let ns = super::userns::open(userns)?;
        let staging = work
            .parent()
            .unwrap_or(Path::new("/"))
            .join("idmapped-layers");
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("create {}", staging.display()))?;
        let mut mapped = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            let at = staging.join(i.to_string());
            std::fs::create_dir_all(&at).with_context(|| format!("create {}", at.display()))?;
            let tree = kernel()
                .open_tree(layer, "a detached copy of an image layer, to idmap")
                .with_context(|| format!("open_tree {}", layer.display()))?;
            kernel()
                .idmap_mount(
                    tree.as_fd(),
                    ns.as_fd(),
                    mapping,
                    "the layer's files, owned by 0 on disk, belong to the pod's root",
                )
                .with_context(|| {
                    format!(
                        "mount_setattr(MOUNT_ATTR_IDMAP) on layer {}",
                        layer.display()
                    )
                })?;
            let at_fd = nix::fcntl::open(
                &at,
                nix::fcntl::OFlag::O_PATH
                    | nix::fcntl::OFlag::O_DIRECTORY
                    | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .with_context(|| format!("open {}", at.display()))?;
            kernel()
                .move_mount(
                    tree.as_fd(),
                    at_fd.as_fd(),
                    &at,
                    "the idmapped layer, for overlayfs to stack",
                )
                .with_context(|| format!("move_mount to {}", at.display()))?;
            mapped.push(at);
        }
        let owner = Some(nix::unistd::Uid::from_raw(host_start));
        let group = Some(nix::unistd::Gid::from_raw(host_start));
        nix::unistd::chown(upper, owner, group)
            .with_context(|| format!("chown {} to the pod's root", upper.display()))?;
        let result = RootfsMount::overlay(target, &mapped, upper, work, what);
        // The overlay holds the idmapped layers it stacked: their mount points can go.
        for at in &mapped {
            let _ = kernel().umount2(
                at,
                MntFlags::MNT_DETACH,
                "overlayfs holds the idmapped layer; its staging mount point goes",
            );
        }
        result
    }

    /// A small empty tmpfs on `target` (`size` as tmpfs reads it: `64k`): a root that
    /// holds only what is bound into it, and shows no host path.
    pub fn tmpfs(target: &Path, size: &str) -> Result<RootfsMount> {
        let data = format!("mode=0755,size={size}");
        kernel()
            .mount(
                Some(Path::new("minipod-root")),
                target,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some(data.as_str()),
                "a root of its own, holding only what is bound into it",
            )
            .with_context(|| format!("mount a tmpfs root on {}", target.display()))?;
        Ok(RootfsMount {
            target: target.to_path_buf(),
        })
    }
}

impl Drop for RootfsMount {
    fn drop(&mut self) {
        // MNT_DETACH: a process still holding a file there keeps it, nobody new sees it.
        let _ = kernel().umount2(
            &self.target,
            MntFlags::MNT_DETACH,
            "gone from this mount namespace; a container's own namespace keeps its copy while it lives",
        );
    }
}

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

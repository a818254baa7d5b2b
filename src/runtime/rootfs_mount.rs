//! A container's root file system as a mount that is a value: made by a constructor,
//! undone when dropped (`umount2(MNT_DETACH)`), so whoever holds it cannot forget it.
//!
//! - `overlay`: an image's read-only layers under a fresh writable layer.

use crate::narration::step;
use anyhow::{Context, Result};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
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
        mount(
            Some("overlay"),
            target,
            Some("overlay"),
            MsFlags::empty(),
            Some(data.as_str()),
        )
        .with_context(|| format!("mount the overlay rootfs on {}", target.display()))?;
        step(
            format!(
                "mount -t overlay ({} layers of {what}) {}",
                lower.len(),
                target.display()
            ),
            "the image's read-only layers under a fresh writable layer",
        );
        Ok(RootfsMount {
            target: target.to_path_buf(),
        })
    }
}

impl Drop for RootfsMount {
    fn drop(&mut self) {
        // MNT_DETACH: a process still holding a file there keeps it, nobody new sees it.
        let _ = umount2(&self.target, MntFlags::MNT_DETACH);
        step(
            format!("umount2({}, MNT_DETACH)", self.target.display()),
            "the container's root file system goes with it",
        );
    }
}

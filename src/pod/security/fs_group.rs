//! `fsGroup` on a pod's emptyDir volumes, as kubelet's SetVolumeOwnership applies it:
//! every file and directory gets the group (`lchown(path, -1, fsGroup)`), read and
//! write for the group (`0660` more), and directories also the setgid bit and search
//! (`02110`), so files made later inherit the group. A symlink's own group changes;
//! its target never (`fsGroupChangePolicy: OnRootMismatch` skips the walk when the
//! root already has group and bits). hostPath volumes are left alone, as in
//! Kubernetes.
//!
//! The walk never follows a symlink: every entry is opened below its parent's
//! descriptor with `O_NOFOLLOW`, changed through that descriptor, and directories are
//! entered only through the descriptor just checked. (A container may have planted
//! links in a volume; none can redirect the chown to the host.)

use anyhow::{bail, Context, Result};
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, Mode, SFlag};
use nix::unistd::{fchown, fchownat, Gid};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

const RW: u32 = 0o660;
const DIR_EXTRA: u32 = 0o2110;
/// Directories deeper than this are refused rather than walked.
const MAX_DEPTH: usize = 256;

/// Whether the policy asks for a walk: `Always` (the default) does;
/// `OnRootMismatch` only when the root lacks the group, `rw` for it or setgid.
pub fn needs_change(root_gid: u32, root_mode: u32, fs_group: u32, policy: Option<&str>) -> bool {
    if policy != Some("OnRootMismatch") {
        return true;
    }
    root_gid != fs_group || root_mode & RW != RW || root_mode & 0o2000 == 0
}

/// Give `dir` (a volume's host directory) and everything below it the group.
pub fn apply(dir: &Path, fs_group: u32, policy: Option<&str>) -> Result<()> {
    let root = nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open volume {}", dir.display()))?;
    let st = fstat(&root).with_context(|| format!("stat {}", dir.display()))?;
    if !needs_change(st.st_gid, st.st_mode, fs_group, policy) {
        crate::narration::step(
            format!("fsGroup {fs_group}: {} already owned", dir.display()),
            "fsGroupChangePolicy OnRootMismatch: the root has the group, nothing to change",
        );
        return Ok(());
    }
    crate::narration::step(
        format!("lchown -R :{fs_group} + chmod g+rw(s) {}", dir.display()),
        "fsGroup: the volume belongs to the pod's group, new files inherit it",
    );
    change_dir(&root, fs_group, 0)
        .with_context(|| format!("fsGroup {fs_group} on {}", dir.display()))
}

/// Change the directory open as `dir`, then each entry below it.
fn change_dir(dir: &OwnedFd, gid: u32, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        bail!("more than {MAX_DEPTH} directories deep");
    }
    let st = fstat(dir)?;
    fchown(dir, None, Some(Gid::from_raw(gid)))?;
    fchmod(dir, Mode::from_bits_truncate(st.st_mode | RW | DIR_EXTRA))?;
    let mut entries = nix::dir::Dir::openat(
        dir.as_fd(),
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let names: Vec<std::ffi::CString> = entries
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        let st = fstatat(dir, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
        let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        if kind == SFlag::S_IFLNK {
            // The link itself, never its target.
            fchownat(
                dir,
                name.as_c_str(),
                None,
                Some(Gid::from_raw(gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )?;
            continue;
        }
        if kind == SFlag::S_IFDIR {
            let child = openat(
                dir,
                name.as_c_str(),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            change_dir(&child, gid, depth + 1)?;
            continue;
        }
        // Files, FIFOs, sockets, devices: pinned by an O_PATH descriptor (which opens
        // nothing), changed through it.
        let file = openat(
            dir,
            name.as_c_str(),
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        fchownat(
            &file,
            "",
            None,
            Some(Gid::from_raw(gid)),
            AtFlags::AT_EMPTY_PATH,
        )?;
        let again = fstat(&file)?;
        let mode = (again.st_mode | RW) & 0o7777;
        // fchmod refuses an O_PATH descriptor; its /proc/self/fd link names exactly
        // this inode.
        let via = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
        nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            via.as_str(),
            Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn on_root_mismatch_skips_a_root_that_has_it() {
        assert!(needs_change(0, 0o40777, 2000, None));
        assert!(!needs_change(2000, 0o42777, 2000, Some("OnRootMismatch")));
        assert!(needs_change(2000, 0o40777, 2000, Some("OnRootMismatch")));
        assert!(needs_change(0, 0o42777, 2000, Some("OnRootMismatch")));
    }

    #[test]
    fn group_and_bits_without_following_links() {
        let base = std::env::temp_dir().join(format!("minipod-fsgroup-{}", std::process::id()));
        let vol = base.join("vol");
        let outside = base.join("outside");
        std::fs::create_dir_all(vol.join("sub")).unwrap();
        std::fs::write(&outside, b"host").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(vol.join("sub/f"), b"x").unwrap();
        std::fs::set_permissions(vol.join("sub/f"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        std::os::unix::fs::symlink(&outside, vol.join("link")).unwrap();
        apply(&vol, 2000, None).unwrap();
        let m = std::fs::metadata(&vol).unwrap();
        assert_eq!((m.gid(), m.mode() & 0o7777), (2000, 0o2775 | 0o2000));
        let f = std::fs::metadata(vol.join("sub/f")).unwrap();
        assert_eq!((f.gid(), f.mode() & 0o777), (2000, 0o660));
        assert_eq!(
            std::fs::symlink_metadata(vol.join("link")).unwrap().gid(),
            2000
        );
        let o = std::fs::metadata(&outside).unwrap();
        assert_eq!(
            (o.gid(), o.mode() & 0o777),
            (0, 0o600),
            "the link's target is untouched"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}

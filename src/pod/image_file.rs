//! Reading a small file (`/etc/passwd`, `/etc/group`) out of an image's rootfs.
//!
//! The image is hostile: its `/etc/group` may be a FIFO (a plain `open` blocks
//! forever), a character device like `/dev/zero` (a plain read never ends), or a
//! symlink to a host file. So the file is opened inside the rootfs (`openat2` with
//! `RESOLVE_IN_ROOT`: symlinks resolve as the container would see them, never out of
//! it), with `O_NONBLOCK` (opening a FIFO returns at once), checked with `fstat` to be
//! a regular file, and read up to a size cap.

use crate::runtime::safe_path;
use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{fstat, Mode, SFlag};
use std::io::Read;
use std::path::Path;

/// Cap for the account files: far above any real passwd or group file.
pub const MAX_ACCOUNT_FILE: u64 = 1024 * 1024;

/// The text of `path` inside `rootfs` (of image `image`, for errors), or `None` when
/// the image has no such file. Anything but a regular file of at most `cap` bytes is
/// an error naming the file and the image.
pub fn read(rootfs: &Path, path: &str, image: &str, cap: u64) -> Result<Option<String>> {
    let root = nix::fcntl::open(
        rootfs,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open the rootfs {}", rootfs.display()))?;
    // O_PATH first: it opens nothing, so a device node planted as /etc/passwd (a
    // container may mknod: the host's watchdog, a tape that rewinds) is only looked at.
    let pinned = match safe_path::open_in_root(&root, Path::new(path), OFlag::O_PATH) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("image {image}: open {path}")),
    };
    let st = fstat(&pinned).with_context(|| format!("image {image}: stat {path}"))?;
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    if kind != SFlag::S_IFREG {
        bail!(
            "image {image}: {path} is {}, not a regular file",
            describe(kind)
        );
    }
    if u64::try_from(st.st_size).unwrap_or(u64::MAX) > cap {
        bail!("image {image}: {path} is larger than {cap} bytes");
    }
    // The same inode, now for reading (it is a regular file).
    let fd = nix::fcntl::open(
        format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&pinned)).as_str(),
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("image {image}: open {path}"))?;
    let mut data = Vec::new();
    // Read one byte past the cap: a file that grew after fstat is refused too.
    std::fs::File::from(fd)
        .take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .with_context(|| format!("image {image}: read {path}"))?;
    if data.len() as u64 > cap {
        bail!("image {image}: {path} is larger than {cap} bytes");
    }
    Ok(Some(String::from_utf8_lossy(&data).into_owned()))
}

fn describe(kind: SFlag) -> &'static str {
    match kind {
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFLNK => "a symlink",
        _ => "a special file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("minipod-imgfile-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        dir
    }

    #[test]
    fn a_fifo_is_refused_at_once_naming_file_and_image() {
        let dir = scratch("fifo");
        nix::unistd::mkfifo(&dir.join("etc/group"), Mode::from_bits_truncate(0o644)).unwrap();
        let err = read(&dir, "/etc/group", "evil:1", MAX_ACCOUNT_FILE).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "image evil:1: /etc/group is a FIFO, not a regular file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn too_large_missing_and_escaping_files() {
        let dir = scratch("big");
        std::fs::write(dir.join("etc/passwd"), vec![b'x'; 100]).unwrap();
        let err = read(&dir, "/etc/passwd", "big:1", 10).unwrap_err();
        assert!(
            format!("{err:#}").contains("larger than 10 bytes"),
            "{err:#}"
        );
        assert_eq!(read(&dir, "/etc/group", "big:1", 10).unwrap(), None);
        // A symlink out of the rootfs resolves inside it (to a file that is not there).
        std::os::unix::fs::symlink("/etc/hostname", dir.join("etc/group")).unwrap();
        assert_eq!(read(&dir, "/etc/group", "big:1", 10).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_device_node_is_looked_at_never_opened() {
        let dir = scratch("dev");
        // A character device no driver answers: opening it would fail with ENXIO;
        // the refusal names the device instead, so it was never opened.
        nix::sys::stat::mknod(
            &dir.join("etc/passwd"),
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o644),
            nix::sys::stat::makedev(4095, 4095),
        )
        .unwrap();
        let err = read(&dir, "/etc/passwd", "evil:1", MAX_ACCOUNT_FILE).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "image evil:1: /etc/passwd is a character device, not a regular file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

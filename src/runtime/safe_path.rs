//! Paths inside a container's rootfs, resolved the way the container will see them.
//!
//! A mount target such as `/var/log/nginx` may be a symlink in the image, or a volume
//! shared with another container may swap a directory for a symlink while this one is
//! set up (CVE-2021-30465). So a target is never resolved as a host path: every lookup
//! goes through `openat2(rootfs_fd, path, RESOLVE_IN_ROOT)`, which treats the rootfs as
//! `/` for `..` and absolute symlinks alike, and the mount is then made onto the
//! resulting file descriptor through `/proc/self/fd/N`.

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// What to create when the target is missing.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    Directory,
    File,
}

/// Open `path` inside the root `root_fd` refers to, following symlinks only inside it.
pub fn open_in_root(root_fd: &OwnedFd, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(root_fd, &relative(path), how)
}

/// Open (creating it, and its missing parents, if needed) the mount target `path`
/// inside the rootfs, as an `O_PATH` descriptor to mount onto.
pub fn open_or_create(root_fd: &OwnedFd, path: &Path, kind: Kind) -> Result<OwnedFd> {
    let rel = relative(path);
    let mut so_far = PathBuf::new();
    let components: Vec<_> = rel.components().collect();
    for (i, component) in components.iter().enumerate() {
        so_far.push(component);
        let last = i + 1 == components.len();
        match open_in_root(root_fd, &so_far, OFlag::O_PATH) {
            Ok(fd) if last => return Ok(fd),
            Ok(_) => continue,
            Err(Errno::ENOENT) => {
                let parent = so_far.parent().unwrap_or(Path::new(""));
                let parent_fd =
                    open_in_root(root_fd, parent, OFlag::O_PATH | OFlag::O_DIRECTORY)
                        .with_context(|| format!("open {} inside the rootfs", show(parent)))?;
                let name = so_far.file_name().unwrap_or_default();
                if last && kind == Kind::File {
                    // O_CREAT through the parent's descriptor: the file lands in the
                    // directory we resolved, wherever a racing symlink points.
                    nix::fcntl::openat(
                        &parent_fd,
                        name,
                        OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
                        Mode::from_bits_truncate(0o644),
                    )
                    .with_context(|| format!("create {} inside the rootfs", show(&so_far)))?;
                } else {
                    match nix::sys::stat::mkdirat(&parent_fd, name, Mode::from_bits_truncate(0o755))
                    {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(err) => {
                            return Err(err).with_context(|| {
                                format!("create directory {} inside the rootfs", show(&so_far))
                            })
                        }
                    }
                }
                if last {
                    return open_in_root(root_fd, &so_far, OFlag::O_PATH)
                        .with_context(|| format!("open {} inside the rootfs", show(&so_far)));
                }
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("open {} inside the rootfs", show(&so_far)))
            }
        }
    }
    // The path was `/` itself.
    open_in_root(root_fd, Path::new(""), OFlag::O_PATH | OFlag::O_DIRECTORY)
        .context("open the rootfs itself")
}

/// `/proc/self/fd/N`: a path the kernel resolves to exactly the file `fd` refers to.
pub fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// `a/b/c` for `/a/b/c`, with `.` dropped; `..` is kept for the kernel to clamp.
fn relative(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

fn show(rel: &Path) -> String {
    format!("/{}", rel.display())
}

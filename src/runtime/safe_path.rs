//! Paths inside a container's rootfs, resolved the way the container will see them.
//!
//! A mount target such as `/var/log/nginx` may be a symlink in the image, or a volume
//! shared with another container may swap a directory for a symlink while this one is
//! set up (CVE-2021-30465). So a target is never resolved as a host path: every lookup
//! goes through `openat2(rootfs_fd, path, RESOLVE_IN_ROOT)`, which treats the rootfs as
//! `/` for `..` and absolute symlinks alike, and the mount is then made onto the
//! resulting file descriptor through `/proc/self/fd/N`.
//!
//! A volume's `subPath` is the other way round: a path inside a host directory that a
//! container could have filled with symlinks (CVE-2017-1002101, CVE-2021-25741). It is
//! opened beneath the volume refusing every symlink, and the descriptor, not the path,
//! becomes the mount's source.

use super::kernel::kernel;
use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
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

/// Open the `sub` path beneath the directory `volume`, as kubelet opens a subPath: one
/// component at a time, never following a symlink (an absolute one would leave the
/// volume, a relative one could climb out of it), creating missing directories with
/// `mode` (kubelet gives them the volume root's mode). The `O_PATH` descriptor returned
/// is what the caller mounts (through `/proc/self/fd/N`), so nothing can be swapped
/// between this check and the mount.
pub fn open_beneath(volume: &Path, sub: &Path, mode: Mode) -> Result<OwnedFd> {
    let mut dir = nix::fcntl::open(
        volume,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open the volume {}", volume.display()))?;
    let names = sub
        .components()
        .filter(|c| *c != Component::CurDir)
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => bail!("{} must be a relative path without '..'", sub.display()),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut so_far = PathBuf::new();
    for (i, name) in names.iter().enumerate() {
        so_far.push(name);
        let last = i + 1 == names.len();
        dir = match open_no_symlinks(&dir, name, last) {
            Err(Errno::ENOENT) => {
                // Created through the parent's descriptor; a racing symlink in its place
                // makes the open below fail, never followed.
                match nix::sys::stat::mkdirat(&dir, *name, mode) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(err) => {
                        return Err(err)
                            .with_context(|| format!("create directory {}", so_far.display()))
                    }
                }
                let created =
                    open_no_symlinks(&dir, name, last).map_err(|err| refusal(err, &so_far))?;
                // mkdir's mode went through the umask: set it as asked, on the inode we hold.
                std::fs::set_permissions(
                    fd_path(&created),
                    std::fs::Permissions::from_mode(mode.bits()),
                )
                .with_context(|| format!("chmod {}", so_far.display()))?;
                created
            }
            other => other.map_err(|err| refusal(err, &so_far))?,
        };
    }
    Ok(dir)
}

/// One path component below `dir`: `O_PATH`, no symlink anywhere (ELOOP if it is one).
fn open_no_symlinks(dir: &OwnedFd, name: &std::ffi::OsStr, last: bool) -> nix::Result<OwnedFd> {
    let flags = if last {
        OFlag::O_PATH
    } else {
        OFlag::O_PATH | OFlag::O_DIRECTORY
    };
    kernel().openat2(
        dir.as_fd(),
        Path::new(name),
        flags | OFlag::O_CLOEXEC,
        ResolveFlag::RESOLVE_BENEATH
            | ResolveFlag::RESOLVE_NO_SYMLINKS
            | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        "a subPath component opened inside its volume, no symlink followed: the fd, not the path, gets mounted",
    )
}

/// Say why a subPath component was refused, naming only the subPath's own parts.
fn refusal(err: Errno, so_far: &Path) -> anyhow::Error {
    let what = match err {
        Errno::ELOOP => "is a symbolic link".to_string(),
        Errno::ENOTDIR => "is not a directory".to_string(),
        Errno::EXDEV => "leaves the volume".to_string(),
        other => format!("cannot be opened: {}", other.desc()),
    };
    anyhow::anyhow!("{:?} {what}", so_far.display().to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn temp(label: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("minipod-safe-path-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn sub_paths_are_created_beneath_and_symlinks_refused() {
        let vol = temp("vol");
        let mode = Mode::from_bits_truncate(0o750);
        // Missing directories are created inside the volume, with the mode asked for.
        let fd = open_beneath(&vol, Path::new("a/./b"), mode).unwrap();
        let meta = std::fs::metadata(fd_path(&fd)).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o7777, 0o750);
        assert!(vol.join("a/b").is_dir());
        // Any symlink on the way is refused: last, middle, relative, even inside the volume.
        symlink("/", vol.join("root")).unwrap();
        symlink("a", vol.join("inside")).unwrap();
        symlink("../..", vol.join("a/up")).unwrap();
        for (sub, why) in [
            ("root", "\"root\" is a symbolic link"),
            ("root/tmp", "\"root\" is a symbolic link"),
            ("inside/b", "\"inside\" is a symbolic link"),
            ("a/up", "\"a/up\" is a symbolic link"),
            ("a/up/x", "\"a/up\" is a symbolic link"),
        ] {
            let err = open_beneath(&vol, Path::new(sub), mode).unwrap_err();
            assert!(format!("{err:#}").contains(why), "{sub}: {err:#}");
        }
        // `..` and absolute paths never get this far, but are refused here too.
        assert!(open_beneath(&vol, Path::new("../x"), mode).is_err());
        assert!(open_beneath(&vol, Path::new("/etc"), mode).is_err());
        // A file where a directory is needed.
        std::fs::write(vol.join("file"), "x").unwrap();
        let err = open_beneath(&vol, Path::new("file/x"), mode).unwrap_err();
        assert!(
            format!("{err:#}").contains("\"file\" is not a directory"),
            "{err:#}"
        );
        // A file as the last component is fine (kubelet mounts file subPaths).
        assert!(open_beneath(&vol, Path::new("file"), mode).is_ok());
        std::fs::remove_dir_all(&vol).unwrap();
    }
}

//! The container's view of the file system, built inside its new mount namespace:
//! private propagation, the spec's mounts resolved inside the rootfs, a fresh `/dev`,
//! `pivot_root`, then the masked and read-only paths.

use super::error::{Errno, MountError};
use super::kernel::kernel;
use super::mount_options::{self, MountOptions};
use super::safe_path::{self, Kind};
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::{Mode, SFlag};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType, LinuxNamespaceType, Mount, Spec};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, MountError>;

/// The error of a mount the kernel refused, saying what was being done.
fn refused(what: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> MountError {
    let what = what.into();
    move |errno| MountError::Mount {
        what,
        errno: errno.into(),
    }
}

/// The error of a target that could not be resolved inside the rootfs.
fn unresolved(what: String) -> impl FnOnce(anyhow::Error) -> MountError {
    move |err| MountError::Target {
        what,
        message: format!("{err:#}"),
    }
}

/// The new mount namespace made private, the rootfs a mount point, the spec's mounts
/// on it: everything before `pivot_root` (where OCI `createContainer` hooks run).
/// `idmap`: the user namespace the container will join and its mapping, when it has
/// one: the root and the `idmap` bind mounts are then idmapped mounts (see `userns`).
pub fn mount_all(spec: &Spec, rootfs: &Path, idmap: Option<(BorrowedFd<'_>, &str)>) -> Result<()> {
    // Mounts made from here on must not leak into the supervisor's namespace (and,
    // if `/` is shared as systemd makes it, pivot_root would fail with EINVAL).
    kernel()
        .mount(
            None,
            Path::new("/"),
            None,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None,
            "nothing mounted here reaches the host",
        )
        .map_err(refused(
            "make / rprivate in the container's mount namespace",
        ))?;

    // pivot_root needs the new root to be a mount point: bind it onto itself. (In a
    // user namespace the root comes idmapped already, as containerd's snapshotter
    // makes it: see RootfsMount::overlay_idmapped.)
    kernel()
        .mount(
            Some(rootfs),
            rootfs,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
            "pivot_root needs the new root to be a mount point",
        )
        .map_err(refused(format!(
            "bind the rootfs {} onto itself",
            rootfs.display()
        )))?;

    let root_fd = nix::fcntl::open(
        rootfs,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(refused(format!("open the rootfs {}", rootfs.display())))?;

    // A cgroup namespace of its own (made or joined): the kernel roots cgroup mounts at
    // the container's cgroup.
    let cgroupns = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::Cgroup));
    for m in spec.mounts().iter().flatten() {
        mount_one(&root_fd, m, idmap, cgroupns)?;
        if m.destination() == Path::new("/dev") {
            let devices = spec
                .linux()
                .as_ref()
                .and_then(|l| l.devices().clone())
                .unwrap_or_default();
            create_devices(&root_fd, &devices)?;
        }
    }

    Ok(())
}

/// `pivot_root` into the rootfs, then the masked and read-only paths.
pub fn pivot(spec: &Spec, rootfs: &Path) -> Result<()> {
    pivot_root(rootfs)?;

    if let Some(linux) = spec.linux() {
        let mut null = None;
        for path in linux.masked_paths().iter().flatten() {
            mask_path(Path::new(path), &mut null)?;
        }
        for path in linux.readonly_paths().iter().flatten() {
            readonly_path(Path::new(path))?;
        }
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        kernel()
            .mount(
                None,
                Path::new("/"),
                None,
                MsFlags::MS_BIND
                    | MsFlags::MS_REMOUNT
                    | MsFlags::MS_RDONLY
                    | kept_flags(Path::new("/")),
                None,
                "readOnlyRootFilesystem",
            )
            .map_err(refused("remount the container's root read-only"))?;
    }
    Ok(())
}

/// One entry of the spec's `mounts`, onto a target resolved inside the rootfs.
fn mount_one(
    root_fd: &OwnedFd,
    m: &Mount,
    idmap: Option<(BorrowedFd<'_>, &str)>,
    cgroupns: bool,
) -> Result<()> {
    let dest = m.destination();
    let typ = m.typ().clone().unwrap_or_default();
    // OCI's `idmap` option: the bind is seen through the container's user namespace.
    let all = m.options().clone().unwrap_or_default();
    let wants_idmap = all.iter().any(|o| o == "idmap" || o == "ridmap");
    if wants_idmap && idmap.is_none() {
        // Never a plain bind in its place: the files would show other owners.
        return Err(MountError::Target {
            what: format!("mount {} with idmap", dest.display()),
            message: "idmapped mounts are made only for a container that joins an existing user namespace (linux.namespaces user with a path); not for one made for it or without one".into(),
        });
    }
    let rest: Vec<String> = all
        .into_iter()
        .filter(|o| o != "idmap" && o != "ridmap")
        .collect();
    let opts = mount_options::parse(&rest);
    let source = m.source().clone().unwrap_or_else(|| PathBuf::from(&typ));
    let what = || format!("mount {} on {}", source.display(), dest.display());

    // A bind mount of a file needs a file to mount onto; everything else a directory.
    let kind = if opts.is_bind() && !source.is_dir() {
        Kind::File
    } else {
        Kind::Directory
    };
    let target = safe_path::open_or_create(root_fd, dest, kind).map_err(unresolved(what()))?;
    if opts.is_bind() {
        refuse_kernel_fs_target(root_fd, &target, dest).map_err(unresolved(what()))?;
    }
    let target_path = safe_path::fd_path(&target);

    if opts.is_bind() {
        match idmap.filter(|_| wants_idmap) {
            Some((userns, mapping)) => {
                super::userns::idmapped_bind(&source, target.as_fd(), dest, userns, mapping)
                    .map_err(|e| MountError::Other(e.to_string()))?
            }
            // The bind itself ignores every flag but MS_REC; ro/nosuid/… need a remount.
            None => kernel()
                .mount(
                    Some(&source),
                    &target_path,
                    None,
                    opts.flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
                    None,
                    why_for(dest, &typ),
                )
                .map_err(refused(what()))?,
        }
        let extra = opts.flags - (MsFlags::MS_BIND | MsFlags::MS_REC);
        if !extra.is_empty() {
            // Our descriptor still names the directory *under* the new mount: open the
            // target again to reach the mount itself.
            let mounted =
                safe_path::open_in_root(root_fd, dest, OFlag::O_PATH).map_err(refused(what()))?;
            remount_bind(&safe_path::fd_path(&mounted), &opts).map_err(refused(what()))?;
        }
    } else if typ == "cgroup" && super::cgroups::hierarchy() == super::cgroups::Hierarchy::V1 {
        // runc's specs (and podman's) mount `cgroup` on /sys/fs/cgroup: a v1 or hybrid
        // host's many hierarchies are not one mount (see `cgroup_mount`).
        super::cgroup_mount::mount_v1(root_fd, dest, opts.flags, cgroupns)?;
    } else {
        let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
        // A cgroup v2 host: cgroup2, rooted at the container's own cgroup namespace.
        let typ = match typ.as_str() {
            "cgroup" => "cgroup2".to_string(),
            _ => typ,
        };
        kernel()
            .mount(
                Some(&source),
                &target_path,
                Some(typ.as_str()),
                opts.flags,
                data,
                why_for(dest, &typ),
            )
            .map_err(refused(what()))?;
    }
    if !opts.propagation.is_empty() {
        let mounted =
            safe_path::open_in_root(root_fd, dest, OFlag::O_PATH).map_err(refused(what()))?;
        kernel()
            .mount(
                None,
                &safe_path::fd_path(&mounted),
                None,
                opts.propagation,
                None,
                "the propagation the mount asks for",
            )
            .map_err(refused(what()))?;
    }
    Ok(())
}

/// The target, resolved inside the rootfs, must not be on the container's procfs or
/// sysfs (mounted before the volumes), nor the rootfs itself: a volume there would
/// replace the kernel's files with the volume's, and the masked paths would find
/// nothing to mask. A mountPath that passed validation can still get there through a
/// symlink another container left in a volume. runc refuses the same.
fn refuse_kernel_fs_target(root_fd: &OwnedFd, target: &OwnedFd, dest: &Path) -> anyhow::Result<()> {
    use anyhow::{bail, Context};
    let fs = nix::sys::statfs::fstatfs(target).context("fstatfs the mount target")?;
    for (magic, dir) in [
        (nix::sys::statfs::PROC_SUPER_MAGIC, "/proc"),
        (nix::sys::statfs::SYSFS_MAGIC, "/sys"),
    ] {
        if fs.filesystem_type() == magic {
            bail!(
                "{} cannot be mounted because it is inside {dir}",
                dest.display()
            );
        }
    }
    let (t, r) = (
        nix::sys::stat::fstat(target).context("fstat the mount target")?,
        nix::sys::stat::fstat(root_fd).context("fstat the rootfs")?,
    );
    if (t.st_dev, t.st_ino) == (r.st_dev, r.st_ino) {
        bail!(
            "{} cannot be mounted because it is the container's / (it would cover /proc and /sys)",
            dest.display()
        );
    }
    Ok(())
}

/// The flags a remount must repeat: in a user namespace the kernel locks the nosuid,
/// nodev and noexec a more privileged namespace set, and refuses (EPERM) a remount
/// that would drop them (runc keeps them the same way). The atime flags, also
/// locked, stay as they are when a remount names none.
fn kept_flags(target: &Path) -> MsFlags {
    use nix::sys::statvfs::FsFlags;
    let Ok(st) = nix::sys::statvfs::statvfs(target) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    for (have, keep) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
    ] {
        if f.contains(have) {
            out |= keep;
        }
    }
    out
}

fn remount_bind(target: &Path, opts: &MountOptions) -> nix::Result<()> {
    let flags = kept_flags(target)
        | MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | (opts.flags
            & (MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC));
    kernel().mount(
        None,
        target,
        None,
        flags,
        None,
        "a bind ignores ro, nosuid, nodev, noexec: a remount applies them",
    )
}

/// A few words on why each standard mount is there.
fn why_for(dest: &Path, typ: &str) -> &'static str {
    match (dest.to_str().unwrap_or(""), typ) {
        ("/proc", _) => "a /proc that shows only this PID namespace",
        ("/dev", _) => "a fresh /dev: never trust device nodes from the image",
        ("/dev/pts", _) => "its own pseudo-terminals (newinstance)",
        ("/dev/shm", _) => "the pod's one shared-memory tmpfs: POSIX shm is shared pod-wide",
        ("/dev/mqueue", _) => "POSIX message queues of the pod's IPC namespace",
        ("/sys", _) => "sysfs, read-only",
        ("/etc/hosts", _) => "kubelet-style /etc/hosts naming the pod",
        ("/etc/hostname", _) => "the pod's hostname",
        ("/etc/resolv.conf", _) => "the host's DNS settings",
        _ => "a volume of the pod",
    }
}

/// Device nodes in the fresh `/dev` tmpfs, and the usual symlinks.
fn create_devices(root_fd: &OwnedFd, devices: &[LinuxDevice]) -> Result<()> {
    let dev = safe_path::open_in_root(root_fd, Path::new("/dev"), OFlag::O_DIRECTORY)
        .map_err(refused("open /dev inside the rootfs"))?;
    let bad = |path: &Path, problem: &str| MountError::Device {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    };
    for device in devices {
        let path = device.path();
        let name = path
            .strip_prefix("/dev")
            .map_err(|_| bad(path, "not under /dev"))?;
        // Only plain names below /dev: no `..`, no `.`, nothing absolute.
        if !name
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
            || name.as_os_str().is_empty()
        {
            return Err(bad(path, "not a plain path below /dev"));
        }
        // A node in a subdirectory (/dev/net/tun): its parents first, in the fresh
        // /dev tmpfs (nothing else has touched it), through its descriptor.
        if let Some(parent) = name.parent().filter(|p| !p.as_os_str().is_empty()) {
            let dir = safe_path::fd_path(&dev).join(parent);
            kernel()
                .mkdir(&dir, "the device's directory in the container's /dev")
                .map_err(|errno| MountError::Node {
                    what: "mkdir".into(),
                    path: Path::new("/dev").join(parent),
                    errno: errno.into(),
                })?;
        }
        let kind = match device.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            LinuxDeviceType::A => return Err(bad(path, "type \"a\" is not a node")),
        };
        let mode = Mode::from_bits_truncate(device.file_mode().unwrap_or(0o666));
        let made = kernel().mknod(
            dev.as_fd(),
            name,
            kind,
            mode,
            device.major() as u64,
            device.minor() as u64,
            "only the harmless devices every container gets",
        );
        match made {
            Ok(()) => {}
            // In a user namespace of its own no device can be made (mknod needs
            // CAP_MKNOD of the host's): the host's node is bound instead, as runc does.
            Err(nix::errno::Errno::EPERM) => bind_host_node(&dev, name, device)?,
            Err(errno) => {
                return Err(MountError::Node {
                    what: "mknod".into(),
                    path: path.to_path_buf(),
                    errno: errno.into(),
                })
            }
        }
    }
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
        ("core", "/proc/kcore"),
    ] {
        match kernel().symlink(
            Path::new(target),
            dev.as_fd(),
            Path::new(link),
            "the links programs expect in /dev",
        ) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(errno) => {
                return Err(MountError::Node {
                    what: "symlink".into(),
                    path: Path::new("/dev").join(link),
                    errno: Errno::from(errno),
                })
            }
        }
    }
    Ok(())
}

/// The host's device node `device.path()` (still in view: this is before pivot_root)
/// bound onto an empty file of the same name in the container's fresh `/dev`, after
/// checking it is the device the spec names.
fn bind_host_node(dev: &OwnedFd, name: &Path, device: &LinuxDevice) -> Result<()> {
    let path = device.path();
    let node = |what: &str| {
        let what = what.to_string();
        move |errno: nix::errno::Errno| MountError::Node {
            what,
            path: path.to_path_buf(),
            errno: errno.into(),
        }
    };
    let host = nix::fcntl::open(
        path,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(node("open the host's node to bind"))?;
    let st = nix::sys::stat::fstat(&host).map_err(node("stat the host's node"))?;
    let rdev = nix::sys::stat::makedev(device.major() as u64, device.minor() as u64);
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFCHR || st.st_rdev != rdev
    {
        return Err(MountError::Device {
            path: path.to_path_buf(),
            problem: format!(
                "the host's node is not the device {}:{} the spec names",
                device.major(),
                device.minor()
            ),
        });
    }
    let target = nix::fcntl::openat(
        dev,
        name,
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(node("create the file to bind the host's node on"))?;
    kernel()
        .mount(
            Some(&safe_path::fd_path(&host)),
            &safe_path::fd_path(&target),
            None,
            MsFlags::MS_BIND,
            None,
            "a user namespace cannot mknod: the host's node, bound",
        )
        .map_err(node("bind the host's node"))
}

/// Make the rootfs `/`. pivot_root(".", ".") stacks the old root under the new one,
/// so it can be detached without a put_old directory.
fn pivot_root(rootfs: &Path) -> Result<()> {
    let pivot = |what: String| {
        move |errno: nix::errno::Errno| MountError::Pivot {
            what,
            errno: errno.into(),
        }
    };
    let here = Path::new(".");
    kernel()
        .chdir(
            rootfs,
            "pivot_root(\".\", \".\") works on the current directory",
        )
        .map_err(pivot(format!("chdir {}", rootfs.display())))?;
    kernel()
        .pivot_root(
            here,
            here,
            "the image becomes /; the host's tree is stacked under it",
        )
        .map_err(pivot(format!("pivot_root into {}", rootfs.display())))?;
    kernel()
        .umount2(
            here,
            MntFlags::MNT_DETACH,
            "the host's tree is gone from view",
        )
        .map_err(pivot("detach the old root after pivot_root".into()))?;
    kernel()
        .chdir(Path::new("/"), "start from the new root")
        .map_err(pivot("chdir / after pivot_root".into()))?;
    Ok(())
}

/// Hide a path: the null device over a file, an empty read-only tmpfs over a
/// directory. `null` holds the container's /dev/null once opened (see [`dev_null`]).
fn mask_path(path: &Path, null: &mut Option<OwnedFd>) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // This kernel has no such file: nothing to hide (runc skips it too).
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => {
            return Err(MountError::Target {
                what: format!("mask {}", path.display()),
                message: err.to_string(),
            })
        }
    };
    let why = "kernel details a container must not read";
    if meta.is_dir() {
        let tmpfs = Some(Path::new("tmpfs"));
        kernel().mount(tmpfs, path, Some("tmpfs"), MsFlags::MS_RDONLY, None, why)
    } else {
        let fd = match null {
            Some(fd) => fd,
            None => null.insert(dev_null()?),
        };
        let source = safe_path::fd_path(fd);
        kernel().mount(Some(&source), path, None, MsFlags::MS_BIND, None, why)
    }
    .map_err(refused(format!("mask {}", path.display())))?;
    Ok(())
}

/// The container's `/dev/null`, opened without following a symlink and checked to
/// be the null device (1:3). A `/dev/null` the image or a shared volume replaced with
/// a link to a kernel knob (`/proc/sys/kernel/core_pattern`) would otherwise be bound,
/// writable, wherever a path is masked (CVE-2025-31133).
fn dev_null() -> Result<OwnedFd> {
    let what = || "mask paths with the container's /dev/null".to_string();
    let fd = nix::fcntl::open(
        "/dev/null",
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(refused(what()))?;
    let stat = nix::sys::stat::fstat(&fd).map_err(refused(what()))?;
    let is_char = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR;
    if !is_char || stat.st_rdev != nix::sys::stat::makedev(1, 3) {
        return Err(MountError::Target {
            what: what(),
            message: "the container's /dev/null is not the null device (1:3): a symlink or another file was put there".into(),
        });
    }
    Ok(fd)
}

/// Bind a path onto itself and remount it read-only.
fn readonly_path(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => {
            return Err(MountError::Target {
                what: format!("make {} read-only", path.display()),
                message: err.to_string(),
            })
        }
    }
    kernel()
        .mount(
            Some(path),
            path,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
            "a mount of its own, to make read-only",
        )
        .and_then(|_| {
            kernel().mount(
                Some(path),
                path,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
                None,
                "kernel knobs a container must not write",
            )
        })
        .map_err(refused(format!("make {} read-only", path.display())))?;
    Ok(())
}

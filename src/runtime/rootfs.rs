//! The container's view of the file system, built inside its new mount namespace:
//! private propagation, the spec's mounts resolved inside the rootfs, a fresh `/dev`,
//! `pivot_root`, then the masked and read-only paths.

use super::mount_options::{self, MountOptions};
use super::safe_path::{self, Kind};
use crate::narration::step;
use anyhow::{bail, Context, Result};
use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType, Mount, Spec};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

const NONE: Option<&str> = None;

/// Everything between the new mount namespace and `pivot_root`, then the pivot itself.
pub fn prepare(spec: &Spec, rootfs: &Path) -> Result<()> {
    // Mounts made from here on must not leak into the supervisor's namespace (and,
    // if `/` is shared as systemd makes it, pivot_root would fail with EINVAL).
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE)
        .context("make / rprivate in the container's mount namespace")?;
    step(
        "mount(/, MS_REC|MS_PRIVATE)",
        "nothing mounted here reaches the host",
    );

    // pivot_root needs the new root to be a mount point: bind it onto itself.
    mount(
        Some(rootfs),
        rootfs,
        NONE,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        NONE,
    )
    .with_context(|| format!("bind the rootfs {} onto itself", rootfs.display()))?;
    step(
        format!("mount --bind {} {}", rootfs.display(), rootfs.display()),
        "pivot_root needs the new root to be a mount point",
    );

    let root_fd = nix::fcntl::open(
        rootfs,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open the rootfs {}", rootfs.display()))?;

    for m in spec.mounts().iter().flatten() {
        mount_one(&root_fd, m)?;
        if m.destination() == Path::new("/dev") {
            let devices = spec
                .linux()
                .as_ref()
                .and_then(|l| l.devices().clone())
                .unwrap_or_default();
            create_devices(&root_fd, &devices)?;
        }
    }

    pivot_root(rootfs)?;

    if let Some(linux) = spec.linux() {
        for path in linux.masked_paths().iter().flatten() {
            mask_path(Path::new(path))?;
        }
        for path in linux.readonly_paths().iter().flatten() {
            readonly_path(Path::new(path))?;
        }
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        mount(
            NONE,
            "/",
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            NONE,
        )
        .context("remount the container's root read-only")?;
        step("mount(/, MS_REMOUNT|MS_RDONLY)", "readOnlyRootFilesystem");
    }
    Ok(())
}

/// One entry of the spec's `mounts`, onto a target resolved inside the rootfs.
fn mount_one(root_fd: &OwnedFd, m: &Mount) -> Result<()> {
    let dest = m.destination();
    let typ = m.typ().clone().unwrap_or_default();
    let opts = mount_options::parse(m.options().as_deref().unwrap_or(&[]));
    let source = m.source().clone().unwrap_or_else(|| PathBuf::from(&typ));
    let what = || format!("mount {} on {}", source.display(), dest.display());

    // A bind mount of a file needs a file to mount onto; everything else a directory.
    let kind = if opts.is_bind() && !source.is_dir() {
        Kind::File
    } else {
        Kind::Directory
    };
    let target = safe_path::open_or_create(root_fd, dest, kind).with_context(what)?;
    if opts.is_bind() {
        refuse_kernel_fs_target(root_fd, &target, dest).with_context(what)?;
    }
    let target_path = safe_path::fd_path(&target);

    if opts.is_bind() {
        // The bind itself ignores every flag but MS_REC; ro/nosuid/… need a remount.
        mount(
            Some(&source),
            &target_path,
            NONE,
            opts.flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
            NONE,
        )
        .with_context(what)?;
        let extra = opts.flags - (MsFlags::MS_BIND | MsFlags::MS_REC);
        if !extra.is_empty() {
            // Our descriptor still names the directory *under* the new mount: open the
            // target again to reach the mount itself.
            let mounted =
                safe_path::open_in_root(root_fd, dest, OFlag::O_PATH).with_context(what)?;
            remount_bind(&safe_path::fd_path(&mounted), &opts).with_context(what)?;
        }
        step(
            format!(
                "mount --bind {} {}{}",
                source.display(),
                dest.display(),
                if opts.is_readonly() { " (ro)" } else { "" }
            ),
            why_for(dest, &typ),
        );
    } else {
        let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
        mount(
            Some(&source),
            &target_path,
            Some(typ.as_str()),
            opts.flags,
            data,
        )
        .with_context(what)?;
        step(
            format!(
                "mount -t {} {} {}{}",
                typ,
                source.display(),
                dest.display(),
                data.map(|d| format!(" -o {d}")).unwrap_or_default()
            ),
            why_for(dest, &typ),
        );
    }
    if !opts.propagation.is_empty() {
        let mounted = safe_path::open_in_root(root_fd, dest, OFlag::O_PATH).with_context(what)?;
        mount(
            NONE,
            &safe_path::fd_path(&mounted),
            NONE,
            opts.propagation,
            NONE,
        )
        .with_context(what)?;
    }
    Ok(())
}

/// The target, resolved inside the rootfs, must not be on the container's procfs or
/// sysfs (mounted before the volumes), nor the rootfs itself: a volume there would
/// replace the kernel's files with the volume's, and the masked paths would find
/// nothing to mask. A mountPath that passed validation can still get there through a
/// symlink another container left in a volume. runc refuses the same.
fn refuse_kernel_fs_target(root_fd: &OwnedFd, target: &OwnedFd, dest: &Path) -> Result<()> {
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

fn remount_bind(target: &Path, opts: &MountOptions) -> nix::Result<()> {
    let flags = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | (opts.flags
            & (MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC));
    mount(NONE, target, NONE, flags, NONE)
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
        .context("open /dev inside the rootfs")?;
    let mut names = Vec::new();
    for device in devices {
        let path = device.path();
        let name = path
            .strip_prefix("/dev")
            .with_context(|| format!("device {} is not under /dev", path.display()))?;
        if name.components().count() != 1 {
            bail!(
                "device {}: only nodes directly in /dev are supported",
                path.display()
            );
        }
        let kind = match device.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            LinuxDeviceType::A => bail!("device {}: type \"a\" is not a node", path.display()),
        };
        let mode = Mode::from_bits_truncate(device.file_mode().unwrap_or(0o666));
        mknodat(
            &dev,
            name,
            kind,
            mode,
            makedev(device.major() as u64, device.minor() as u64),
        )
        .with_context(|| format!("mknod {}", path.display()))?;
        // mknod's mode is filtered by the umask: set it exactly.
        nix::sys::stat::fchmodat(
            &dev,
            name,
            mode,
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .with_context(|| format!("chmod {}", path.display()))?;
        names.push(name.display().to_string());
    }
    step(
        format!("mknod /dev/{{{}}}", names.join(",")),
        "only the harmless devices every container gets",
    );
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
        ("core", "/proc/kcore"),
    ] {
        match nix::unistd::symlinkat(target, &dev, link) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(err) => return Err(err).with_context(|| format!("symlink /dev/{link}")),
        }
    }
    Ok(())
}

/// Make the rootfs `/`. pivot_root(".", ".") stacks the old root under the new one,
/// so it can be detached without a put_old directory.
fn pivot_root(rootfs: &Path) -> Result<()> {
    nix::unistd::chdir(rootfs).with_context(|| format!("chdir {}", rootfs.display()))?;
    nix::unistd::pivot_root(".", ".")
        .with_context(|| format!("pivot_root into {}", rootfs.display()))?;
    umount2(".", MntFlags::MNT_DETACH).context("detach the old root after pivot_root")?;
    nix::unistd::chdir("/").context("chdir / after pivot_root")?;
    step(
        format!(
            "pivot_root({}); umount2(old root, MNT_DETACH)",
            rootfs.display()
        ),
        "the image becomes /; the host's tree is gone from view",
    );
    Ok(())
}

/// Hide a path: /dev/null over a file, an empty read-only tmpfs over a directory.
fn mask_path(path: &Path) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // This kernel has no such file: nothing to hide (runc skips it too).
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("mask {}", path.display())),
    };
    if meta.is_dir() {
        mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, NONE)
    } else {
        mount(Some("/dev/null"), path, NONE, MsFlags::MS_BIND, NONE)
    }
    .with_context(|| format!("mask {}", path.display()))?;
    step(
        format!("mask {}", path.display()),
        "kernel details a container must not read",
    );
    Ok(())
}

/// Bind a path onto itself and remount it read-only.
fn readonly_path(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("make {} read-only", path.display())),
    }
    mount(
        Some(path),
        path,
        NONE,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        NONE,
    )
    .and_then(|_| {
        mount(
            Some(path),
            path,
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
            NONE,
        )
    })
    .with_context(|| format!("make {} read-only", path.display()))?;
    step(
        format!("mount -o remount,ro {}", path.display()),
        "kernel knobs a container must not write",
    );
    Ok(())
}

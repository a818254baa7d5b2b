//! The kernel itself: each [`Call`] made through nix (libc where nix has no wrapper,
//! the `caps` crate for capability sets). It says nothing; [`super::Narrated`] does.

use super::{Call, Kernel, Prctl};
use caps::CapSet;
use nix::errno::Errno;
use nix::sys::memfd::MFdFlags;
use nix::sys::stat::{makedev, FchmodatFlags};
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

pub struct Linux;

impl Kernel for Linux {
    fn call(&self, call: &Call<'_>, _why: &str) -> nix::Result<()> {
        match call {
            Call::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => nix::mount::mount(*source, *target, *fstype, *flags, *data),
            Call::Umount2 { target, flags } => nix::mount::umount2(*target, *flags),
            Call::PivotRoot { new_root, put_old } => nix::unistd::pivot_root(*new_root, *put_old),
            Call::Chdir { path } => nix::unistd::chdir(*path),
            Call::Setns { fd, nstype, .. } => nix::sched::setns(fd, *nstype),
            Call::Unshare { flags } => nix::sched::unshare(*flags),
            Call::Sethostname { name } => nix::unistd::sethostname(name),
            Call::Setrlimit {
                resource,
                soft,
                hard,
                ..
            } => nix::sys::resource::setrlimit(*resource, *soft, *hard),
            Call::LinkUp { name } => super::super::loopback::bring_up(name),
            Call::Mknod {
                dir,
                name,
                kind,
                mode,
                major,
                minor,
            } => {
                nix::sys::stat::mknodat(dir, *name, *kind, *mode, makedev(*major, *minor))?;
                // mknod's mode is filtered by the umask: set it exactly.
                nix::sys::stat::fchmodat(dir, *name, *mode, FchmodatFlags::FollowSymlink)
            }
            Call::Symlink { target, dir, link } => nix::unistd::symlinkat(*target, dir, *link),
            Call::Mkdir { path } => std::fs::create_dir_all(path).map_err(errno),
            Call::Write { path, value } => std::fs::write(path, value).map_err(errno),
            Call::Prctl(op) => match op {
                Prctl::Dumpable(on) => nix::sys::prctl::set_dumpable(*on),
                Prctl::KeepCaps(on) => nix::sys::prctl::set_keepcaps(*on),
                Prctl::NoNewPrivs => nix::sys::prctl::set_no_new_privs(),
                Prctl::Name(name) => nix::sys::prctl::set_name(name),
                Prctl::ChildSubreaper => nix::sys::prctl::set_child_subreaper(true),
                Prctl::DeathSignal(sig) => nix::sys::prctl::set_pdeathsig(*sig),
            },
            Call::Setgroups { gids } => nix::unistd::setgroups(gids),
            Call::Setresgid { gid } => nix::unistd::setresgid(*gid, *gid, *gid),
            Call::Setresuid { uid } => nix::unistd::setresuid(*uid, *uid, *uid),
            Call::Capset { set, caps } => capset(*set, caps),
            Call::CloseRangeCloexec { first } => {
                // SAFETY: close_range(2) takes plain integers; with CLOSE_RANGE_CLOEXEC
                // it only sets flags on descriptors, it closes nothing still in use.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_close_range,
                        *first,
                        u32::MAX,
                        libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
                    )
                };
                Errno::result(rc).map(drop)
            }
            Call::Execve { path, args, env } => {
                nix::unistd::execve(path, args, env).map(|never| match never {})
            }
            Call::Execveat { fd, args } => execveat(*fd, args),
            Call::Kill { pid, signal } => nix::sys::signal::kill(*pid, *signal),
            Call::MountSetattr { fd, attr_set } => mount_setattr(*fd, *attr_set),
            Call::IdmapMount { fd, userns, .. } => idmap_mount(*fd, *userns),
            Call::MoveMount { fd, target_fd, .. } => move_mount(*fd, *target_fd),
            Call::AddSeals { fd, seals } => {
                let seals = nix::fcntl::SealFlag::from_bits_truncate(*seals);
                nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_ADD_SEALS(seals)).map(drop)
            }
            Call::Seccomp { filter } => filter.load_here(),
            Call::BpfProgAttach { prog, cgroup, .. } => {
                crate::runtime::devices::bpf::attach(*prog, *cgroup)
            }
            // The calls that make a descriptor: made, and the descriptor closed.
            Call::OpenTree { .. }
            | Call::MemfdCreate { .. }
            | Call::Openat2 { .. }
            | Call::BpfProgLoad { .. } => self.open(call, _why).map(drop),
        }
    }

    fn open(&self, call: &Call<'_>, _why: &str) -> nix::Result<OwnedFd> {
        match call {
            Call::OpenTree { path } => open_tree(path),
            Call::MemfdCreate { name } => nix::sys::memfd::memfd_create(
                *name,
                MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
            ),
            Call::Openat2 {
                dir,
                name,
                flags,
                resolve,
            } => {
                let how = nix::fcntl::OpenHow::new().flags(*flags).resolve(*resolve);
                nix::fcntl::openat2(dir, *name, how)
            }
            Call::BpfProgLoad { insns } => crate::runtime::devices::bpf::load(insns),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// execveat(2) of a descriptor, with no environment: nix's wrapper takes no
/// descriptor-only form.
fn execveat(fd: BorrowedFd<'_>, args: &[CString]) -> nix::Result<()> {
    let mut ptrs: Vec<*mut libc::c_char> = args.iter().map(|a| a.as_ptr() as *mut _).collect();
    ptrs.push(std::ptr::null_mut());
    let env: [*mut libc::c_char; 1] = [std::ptr::null_mut()];
    // SAFETY: argv and envp are NULL-terminated arrays of NUL-terminated strings that
    // outlive the call; on success execveat does not return.
    unsafe {
        libc::execveat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            ptrs.as_ptr(),
            env.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    Err(Errno::last())
}

/// open_tree(2): nix has no wrapper.
fn open_tree(path: &std::path::Path) -> nix::Result<OwnedFd> {
    let path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: open_tree(2) reads a NUL-terminated path and returns a new descriptor.
    let raw = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC,
        )
    };
    let raw = Errno::result(raw)?;
    let raw = i32::try_from(raw).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// mount_setattr(2) on a detached mount's descriptor.
fn mount_setattr(fd: BorrowedFd<'_>, attr_set: u64) -> nix::Result<()> {
    set_mount_attr(
        fd,
        &libc::mount_attr {
            attr_set,
            attr_clr: 0,
            propagation: 0,
            userns_fd: 0,
        },
    )
}

/// mount_setattr(2) with MOUNT_ATTR_IDMAP: the mount shows ids through `userns`.
fn idmap_mount(fd: BorrowedFd<'_>, userns: BorrowedFd<'_>) -> nix::Result<()> {
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: u64::try_from(userns.as_raw_fd()).map_err(|_| Errno::EBADF)?,
    };
    // `userns` stays borrowed until the call returns.
    set_mount_attr(fd, &attr)
}

/// mount_setattr(2) on `fd` itself (empty path): nix has no wrapper.
fn set_mount_attr(fd: BorrowedFd<'_>, attr: &libc::mount_attr) -> nix::Result<()> {
    // SAFETY: mount_setattr(2) reads `attr` (its size given) and an empty path; the
    // descriptor (and any userns_fd in `attr`) is borrowed by the caller for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    Errno::result(rc).map(drop)
}

/// move_mount(2): nix has no wrapper.
fn move_mount(fd: BorrowedFd<'_>, target: BorrowedFd<'_>) -> nix::Result<()> {
    // SAFETY: move_mount(2) reads two empty NUL-terminated paths; both descriptors
    // are borrowed for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    Errno::result(rc).map(drop)
}

/// The `caps` crate reports failures as text; the errno it saw is still set.
fn capset(set: CapSet, wanted: &caps::CapsHashSet) -> nix::Result<()> {
    let failed = |_| match Errno::last() {
        Errno::UnknownErrno => Errno::EPERM,
        errno => errno,
    };
    match set {
        CapSet::Bounding => {
            for cap in caps::all() {
                if !wanted.contains(&cap) {
                    caps::drop(None, CapSet::Bounding, cap).map_err(failed)?;
                }
            }
            Ok(())
        }
        CapSet::Ambient => {
            caps::clear(None, CapSet::Ambient).map_err(failed)?;
            for cap in wanted {
                caps::raise(None, CapSet::Ambient, *cap).map_err(failed)?;
            }
            Ok(())
        }
        other => caps::set(None, other, wanted).map_err(failed),
    }
}

fn errno(err: std::io::Error) -> Errno {
    err.raw_os_error()
        .map(Errno::from_raw)
        .unwrap_or(Errno::EIO)
}

//! The kernel itself: each [`Call`] made through nix (libc where nix has no wrapper,
//! the `caps` crate for capability sets). It says nothing; [`super::Narrated`] does.

use super::{Call, Kernel, Prctl};
use caps::CapSet;
use nix::errno::Errno;
use nix::sys::stat::{makedev, FchmodatFlags};

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
        }
    }
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

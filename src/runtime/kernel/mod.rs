//! The kernel seam: every system call that builds or enters a container goes through
//! one [`Kernel`], as a [`Call`] value holding its real arguments, with a few words of
//! *why* from the line that makes it.
//!
//! Narration is made here and nowhere else: [`Narrated`] wraps the implementation that
//! talks to Linux and, once a call succeeded (before it, for `execve`, which does not
//! return), records a step whose text is the call rendered from those same arguments
//! (see `words.rs`). A call added to the runtime is narrated by being made; when the
//! code changes order, the narration changes with it.
//!
//! Unit tests install a [`Recording`] kernel for their thread: it records each call
//! and its arguments, and does nothing.

mod linux;
#[cfg(test)]
mod recording;
mod words;

pub use linux::Linux;
#[cfg(test)]
pub use recording::{Recorded, Recording};

use crate::narration::{self, Step};
use caps::{CapSet, CapsHashSet};
use nix::fcntl::{OFlag, ResolveFlag};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::sys::stat::{Mode, SFlag};
use nix::unistd::{Gid, Uid};
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// One system call (or one kernel operation, for the capability sets) with its
/// arguments, as the code passes them.
#[derive(Debug)]
pub enum Call<'a> {
    Mount {
        source: Option<&'a Path>,
        target: &'a Path,
        fstype: Option<&'a str>,
        flags: MsFlags,
        data: Option<&'a str>,
    },
    Umount2 {
        target: &'a Path,
        flags: MntFlags,
    },
    PivotRoot {
        new_root: &'a Path,
        put_old: &'a Path,
    },
    Chdir {
        path: &'a Path,
    },
    /// `fd` was opened from `path`; the path is what a reader can check.
    Setns {
        fd: BorrowedFd<'a>,
        path: &'a Path,
        nstype: CloneFlags,
    },
    Unshare {
        flags: CloneFlags,
    },
    Sethostname {
        name: &'a str,
    },
    /// One of `process.rlimits` (its resource by the spec's name, RLIMIT_NOFILE …).
    Setrlimit {
        name: &'a str,
        resource: nix::sys::resource::Resource,
        soft: u64,
        hard: u64,
    },
    /// An interface of this network namespace brought up (SIOCSIFFLAGS IFF_UP).
    LinkUp {
        name: &'a str,
    },
    /// mknodat, then fchmodat: the node gets exactly `mode`, whatever the umask.
    Mknod {
        dir: BorrowedFd<'a>,
        name: &'a Path,
        kind: SFlag,
        mode: Mode,
        major: u64,
        minor: u64,
    },
    Symlink {
        target: &'a Path,
        dir: BorrowedFd<'a>,
        link: &'a Path,
    },
    /// A directory and its missing parents (a cgroup).
    Mkdir {
        path: &'a Path,
    },
    /// One value written to a kernel file (a cgroup's limits and `cgroup.procs`).
    Write {
        path: &'a Path,
        value: &'a str,
    },
    Prctl(Prctl<'a>),
    Setgroups {
        gids: &'a [Gid],
    },
    Setresgid {
        gid: Gid,
    },
    Setresuid {
        uid: Uid,
    },
    /// Make one capability set exactly `caps`: the bounding set by dropping every
    /// other capability, the ambient set by clearing it and raising each one.
    Capset {
        set: CapSet,
        caps: &'a CapsHashSet,
    },
    /// close_range(first, ~0, CLOSE_RANGE_CLOEXEC).
    CloseRangeCloexec {
        first: u32,
    },
    Execve {
        path: &'a CStr,
        args: &'a [CString],
        env: &'a [CString],
    },
    /// execveat(fd, "", args, [], AT_EMPTY_PATH): run the file `fd` holds (the sealed
    /// copy of minipod), with an empty environment.
    Execveat {
        fd: BorrowedFd<'a>,
        args: &'a [CString],
    },
    /// kill(pid, signal).
    Kill {
        pid: nix::unistd::Pid,
        signal: Signal,
    },
    /// open_tree(AT_FDCWD, path, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC): a detached copy
    /// of the mount holding `path`, as a descriptor (see [`Kernel::open`]).
    OpenTree {
        path: &'a Path,
    },
    /// mount_setattr(fd, "", AT_EMPTY_PATH, {attr_set}) on a detached mount.
    MountSetattr {
        fd: BorrowedFd<'a>,
        attr_set: u64,
    },
    /// mount_setattr(fd, "", AT_EMPTY_PATH, {MOUNT_ATTR_IDMAP, userns_fd}) on a
    /// detached mount: its files' owners seen through the user namespace's mapping.
    IdmapMount {
        fd: BorrowedFd<'a>,
        userns: BorrowedFd<'a>,
        /// The mapping, for the narration (`0 165536 65536`).
        mapping: &'a str,
    },
    /// move_mount(fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH):
    /// attach a detached mount on the directory or file `target_fd` holds (`target`
    /// names it for the narration).
    MoveMount {
        fd: BorrowedFd<'a>,
        target_fd: BorrowedFd<'a>,
        target: &'a Path,
    },
    /// memfd_create(name, MFD_CLOEXEC|MFD_ALLOW_SEALING): a descriptor.
    MemfdCreate {
        name: &'a CStr,
    },
    /// fcntl(fd, F_ADD_SEALS, seals).
    AddSeals {
        fd: BorrowedFd<'a>,
        seals: libc::c_int,
    },
    /// openat2(dir, name, {flags, resolve}): one path component opened below `dir`
    /// with the kernel checking the walk; a descriptor.
    Openat2 {
        dir: BorrowedFd<'a>,
        name: &'a Path,
        flags: OFlag,
        resolve: ResolveFlag,
    },
    /// seccomp(SECCOMP_SET_MODE_FILTER, 0, prog): the compiled filter installed on
    /// this process.
    Seccomp {
        filter: &'a crate::runtime::seccomp::Program,
    },
    /// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program; a descriptor.
    BpfProgLoad {
        insns: &'a [crate::runtime::devices::program::Insn],
    },
    /// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI): the program on the
    /// cgroup `cgroup` was opened from (`path`).
    BpfProgAttach {
        prog: BorrowedFd<'a>,
        cgroup: BorrowedFd<'a>,
        path: &'a Path,
    },
}

/// The prctl(2) operations a container's setup makes.
#[derive(Debug)]
pub enum Prctl<'a> {
    Dumpable(bool),
    KeepCaps(bool),
    NoNewPrivs,
    Name(&'a CStr),
    /// Orphans below this process become its children (the pod's supervisor).
    ChildSubreaper,
    /// The signal this process gets when its parent dies.
    DeathSignal(Signal),
}

#[cfg(test)]
impl Call<'_> {
    /// The call's name, as a test looks for it.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Mount { .. } => "mount",
            Call::Umount2 { .. } => "umount2",
            Call::PivotRoot { .. } => "pivot_root",
            Call::Chdir { .. } => "chdir",
            Call::Setns { .. } => "setns",
            Call::Unshare { .. } => "unshare",
            Call::Sethostname { .. } => "sethostname",
            Call::Setrlimit { .. } => "setrlimit",
            Call::LinkUp { .. } => "link_up",
            Call::Mknod { .. } => "mknod",
            Call::Symlink { .. } => "symlink",
            Call::Mkdir { .. } => "mkdir",
            Call::Write { .. } => "write",
            Call::Prctl(_) => "prctl",
            Call::Setgroups { .. } => "setgroups",
            Call::Setresgid { .. } => "setresgid",
            Call::Setresuid { .. } => "setresuid",
            Call::Capset { .. } => "capset",
            Call::CloseRangeCloexec { .. } => "close_range",
            Call::Execve { .. } => "execve",
            Call::Execveat { .. } => "execveat",
            Call::Kill { .. } => "kill",
            Call::OpenTree { .. } => "open_tree",
            Call::MountSetattr { .. } => "mount_setattr",
            Call::IdmapMount { .. } => "mount_setattr",
            Call::MoveMount { .. } => "move_mount",
            Call::MemfdCreate { .. } => "memfd_create",
            Call::AddSeals { .. } => "fcntl",
            Call::Openat2 { .. } => "openat2",
            Call::Seccomp { .. } => "seccomp",
            Call::BpfProgLoad { .. } | Call::BpfProgAttach { .. } => "bpf",
        }
    }
}

/// The seam. `why` is a few words for the student, given by the line that makes the
/// call; an implementation that narrates records it beside the call's arguments.
pub trait Kernel: Sync {
    fn call(&self, call: &Call<'_>, why: &str) -> nix::Result<()>;

    /// A call whose result is a new descriptor (open_tree, memfd_create, openat2,
    /// bpf(BPF_PROG_LOAD)). A kernel that cannot make one refuses with ENOSYS.
    fn open(&self, call: &Call<'_>, why: &str) -> nix::Result<OwnedFd> {
        let _ = (call, why);
        Err(nix::errno::Errno::ENOSYS)
    }
}

impl<K: Kernel + ?Sized> Kernel for &K {
    fn call(&self, call: &Call<'_>, why: &str) -> nix::Result<()> {
        (**self).call(call, why)
    }

    fn open(&self, call: &Call<'_>, why: &str) -> nix::Result<OwnedFd> {
        (**self).open(call, why)
    }
}

/// A kernel that narrates every successful call of `inner` through `tell`.
pub struct Narrated<K> {
    pub inner: K,
    pub tell: fn(Step),
}

impl<K: Kernel> Kernel for Narrated<K> {
    fn call(&self, call: &Call<'_>, why: &str) -> nix::Result<()> {
        // Rendered before the call: descriptors it names are still what they were.
        let what = call.to_string();
        if matches!(call, Call::Execve { .. } | Call::Execveat { .. }) {
            // On success execve does not return: say it first.
            (self.tell)(narration::by_this_process(what, why));
            return self.inner.call(call, why);
        }
        self.inner.call(call, why)?;
        (self.tell)(narration::by_this_process(what, why));
        Ok(())
    }

    fn open(&self, call: &Call<'_>, why: &str) -> nix::Result<OwnedFd> {
        let what = call.to_string();
        let fd = self.inner.open(call, why)?;
        let what = format!("{what} = fd {}", fd.as_raw_fd());
        (self.tell)(narration::by_this_process(what, why));
        Ok(fd)
    }
}

static LINUX: Narrated<Linux> = Narrated {
    inner: Linux,
    tell: narration::record,
};

#[cfg(test)]
thread_local! {
    static INSTALLED: std::cell::Cell<Option<&'static dyn Kernel>> =
        const { std::cell::Cell::new(None) };
}

/// The kernel this process talks to: Linux, narrated (in a unit test, the kernel the
/// test installed on its thread).
pub fn kernel() -> &'static dyn Kernel {
    #[cfg(test)]
    if let Some(k) = INSTALLED.with(|k| k.get()) {
        return k;
    }
    &LINUX
}

/// Make `k` the kernel of the calling thread (unit tests only).
#[cfg(test)]
pub fn install(k: &'static dyn Kernel) {
    INSTALLED.with(|slot| slot.set(Some(k)));
}

/// One method per call, so a call site reads like the system call it makes.
impl dyn Kernel + '_ {
    pub fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
        why: &str,
    ) -> nix::Result<()> {
        let call = Call::Mount {
            source,
            target,
            fstype,
            flags,
            data,
        };
        self.call(&call, why)
    }

    pub fn umount2(&self, target: &Path, flags: MntFlags, why: &str) -> nix::Result<()> {
        self.call(&Call::Umount2 { target, flags }, why)
    }

    pub fn pivot_root(&self, new_root: &Path, put_old: &Path, why: &str) -> nix::Result<()> {
        self.call(&Call::PivotRoot { new_root, put_old }, why)
    }

    pub fn chdir(&self, path: &Path, why: &str) -> nix::Result<()> {
        self.call(&Call::Chdir { path }, why)
    }

    pub fn setns(
        &self,
        fd: BorrowedFd<'_>,
        path: &Path,
        nstype: CloneFlags,
        why: &str,
    ) -> nix::Result<()> {
        self.call(&Call::Setns { fd, path, nstype }, why)
    }

    pub fn unshare(&self, flags: CloneFlags, why: &str) -> nix::Result<()> {
        self.call(&Call::Unshare { flags }, why)
    }

    pub fn sethostname(&self, name: &str, why: &str) -> nix::Result<()> {
        self.call(&Call::Sethostname { name }, why)
    }

    pub fn setrlimit(
        &self,
        name: &str,
        resource: nix::sys::resource::Resource,
        soft: u64,
        hard: u64,
        why: &str,
    ) -> nix::Result<()> {
        self.call(
            &Call::Setrlimit {
                name,
                resource,
                soft,
                hard,
            },
            why,
        )
    }

    pub fn link_up(&self, name: &str, why: &str) -> nix::Result<()> {
        self.call(&Call::LinkUp { name }, why)
    }

    #[allow(clippy::too_many_arguments)] // mknod's own arguments, and why
    pub fn mknod(
        &self,
        dir: BorrowedFd<'_>,
        name: &Path,
        kind: SFlag,
        mode: Mode,
        major: u64,
        minor: u64,
        why: &str,
    ) -> nix::Result<()> {
        let call = Call::Mknod {
            dir,
            name,
            kind,
            mode,
            major,
            minor,
        };
        self.call(&call, why)
    }

    pub fn symlink(
        &self,
        target: &Path,
        dir: BorrowedFd<'_>,
        link: &Path,
        why: &str,
    ) -> nix::Result<()> {
        self.call(&Call::Symlink { target, dir, link }, why)
    }

    pub fn mkdir(&self, path: &Path, why: &str) -> nix::Result<()> {
        self.call(&Call::Mkdir { path }, why)
    }

    pub fn write(&self, path: &Path, value: &str, why: &str) -> nix::Result<()> {
        self.call(&Call::Write { path, value }, why)
    }

    pub fn prctl(&self, op: Prctl<'_>, why: &str) -> nix::Result<()> {
        self.call(&Call::Prctl(op), why)
    }

    pub fn setgroups(&self, gids: &[Gid], why: &str) -> nix::Result<()> {
        self.call(&Call::Setgroups { gids }, why)
    }

    pub fn setresgid(&self, gid: Gid, why: &str) -> nix::Result<()> {
        self.call(&Call::Setresgid { gid }, why)
    }

    pub fn setresuid(&self, uid: Uid, why: &str) -> nix::Result<()> {
        self.call(&Call::Setresuid { uid }, why)
    }

    pub fn capset(&self, set: CapSet, caps: &CapsHashSet, why: &str) -> nix::Result<()> {
        self.call(&Call::Capset { set, caps }, why)
    }

    pub fn close_range_cloexec(&self, first: u32, why: &str) -> nix::Result<()> {
        self.call(&Call::CloseRangeCloexec { first }, why)
    }

    /// Returns only on failure (or from a kernel that only records).
    pub fn execveat(&self, fd: BorrowedFd<'_>, args: &[CString], why: &str) -> nix::Result<()> {
        self.call(&Call::Execveat { fd, args }, why)
    }

    pub fn kill(&self, pid: nix::unistd::Pid, signal: Signal, why: &str) -> nix::Result<()> {
        self.call(&Call::Kill { pid, signal }, why)
    }

    pub fn open_tree(&self, path: &Path, why: &str) -> nix::Result<OwnedFd> {
        self.open(&Call::OpenTree { path }, why)
    }

    pub fn mount_setattr(&self, fd: BorrowedFd<'_>, attr_set: u64, why: &str) -> nix::Result<()> {
        self.call(&Call::MountSetattr { fd, attr_set }, why)
    }

    pub fn idmap_mount(
        &self,
        fd: BorrowedFd<'_>,
        userns: BorrowedFd<'_>,
        mapping: &str,
        why: &str,
    ) -> nix::Result<()> {
        self.call(
            &Call::IdmapMount {
                fd,
                userns,
                mapping,
            },
            why,
        )
    }

    pub fn move_mount(
        &self,
        fd: BorrowedFd<'_>,
        target_fd: BorrowedFd<'_>,
        target: &Path,
        why: &str,
    ) -> nix::Result<()> {
        self.call(
            &Call::MoveMount {
                fd,
                target_fd,
                target,
            },
            why,
        )
    }

    pub fn memfd_create(&self, name: &CStr, why: &str) -> nix::Result<OwnedFd> {
        self.open(&Call::MemfdCreate { name }, why)
    }

    pub fn add_seals(&self, fd: BorrowedFd<'_>, seals: libc::c_int, why: &str) -> nix::Result<()> {
        self.call(&Call::AddSeals { fd, seals }, why)
    }

    pub fn openat2(
        &self,
        dir: BorrowedFd<'_>,
        name: &Path,
        flags: OFlag,
        resolve: ResolveFlag,
        why: &str,
    ) -> nix::Result<OwnedFd> {
        let call = Call::Openat2 {
            dir,
            name,
            flags,
            resolve,
        };
        self.open(&call, why)
    }

    pub fn seccomp(&self, filter: &crate::runtime::seccomp::Program, why: &str) -> nix::Result<()> {
        self.call(&Call::Seccomp { filter }, why)
    }

    pub fn bpf_prog_load(
        &self,
        insns: &[crate::runtime::devices::program::Insn],
        why: &str,
    ) -> nix::Result<OwnedFd> {
        self.open(&Call::BpfProgLoad { insns }, why)
    }

    pub fn bpf_prog_attach(
        &self,
        prog: BorrowedFd<'_>,
        cgroup: BorrowedFd<'_>,
        path: &Path,
        why: &str,
    ) -> nix::Result<()> {
        self.call(&Call::BpfProgAttach { prog, cgroup, path }, why)
    }

    /// Returns only on failure (or from a kernel that only records).
    pub fn execve(
        &self,
        path: &CStr,
        args: &[CString],
        env: &[CString],
        why: &str,
    ) -> nix::Result<()> {
        self.call(&Call::Execve { path, args, env }, why)
    }
}

#[cfg(test)]
mod tests;

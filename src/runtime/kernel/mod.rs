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
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::stat::{Mode, SFlag};
use nix::unistd::{Gid, Uid};
use std::ffi::{CStr, CString};
use std::os::fd::BorrowedFd;
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
}

/// The prctl(2) operations a container's setup makes.
#[derive(Debug)]
pub enum Prctl<'a> {
    Dumpable(bool),
    KeepCaps(bool),
    NoNewPrivs,
    Name(&'a CStr),
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
        }
    }
}

/// The seam. `why` is a few words for the student, given by the line that makes the
/// call; an implementation that narrates records it beside the call's arguments.
pub trait Kernel: Sync {
    fn call(&self, call: &Call<'_>, why: &str) -> nix::Result<()>;
}

impl<K: Kernel + ?Sized> Kernel for &K {
    fn call(&self, call: &Call<'_>, why: &str) -> nix::Result<()> {
        (**self).call(call, why)
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
        if matches!(call, Call::Execve { .. }) {
            // On success execve does not return: say it first.
            (self.tell)(narration::by_this_process(what, why));
            return self.inner.call(call, why);
        }
        self.inner.call(call, why)?;
        (self.tell)(narration::by_this_process(what, why));
        Ok(())
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

//! Visiting one namespace of a pod from the caller's own thread, without running
//! anything in it: a socket made in the pod's network namespace (a socket keeps the
//! namespace it was born in), the hostname its UTS namespace holds. `setns` on a
//! single namespace changes only the calling thread, so a visit is: open our own
//! namespace, enter theirs, do the one thing, come back.

use super::kernel::kernel;
use anyhow::{Context, Result};
use nix::sched::CloneFlags;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;

/// The network namespace of `pid` (the pod's infra), opened once.
pub fn open_netns(pid: i32) -> Result<File> {
    let path = format!("/proc/{pid}/ns/net");
    File::open(&path).with_context(|| format!("open {path} (the pod's network namespace)"))
}

/// Move this thread into `netns` for good (a thread that serves only the pod).
pub fn enter_netns_for_this_thread(netns: &File) -> Result<()> {
    let path = std::fs::read_link(format!("/proc/self/fd/{}", netns.as_raw_fd()))
        .unwrap_or_else(|_| PathBuf::from("the pod's network namespace"));
    kernel()
        .setns(
            netns.as_fd(),
            &path,
            CloneFlags::CLONE_NEWNET,
            "this thread serves the pod: its sockets are born in the pod's network",
        )
        .context("setns into the pod's network namespace")
}

/// Run `f` with this thread in the namespace `kind` of `pid`, then return to ours
/// whatever `f` did.
pub fn in_namespace_of<T>(pid: i32, kind: CloneFlags, f: impl FnOnce() -> T) -> Result<T> {
    let name = if kind == CloneFlags::CLONE_NEWUTS {
        "uts"
    } else {
        "net"
    };
    let own_path = PathBuf::from(format!("/proc/thread-self/ns/{name}"));
    let ours = File::open(&own_path).with_context(|| format!("open {}", own_path.display()))?;
    let path = PathBuf::from(format!("/proc/{pid}/ns/{name}"));
    let theirs = File::open(&path).with_context(|| format!("open {}", path.display()))?;
    kernel()
        .setns(
            theirs.as_fd(),
            &path,
            kind,
            "a visit: this thread only, for one socket or one answer",
        )
        .with_context(|| format!("setns {}", path.display()))?;
    let result = f();
    // Back home before anything else.
    kernel()
        .setns(
            ours.as_fd(),
            &own_path,
            kind,
            "the visit is over: back to our own",
        )
        .with_context(|| format!("setns back to our own {name}"))?;
    Ok(result)
}

/// The hostname the kernel keeps in the UTS namespace of `pid`.
pub fn hostname_in(pid: i32) -> Result<String> {
    let name = in_namespace_of(pid, CloneFlags::CLONE_NEWUTS, nix::unistd::gethostname)?;
    Ok(name.context("gethostname")?.to_string_lossy().into_owned())
}

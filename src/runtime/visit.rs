//! Visiting one namespace of a pod from the caller's own thread, without running
//! anything in it: a socket made in the pod's network namespace (a socket keeps the
//! namespace it was born in), the hostname its UTS namespace holds. `setns` on a
//! single namespace changes only the calling thread, so a visit is: open our own
//! namespace, enter theirs, do the one thing, come back.

use anyhow::{Context, Result};
use nix::sched::CloneFlags;
use std::fs::File;

/// The network namespace of `pid` (the pod's infra), opened once.
pub fn open_netns(pid: i32) -> Result<File> {
    let path = format!("/proc/{pid}/ns/net");
    File::open(&path).with_context(|| format!("open {path} (the pod's network namespace)"))
}

/// Move this thread into `netns` for good (a thread that serves only the pod).
pub fn enter_netns_for_this_thread(netns: &File) -> Result<()> {
    nix::sched::setns(netns, CloneFlags::CLONE_NEWNET)
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
    let own_path = format!("/proc/thread-self/ns/{name}");
    let ours = File::open(&own_path).with_context(|| format!("open {own_path}"))?;
    let path = format!("/proc/{pid}/ns/{name}");
    let theirs = File::open(&path).with_context(|| format!("open {path}"))?;
    nix::sched::setns(&theirs, kind).with_context(|| format!("setns {path}"))?;
    let result = f();
    // Back home before anything else.
    nix::sched::setns(&ours, kind).with_context(|| format!("setns back to our own {name}"))?;
    Ok(result)
}

/// The hostname the kernel keeps in the UTS namespace of `pid`.
pub fn hostname_in(pid: i32) -> Result<String> {
    let name = in_namespace_of(pid, CloneFlags::CLONE_NEWUTS, nix::unistd::gethostname)?;
    Ok(name.context("gethostname")?.to_string_lossy().into_owned())
}

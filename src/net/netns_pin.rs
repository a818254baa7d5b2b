//! A pod's network namespace pinned by a bind mount, as containerd keeps
//! `/var/run/netns/cni-<id>`: `/proc/<infra>/ns/net` bound onto a file under the state
//! root (`<run>/netns/cni-<uid>`). The pin keeps the namespace alive after every
//! process in it died (kill -9 of the supervisor and the infra, say), so CNI DEL is
//! given a namespace it can still enter: the bridge plugin finds `eth0`, deletes the
//! veth and the pod's NAT rule. Teardown unmounts and removes the pin, also after a
//! crash; after a reboot the mount is gone with the namespace, only the file is left.
//!
//! The pins live in the host's mount namespace (the one minipod's commands run in),
//! where `delete` finds them. The supervisor has a mount namespace of its own
//! (`runtime::pod_mounts`), so it remembers the host's before making it: it pins and
//! unpins from a thread that entered the host's, and runs the CNI plugins there.
//!
//! A new mount namespace copies every mount, pins included: the supervisor drops its
//! copies (`forget_copies`), or it would keep every other pod's namespace alive for as
//! long as it runs. The pins keep the propagation of the directory they are in (not
//! made private): where a copy went to a peer or slave namespace, the unmount follows.

use crate::runtime::kernel::kernel;
use crate::state::paths::StateRoot;
use anyhow::{anyhow, Context, Result};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The mount namespace the supervisor was started in (the host's), when it has
/// made one of its own.
static HOST_MOUNTS: OnceLock<OwnedFd> = OnceLock::new();

/// Where the pins of one state root live.
pub fn dir(state: &StateRoot) -> PathBuf {
    state.run.join("netns")
}

/// The pin of pod `uid`'s network namespace, in the pins' directory `dir`.
pub fn path(dir: &Path, uid: &str) -> PathBuf {
    dir.join(format!("cni-{uid}"))
}

/// Remember this process's mount namespace as the host's: called by the supervisor
/// before it makes its own.
pub fn remember_host_mounts() -> Result<()> {
    let file = std::fs::File::open("/proc/thread-self/ns/mnt")
        .context("open /proc/thread-self/ns/mnt (the host's mount namespace)")?;
    let _ = HOST_MOUNTS.set(OwnedFd::from(file));
    Ok(())
}

/// The host's mount namespace, if this process left it (the supervisor).
pub fn host_mounts() -> Option<RawFd> {
    HOST_MOUNTS.get().map(AsRawFd::as_raw_fd)
}

/// Run `f` in the host's mount namespace: on a thread of its own that entered it
/// (a thread must stop sharing its filesystem attributes with the others first), or
/// right here when this process never left it.
fn in_host_mounts<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let Some(host) = HOST_MOUNTS.get() else {
        return f();
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            kernel()
                .unshare(
                    CloneFlags::CLONE_FS,
                    "this thread alone enters the host's mount namespace",
                )
                .context("unshare(CLONE_FS)")?;
            kernel()
                .setns(
                    host.as_fd(),
                    Path::new("the host's mount namespace"),
                    CloneFlags::CLONE_NEWNS,
                    "the pin must outlive the supervisor: it goes in the host's mounts",
                )
                .context("setns into the host's mount namespace")?;
            f()
        })
        .join()
        .map_err(|_| anyhow!("the thread in the host's mount namespace panicked"))?
    })
}

/// Pin the network namespace of process `infra` at `path(dir, uid)`; returns the
/// pin, the path CNI is given as `CNI_NETNS`.
pub fn pin(dir: &Path, uid: &str, infra: i32) -> Result<PathBuf> {
    let pin = path(dir, uid);
    let dir = dir.to_path_buf();
    let source = PathBuf::from(format!("/proc/{infra}/ns/net"));
    let target = pin.clone();
    in_host_mounts(move || {
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        // A pin left by an earlier sandbox of this pod (or a crash) goes first.
        release(&target);
        std::fs::File::create(&target)
            .with_context(|| format!("create the pin {}", target.display()))?;
        let bound = kernel().mount(
            Some(&source),
            &target,
            None,
            MsFlags::MS_BIND,
            None,
            "pin the pod's network namespace: CNI DEL finds it even when the infra died",
        );
        if let Err(e) = bound {
            let _ = std::fs::remove_file(&target);
            return Err(e).with_context(|| {
                format!("mount --bind {} {}", source.display(), target.display())
            });
        }
        Ok(())
    })?;
    Ok(pin)
}

/// Unmount and remove a pin; nothing there is nothing to do.
pub fn unpin(pin: &Path) -> Result<()> {
    let pin = pin.to_path_buf();
    in_host_mounts(move || {
        release(&pin);
        match std::fs::remove_file(&pin) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("remove the pin {}", pin.display())),
        }
    })
}

fn release(pin: &Path) {
    if holds_namespace(pin) {
        let _ = kernel().umount2(
            pin,
            MntFlags::MNT_DETACH,
            "unpin the pod's network namespace: it goes with its last user",
        );
    }
}

/// Does `pin` hold a namespace in the host's mounts (an nsfs file, not the empty
/// file under it)?
pub fn is_pinned(pin: &Path) -> bool {
    let pin = pin.to_path_buf();
    in_host_mounts(move || Ok(holds_namespace(&pin))).unwrap_or(false)
}

/// The same, in this thread's mount namespace.
fn holds_namespace(pin: &Path) -> bool {
    nix::sys::statfs::statfs(pin).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
}

/// In a mount namespace just made (the supervisor's): drop its copies of every
/// pinned namespace (a new mount namespace copies every mount; the pins of this
/// state root, of others, of `ip netns`), so it keeps no other pod's network
/// namespace alive for as long as it runs. Unmounted here only: the host keeps them.
pub fn forget_copies() {
    let Ok(text) = std::fs::read_to_string("/proc/thread-self/mountinfo") else {
        return;
    };
    for target in nsfs_mount_points(&text) {
        let _ = kernel().umount2(
            &target,
            MntFlags::MNT_DETACH,
            "this namespace's copy of a pinned namespace: the pin is the host's",
        );
    }
}

/// The mount points of the `nsfs` mounts of a mountinfo text.
fn nsfs_mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let (fields, rest) = l.split_once(" - ")?;
            (rest.split(' ').next()? == "nsfs").then_some(())?;
            Some(PathBuf::from(unescape(fields.split(' ').nth(4)?)))
        })
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as octal escapes.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        match rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            Some(c) => {
                out.push(char::from(c));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsfs_mounts_are_found_in_mountinfo() {
        let text = "22 1 0:21 / /proc rw - proc proc rw\n\
612 25 0:4 net:[4026532331] /run/minipod/netns/cni-1 rw shared:1 - nsfs nsfs rw\n\
613 25 0:4 net:[4026532332] /tmp/a\\040b/netns/cni-2 rw - nsfs nsfs rw\n";
        assert_eq!(
            nsfs_mount_points(text),
            [
                PathBuf::from("/run/minipod/netns/cni-1"),
                PathBuf::from("/tmp/a b/netns/cni-2")
            ]
        );
        assert_eq!(unescape("/odd\\x"), "/odd\\x");
    }
}

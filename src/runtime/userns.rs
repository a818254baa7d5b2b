//! User namespaces (`linux.namespaces` type `user`, with `linux.uidMappings` /
//! `gidMappings`): uid 0 in the container is an unprivileged uid on the host.
//!
//! - Created (a pod's infra): first of all its namespaces, so the network, IPC and
//!   UTS namespaces made after it belong to it. A process cannot map ids of the
//!   parent namespace for itself: a helper forked before the `unshare` (still in the
//!   host's user namespace, with the host's privileges) waits until it is made, then
//!   writes `/proc/<pid>/uid_map` and then `gid_map`, once each, as the kernel
//!   allows, and exits.
//! - Created for a bundle's container (minipod-runc): made the same way; then, as in
//!   runc, the container's init becomes the namespace's root ([`become_root`]) and
//!   builds its mounts as that root; device nodes it cannot mknod are the host's,
//!   bound (see `rootfs`).
//! - Joined (a pod's container): last. The container's mounts (its idmapped root
//!   and volumes, /proc, the masks) and its cgroup need the host's privileges, so
//!   they are made first; `setns` into the pod's user namespace comes right before
//!   the process becomes the container's user.
//! - Idmapped mounts: a mount cloned with `open_tree`, given the user namespace's
//!   mapping with `mount_setattr(MOUNT_ATTR_IDMAP)`, attached with `move_mount`. A
//!   file owned by 0 on disk is owned by root inside, written as 0 again; the image
//!   layers stay shared and unchanged on disk.

use super::error::{Error, ProcessError};
use super::kernel::kernel;
use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::LinuxIdMapping;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum UserPlan {
    Create,
    Join(PathBuf),
}

fn failed(what: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> Error {
    let what = what.into();
    move |errno| {
        Error::Process(ProcessError::Failed {
            what,
            errno: errno.into(),
        })
    }
}

/// `0 165536 65536` lines, as `/proc/PID/uid_map` takes them.
pub fn map_text(mappings: &[LinuxIdMapping]) -> String {
    mappings
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Make a new user namespace for this process, mapped as the spec says.
pub fn create(uid_map: &str, gid_map: &str) -> Result<(), Error> {
    if uid_map.is_empty() || gid_map.is_empty() {
        return Err(Error::Other(
            "a new user namespace needs linux.uidMappings and linux.gidMappings".into(),
        ));
    }
    let me = nix::unistd::getpid();
    let (wait_r, wait_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(failed("pipe for the id mapper"))?;
    // SAFETY: the runtime's stages are single-threaded; the child only reads a pipe,
    // writes two files and exits.
    match unsafe { fork() }.map_err(failed("fork the id mapper"))? {
        ForkResult::Child => {
            crate::narration::set_pid(super::host_pid());
            drop(wait_w);
            let mut byte = [0u8; 1];
            let ready = loop {
                match nix::unistd::read(&wait_r, &mut byte) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    Ok(1) => break true,
                    _ => break false,
                }
            };
            let write = |file: &str, text: &str, why: &str| {
                let path = PathBuf::from(format!("/proc/{me}/{file}"));
                kernel().write(&path, text.trim_end(), why)
            };
            let ok = ready
                && write(
                    "uid_map",
                    uid_map,
                    "the pod's uids: 0 inside is an unprivileged uid on the host",
                )
                .is_ok()
                && write("gid_map", gid_map, "the pod's gids, mapped the same way").is_ok();
            // SAFETY: end the forked helper without the parent's exit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        ForkResult::Parent { child } => {
            drop(wait_r);
            let made = kernel().unshare(
                CloneFlags::CLONE_NEWUSER,
                "the pod's user namespace, first: the namespaces made after it belong to it",
            );
            // Tell the helper either way: it maps, or it sees the pipe close and exits.
            if made.is_ok() {
                let _ = nix::unistd::write(&wait_w, b"1");
            }
            drop(wait_w);
            let status = waitpid(child, None).map_err(failed("wait for the id mapper"))?;
            made.map_err(failed("unshare(CLONE_NEWUSER)"))?;
            if status != WaitStatus::Exited(child, 0) {
                return Err(Error::Other(format!(
                    "write /proc/{me}/uid_map ({}) and gid_map ({}): the id mapper failed ({status:?})",
                    uid_map.trim_end(),
                    gid_map.trim_end()
                )));
            }
            Ok(())
        }
    }
}

/// Right after [`create`]: become uid and gid 0 of the new namespace (until now this
/// process is the host's root, which the namespace does not map: files it made would
/// have no owner there). Mounts, device nodes and pivot_root are then made as the
/// namespace's root, as runc makes them.
pub fn become_root() -> Result<(), Error> {
    let root_gid = nix::unistd::Gid::from_raw(0);
    let root_uid = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresgid(root_gid, root_gid, root_gid).map_err(failed(
        "setresgid(0) in the new user namespace (does linux.gidMappings map 0?)",
    ))?;
    nix::unistd::setgroups(&[]).map_err(failed("setgroups([]) in the new user namespace"))?;
    nix::unistd::setresuid(root_uid, root_uid, root_uid).map_err(failed(
        "setresuid(0) in the new user namespace (does linux.uidMappings map 0?)",
    ))?;
    Ok(())
}

/// The user namespace to join, opened while host paths still resolve.
pub fn open(path: &Path) -> Result<OwnedFd, Error> {
    nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(failed(format!("open {}", path.display())))
}

/// Join it: from now on this process's ids are the pod's.
pub fn join(fd: BorrowedFd<'_>, path: &Path) -> Result<(), Error> {
    kernel()
        .setns(
            fd,
            path,
            CloneFlags::CLONE_NEWUSER,
            "join the pod's user namespace, last: uid 0 here is the pod's, not the host's",
        )
        .map_err(failed(format!("setns {}", path.display())))
}

/// Mount `source` on `target` seen through the user namespace `userns` (a detached
/// clone, idmapped, attached). `mapping` is for the narration.
pub fn idmapped_bind(
    source: &Path,
    target_fd: BorrowedFd<'_>,
    target: &Path,
    userns: BorrowedFd<'_>,
    mapping: &str,
) -> Result<(), Error> {
    let what = || {
        format!(
            "idmapped mount of {} on {}",
            source.display(),
            target.display()
        )
    };
    let tree = kernel()
        .open_tree(
            source,
            "a detached copy of the mount, to idmap before it is seen",
        )
        .map_err(failed(what()))?;
    kernel()
        .idmap_mount(
            tree.as_fd(),
            userns,
            mapping,
            "owners on disk read through the pod's mapping: 0 on disk is root inside",
        )
        .map_err(failed(format!(
            "{}: mount_setattr(MOUNT_ATTR_IDMAP)",
            what()
        )))?;
    kernel()
        .move_mount(tree.as_fd(), target_fd, target, "attach the idmapped mount")
        .map_err(failed(format!("{}: move_mount", what())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxIdMappingBuilder;

    #[test]
    fn maps_read_as_the_kernel_takes_them() {
        let m = LinuxIdMappingBuilder::default()
            .container_id(0u32)
            .host_id(165536u32)
            .size(65536u32)
            .build()
            .unwrap();
        assert_eq!(map_text(&[m]), "0 165536 65536\n");
    }
}

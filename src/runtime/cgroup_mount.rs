//! A `cgroup` mount (`/sys/fs/cgroup` in runc's and podman's specs) on a cgroup v1 or
//! hybrid host, as runc makes it: a tmpfs, and beneath it one directory per hierarchy
//! the container has a cgroup in, showing only that cgroup — its own limits
//! (`memory/memory.limit_in_bytes`), never its parents'. Co-mounted controllers
//! (`cpu,cpuacct`) get their names as symlinks (`cpu -> cpu,cpuacct`).
//!
//! In a cgroup namespace (made right after the container joined its cgroup) each
//! hierarchy is mounted afresh: the kernel roots it at the container's cgroup.
//! Without one, the container's own directory of the host's hierarchy is bound. With
//! `ro` (runc's default) the tmpfs and every hierarchy are read-only.
//!
//! Hierarchies the container has no cgroup of its own in (cpuset, blkio, the
//! `name=systemd` one, the unified cgroup2 of a hybrid host) are left out: their root
//! would be the host's.

use super::error::MountError;
use super::kernel::kernel;
use super::safe_path;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, MountError>;

/// One v1 hierarchy of the host: where it is mounted, its options (`cpu,cpuacct`,
/// `name=systemd`), and the container's cgroup in it.
#[derive(Debug, PartialEq)]
struct Hierarchy {
    mount_point: PathBuf,
    options: String,
    own: PathBuf,
}

fn failed(what: String) -> impl FnOnce(nix::errno::Errno) -> MountError {
    move |errno| MountError::Mount {
        what,
        errno: errno.into(),
    }
}

/// Mount the container's view of its cgroups on `dest` (inside `root_fd`);
/// `in_cgroupns`: the container has a cgroup namespace of its own.
pub fn mount_v1(root_fd: &OwnedFd, dest: &Path, flags: MsFlags, in_cgroupns: bool) -> Result<()> {
    let what = |s: &str| format!("mount cgroup on {}: {s}", dest.display());
    let read = |path: &str| {
        std::fs::read_to_string(path).map_err(|err| MountError::Target {
            what: what(&format!("read {path}")),
            message: err.to_string(),
        })
    };
    let hierarchies = hierarchies(
        &read("/proc/self/mountinfo")?,
        &read("/proc/self/cgroup")?,
        super::cgroups::v1_controllers(),
    );
    let read_only = flags.contains(MsFlags::MS_RDONLY);
    let fs_flags = flags - MsFlags::MS_RDONLY;

    let target = safe_path::open_in_root(root_fd, dest, OFlag::O_PATH | OFlag::O_DIRECTORY)
        .map_err(failed(what("open the target")))?;
    kernel()
        .mount(
            Some(Path::new("tmpfs")),
            &safe_path::fd_path(&target),
            Some("tmpfs"),
            fs_flags,
            Some("mode=755"),
            "cgroup v1: a tmpfs holding one directory per hierarchy",
        )
        .map_err(failed(what("tmpfs")))?;
    // The tmpfs itself, not the directory under it.
    let dir = safe_path::open_in_root(root_fd, dest, OFlag::O_PATH | OFlag::O_DIRECTORY)
        .map_err(failed(what("open the tmpfs")))?;
    for h in &hierarchies {
        let name = h
            .mount_point
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        let what = |s: &str| what(&format!("{} {s}", name.display()));
        kernel()
            .mkdir(
                &safe_path::fd_path(&dir).join(&name),
                "one directory per cgroup hierarchy",
            )
            .map_err(failed(what("mkdir")))?;
        // Mounted through a descriptor: the narration names the real path.
        let open_sub = || {
            nix::fcntl::openat(
                &dir,
                &name,
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .map_err(failed(what("open")))
        };
        let sub = open_sub()?;
        if in_cgroupns {
            let data = fresh_options(&h.options);
            kernel()
                .mount(
                    Some(Path::new("cgroup")),
                    &safe_path::fd_path(&sub),
                    Some("cgroup"),
                    flags,
                    Some(data.as_str()),
                    "in its cgroup namespace the hierarchy's root is the container's cgroup",
                )
                .map_err(failed(what("mount")))?;
        } else {
            let source = h
                .mount_point
                .join(h.own.strip_prefix("/").unwrap_or(&h.own));
            kernel()
                .mount(
                    Some(&source),
                    &safe_path::fd_path(&sub),
                    None,
                    MsFlags::MS_BIND,
                    None,
                    "only the container's own cgroup of the host's hierarchy",
                )
                .map_err(failed(what("bind")))?;
            // The descriptor names the directory under the bind: reach the bind itself.
            let bound = open_sub()?;
            kernel()
                .mount(
                    None,
                    &safe_path::fd_path(&bound),
                    None,
                    MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags,
                    None,
                    "a bind ignores ro, nosuid, nodev, noexec: a remount applies them",
                )
                .map_err(failed(what("remount")))?;
        }
        // cpu -> cpu,cpuacct: programs look for each controller by its own name.
        let joint = name.to_string_lossy().into_owned();
        if joint.contains(',') {
            for part in joint.split(',') {
                match kernel().symlink(
                    Path::new(&joint),
                    dir.as_fd(),
                    Path::new(part),
                    "a co-mounted controller under its own name",
                ) {
                    Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                    Err(errno) => return Err(failed(what("symlink"))(errno)),
                }
            }
        }
    }
    if read_only {
        kernel()
            .mount(
                None,
                &safe_path::fd_path(&dir),
                None,
                MsFlags::MS_REMOUNT | fs_flags | MsFlags::MS_RDONLY,
                Some("mode=755"),
                "the cgroup tmpfs read-only, now that it is filled",
            )
            .map_err(failed(what("remount the tmpfs read-only")))?;
    }
    Ok(())
}

/// The host's v1 hierarchies under /sys/fs/cgroup that the container has a cgroup of
/// its own in (`controllers` are the ones it was put in), from mountinfo and
/// /proc/self/cgroup.
fn hierarchies(mountinfo: &str, own_cgroups: &str, controllers: &[&str]) -> Vec<Hierarchy> {
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let Some(mount_point) = left.split(' ').nth(4) else {
            continue;
        };
        let mut right = right.split(' ');
        let (Some("cgroup"), Some(_), Some(options)) = (right.next(), right.next(), right.next())
        else {
            continue;
        };
        let mount_point = Path::new(mount_point);
        if mount_point.parent() != Some(Path::new("/sys/fs/cgroup")) {
            continue;
        }
        let subsystems: Vec<&str> = options
            .split(',')
            .filter(|o| controllers.contains(o))
            .collect();
        if subsystems.is_empty() {
            continue;
        }
        // /proc/self/cgroup: "4:memory:/c1", the same subsystems in the same order.
        let own = own_cgroups.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, Some(names), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
                return None;
            };
            let names: Vec<&str> = names.split(',').collect();
            subsystems
                .iter()
                .all(|s| names.contains(s))
                .then(|| PathBuf::from(path))
        });
        if let Some(own) = own {
            found.push(Hierarchy {
                mount_point: mount_point.to_path_buf(),
                options: options.to_string(),
                own,
            });
        }
    }
    found
}

/// The options a fresh mount of an existing hierarchy must repeat (its subsystems and
/// flags such as `noprefix`), without `rw`/`ro` and the release agent.
fn fresh_options(options: &str) -> String {
    options
        .split(',')
        .filter(|o| *o != "rw" && *o != "ro" && !o.starts_with("release_agent="))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
99 98 0:32 / /srv/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
";
    const CGROUP: &str = "\
9:name=systemd:/
4:memory:/c1
3:cpuset:/
2:cpu,cpuacct:/c1
0::/
";

    #[test]
    fn only_the_hierarchies_the_container_has_a_cgroup_in() {
        let found = hierarchies(MOUNTINFO, CGROUP, &["memory", "cpu", "cpuacct", "pids"]);
        assert_eq!(
            found,
            vec![
                Hierarchy {
                    mount_point: "/sys/fs/cgroup/cpu,cpuacct".into(),
                    options: "rw,cpu,cpuacct".into(),
                    own: "/c1".into(),
                },
                Hierarchy {
                    mount_point: "/sys/fs/cgroup/memory".into(),
                    options: "rw,memory".into(),
                    own: "/c1".into(),
                },
            ]
        );
    }

    #[test]
    fn a_fresh_mount_repeats_the_hierarchy_options() {
        assert_eq!(fresh_options("rw,cpu,cpuacct"), "cpu,cpuacct");
        assert_eq!(
            fresh_options("rw,noprefix,release_agent=/x,cpuset"),
            "noprefix,cpuset"
        );
    }
}

//! The USER of a process, as its own container names it: the uid inside the
//! container (mapped through `/proc/PID/uid_map` when the pod has a user namespace),
//! named from the container's own `/etc/passwd` (read through `/proc/PID/root`,
//! inside that root, never opening anything but a regular file: see
//! `pod::image_file`), with the uid the host sees beside it: `nginx(host=101)`.
//! A process in the host's mount namespace (the supervisor) is named by the host.

use super::procfs::user_name;
use std::path::PathBuf;

/// The uid inside for a host uid, through a `uid_map` text (`inside outside count`
/// lines); None when the host uid is not mapped.
pub fn inside_uid(uid_map: &str, host_uid: u32) -> Option<u32> {
    uid_map.lines().find_map(|l| {
        let f: Vec<u64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let (inside, outside, count) = (*f.first()?, *f.get(1)?, *f.get(2)?);
        let host = u64::from(host_uid);
        (host >= outside && host - outside < count)
            .then(|| u32::try_from(inside + (host - outside)).ok())
            .flatten()
    })
}

/// The name of `uid` in a passwd text.
pub fn name_in(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.get(2)?.parse::<u32>().ok()? == uid).then(|| f.first().map(|s| s.to_string()))?
    })
}

fn same_mount_namespace(pid: i32) -> bool {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/mnt")).ok();
    ns(&pid.to_string()) == ns("self")
}

/// `USER` for `top`: the container's name for the process's uid and the host uid.
pub fn label(pid: i32, host_uid: u32) -> String {
    if same_mount_namespace(pid) {
        return user_name(host_uid);
    }
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap_or_default();
    let inside = inside_uid(&map, host_uid).unwrap_or(host_uid);
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    let name = crate::pod::image_file::read(
        &root,
        "/etc/passwd",
        &format!("process {pid}"),
        crate::pod::image_file::MAX_ACCOUNT_FILE,
    )
    .ok()
    .flatten()
    .and_then(|text| name_in(&text, inside))
    // A root without a passwd file (the infra's) is still root.
    .unwrap_or_else(|| match inside {
        0 => "root".to_string(),
        n => n.to_string(),
    });
    format!("{name}(host={host_uid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_names() {
        assert_eq!(inside_uid("0 0 4294967295\n", 101), Some(101));
        assert_eq!(inside_uid("0 165536 65536\n", 165637), Some(101));
        assert_eq!(inside_uid("0 165536 65536\n", 1000), None);
        let passwd = "root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/:/bin/false\n";
        assert_eq!(name_in(passwd, 101).as_deref(), Some("nginx"));
        assert_eq!(name_in(passwd, 7), None);
        // This process is in the host's mount namespace: the host's name.
        assert_eq!(label(std::process::id() as i32, 0), "root");
    }
}

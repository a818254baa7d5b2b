//! The host's device nodes a `privileged` container gets, as containerd's
//! WithHostDevices lists them: every character and block device in the host's `/dev`
//! (not `console`, whose node the runtime gives a terminal; not `ptmx`, which is the
//! container's own `pts/ptmx`), and in its subdirectories (`/dev/net/tun`,
//! `/dev/input/*`) except `pts`, `shm`, `mqueue` and `fd`, which the container has
//! of its own. Symlinks are not followed.

use oci_spec::runtime::{LinuxDevice, LinuxDeviceBuilder, LinuxDeviceType};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

const SKIPPED: [&str; 2] = ["console", "ptmx"];

/// Directories of /dev the container has its own of.
const OWN_DIRS: [&str; 4] = ["pts", "shm", "mqueue", "fd"];

pub fn list() -> Vec<LinuxDevice> {
    let mut out = Vec::new();
    walk(std::path::Path::new("/dev"), 0, &mut out);
    out
}

fn walk(dir: &std::path::Path, depth: usize, out: &mut Vec<LinuxDevice>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if depth == 0 && (SKIPPED.contains(&name.as_str()) || OWN_DIRS.contains(&name.as_str())) {
            continue;
        }
        // symlink_metadata: a link in /dev is not a device, nor a directory to enter.
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            if depth < 4 {
                walk(&entry.path(), depth + 1, out);
            }
            continue;
        }
        let typ = if ft.is_char_device() {
            LinuxDeviceType::C
        } else if ft.is_block_device() {
            LinuxDeviceType::B
        } else {
            continue;
        };
        let rdev = meta.rdev();
        let (Ok(major), Ok(minor)) = (
            i64::try_from(nix::sys::stat::major(rdev)),
            i64::try_from(nix::sys::stat::minor(rdev)),
        ) else {
            continue;
        };
        let built = LinuxDeviceBuilder::default()
            .path(entry.path())
            .typ(typ)
            .major(major)
            .minor(minor)
            .file_mode(meta.mode() & 0o777)
            .uid(meta.uid())
            .gid(meta.gid())
            .build();
        if let Ok(device) = built {
            out.push(device);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hosts_null_and_no_console() {
        let devices = super::list();
        assert!(devices
            .iter()
            .any(|d| d.path().to_str() == Some("/dev/null")));
        assert!(!devices
            .iter()
            .any(|d| d.path().to_str() == Some("/dev/console")));
    }
}

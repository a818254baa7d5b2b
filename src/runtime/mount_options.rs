//! OCI mount options (`"nosuid"`, `"ro"`, `"mode=755"`, …) split into the flags
//! `mount(2)` takes and the data string the file system reads.

use nix::mount::MsFlags;

#[derive(Debug, PartialEq)]
pub struct MountOptions {
    pub flags: MsFlags,
    /// Propagation to apply after the mount (`rprivate`, `rslave`, …).
    pub propagation: MsFlags,
    /// File-system specific options, comma separated (`mode=755,size=65536k`).
    pub data: String,
}

impl MountOptions {
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }
    #[cfg(test)]
    pub fn is_readonly(&self) -> bool {
        self.flags.contains(MsFlags::MS_RDONLY)
    }
}

/// Every option `parse` turns into a flag or a propagation (the rest go to the file
/// system as data); `minipod-runc features` lists them.
pub const KNOWN: [&str; 17] = [
    "ro",
    "rw",
    "nosuid",
    "suid",
    "nodev",
    "dev",
    "noexec",
    "exec",
    "bind",
    "rbind",
    "strictatime",
    "relatime",
    "noatime",
    "private",
    "rprivate",
    "slave",
    "rslave",
];

pub fn parse(options: &[String]) -> MountOptions {
    let mut out = MountOptions {
        flags: MsFlags::empty(),
        propagation: MsFlags::empty(),
        data: String::new(),
    };
    let mut data = Vec::new();
    for option in options {
        let (set, clear) = match option.as_str() {
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            "bind" => (MsFlags::MS_BIND, MsFlags::empty()),
            "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()),
            "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
            "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
            "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
            "private" => {
                out.propagation = MsFlags::MS_PRIVATE;
                continue;
            }
            "rprivate" => {
                out.propagation = MsFlags::MS_PRIVATE | MsFlags::MS_REC;
                continue;
            }
            "slave" => {
                out.propagation = MsFlags::MS_SLAVE;
                continue;
            }
            "rslave" => {
                out.propagation = MsFlags::MS_SLAVE | MsFlags::MS_REC;
                continue;
            }
            other => {
                data.push(other.to_string());
                continue;
            }
        };
        out.flags.insert(set);
        out.flags.remove(clear);
    }
    out.data = data.join(",");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_data_are_split() {
        let opts = parse(&[
            "nosuid".into(),
            "strictatime".into(),
            "mode=755".into(),
            "size=65536k".into(),
        ]);
        assert_eq!(opts.flags, MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME);
        assert_eq!(opts.data, "mode=755,size=65536k");
    }

    #[test]
    fn every_known_option_is_a_flag_not_data() {
        for name in KNOWN {
            let opts = parse(&[name.to_string()]);
            assert!(opts.data.is_empty(), "{name} went to the data string");
        }
        assert_eq!(parse(&["mode=755".into()]).data, "mode=755");
    }

    #[test]
    fn rbind_ro_is_a_readonly_recursive_bind() {
        let opts = parse(&["rbind".into(), "ro".into(), "rprivate".into()]);
        assert!(opts.is_bind() && opts.is_readonly());
        assert!(opts.flags.contains(MsFlags::MS_REC));
        assert_eq!(opts.propagation, MsFlags::MS_PRIVATE | MsFlags::MS_REC);
    }
}

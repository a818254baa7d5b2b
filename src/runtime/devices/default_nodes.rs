//! The device nodes every container gets (runtime-spec config-linux.md#default-devices):
//! null, zero, full, random, urandom and tty, world-readable and -writable, owned by
//! root.

use anyhow::Result;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceBuilder, LinuxDeviceType};

/// (path, major, minor) of each default character device.
const NODES: [(&str, i64, i64); 6] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// The default devices as the OCI spec lists them.
pub fn default_nodes() -> Result<Vec<LinuxDevice>> {
    NODES
        .iter()
        .map(|(path, major, minor)| {
            LinuxDeviceBuilder::default()
                .path(*path)
                .typ(LinuxDeviceType::C)
                .major(*major)
                .minor(*minor)
                .file_mode(0o666u32)
                .uid(0u32)
                .gid(0u32)
                .build()
                .map_err(Into::into)
        })
        .collect()
}

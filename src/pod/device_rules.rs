//! The device rules every container gets (runc's and containerd's defaults), for the
//! OCI spec's `linux.resources.devices`: first deny everything, then allow making any
//! node (`mknod`: CAP_MKNOD is granted, and a node alone opens nothing), and reading and
//! writing only the harmless devices. The runtime enforces the list through the
//! container's cgroup.

use anyhow::Result;
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType};

/// (type, major, minor, access); `None` is `*`.
type Rule = (LinuxDeviceType, Option<i64>, Option<i64>, &'static str);

const ALLOWED: [Rule; 11] = [
    (LinuxDeviceType::C, None, None, "m"),
    (LinuxDeviceType::B, None, None, "m"),
    (LinuxDeviceType::C, Some(1), Some(3), "rwm"), // /dev/null
    (LinuxDeviceType::C, Some(1), Some(5), "rwm"), // /dev/zero
    (LinuxDeviceType::C, Some(1), Some(7), "rwm"), // /dev/full
    (LinuxDeviceType::C, Some(1), Some(8), "rwm"), // /dev/random
    (LinuxDeviceType::C, Some(1), Some(9), "rwm"), // /dev/urandom
    (LinuxDeviceType::C, Some(5), Some(0), "rwm"), // /dev/tty
    (LinuxDeviceType::C, Some(5), Some(1), "rwm"), // /dev/console
    (LinuxDeviceType::C, Some(5), Some(2), "rwm"), // /dev/ptmx
    (LinuxDeviceType::C, Some(136), None, "rwm"),  // /dev/pts/*
];

pub fn default_rules() -> Result<Vec<LinuxDeviceCgroup>> {
    let mut rules = vec![LinuxDeviceCgroupBuilder::default()
        .allow(false)
        .access("rwm")
        .build()?];
    for (typ, major, minor, access) in ALLOWED {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(typ)
            .access(access);
        if let Some(major) = major {
            b = b.major(major);
        }
        if let Some(minor) = minor {
            b = b.minor(minor);
        }
        rules.push(b.build()?);
    }
    Ok(rules)
}

/// A privileged container's rule: every device, read, write and mknod.
pub fn allow_all() -> Result<Vec<LinuxDeviceCgroup>> {
    Ok(vec![LinuxDeviceCgroupBuilder::default()
        .allow(true)
        .access("rwm")
        .build()?])
}

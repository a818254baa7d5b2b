//! `features`: what this runtime supports, as the runtime-spec features document
//! (features.md) says it: read from the runtime layer's own tables, never a list kept
//! beside them.

use crate::runtime::{mount_options, oci_hooks};
use anyhow::{Context, Result};
use serde_json::json;

pub fn run() -> Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(&document()).context("encode the features")?
    );
    Ok(())
}

pub fn document() -> serde_json::Value {
    let namespaces: Vec<&str> = [
        oci_spec::runtime::LinuxNamespaceType::Cgroup,
        oci_spec::runtime::LinuxNamespaceType::Ipc,
        oci_spec::runtime::LinuxNamespaceType::Mount,
        oci_spec::runtime::LinuxNamespaceType::Network,
        oci_spec::runtime::LinuxNamespaceType::Pid,
        oci_spec::runtime::LinuxNamespaceType::Uts,
        oci_spec::runtime::LinuxNamespaceType::User,
        oci_spec::runtime::LinuxNamespaceType::Time,
    ]
    .into_iter()
    .filter(|t| {
        let ns = oci_spec::runtime::LinuxNamespaceBuilder::default()
            .typ(*t)
            .build();
        ns.is_ok_and(|ns| crate::runtime::namespaces::plan(&[ns]).is_ok())
    })
    .map(namespace_name)
    .collect();
    let capabilities: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": oci_hooks::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": mount_options::KNOWN,
        "linux": {
            "namespaces": namespaces,
            "capabilities": capabilities,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {
                "enabled": true,
                "actions": crate::runtime::seccomp::supported_actions(),
                "operators": crate::runtime::seccomp::supported_operators(),
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
        },
        "annotations": {
            "org.opencontainers.runc.version": "none (minipod-runc)",
            "io.github.minipod.version": env!("CARGO_PKG_VERSION"),
        },
    })
}

/// The spec's name of a namespace type (`network`, `mount`, …).
fn namespace_name(typ: oci_spec::runtime::LinuxNamespaceType) -> &'static str {
    use oci_spec::runtime::LinuxNamespaceType as T;
    match typ {
        T::Cgroup => "cgroup",
        T::Ipc => "ipc",
        T::Mount => "mount",
        T::Network => "network",
        T::Pid => "pid",
        T::Uts => "uts",
        T::User => "user",
        T::Time => "time",
    }
}

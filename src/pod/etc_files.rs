//! The files kubelet writes for every pod and bind-mounts into each container:
//! `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`.

use super::container_spec::pod_hostname;
use super::paths::PodPaths;
use crate::state::atomic::write_atomic;
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Pod;

pub fn write(pod: &Pod, paths: &PodPaths) -> Result<()> {
    let hostname = pod_hostname(pod);
    write_atomic(
        &paths.etc_file("etc-hosts"),
        hosts(pod, &hostname).as_bytes(),
    )?;
    write_atomic(
        &paths.etc_file("hostname"),
        format!("{hostname}\n").as_bytes(),
    )?;
    // dnsPolicy Default (and ClusterFirst without a cluster DNS): the host's resolver.
    let resolv = std::fs::read("/etc/resolv.conf").unwrap_or_default();
    write_atomic(&paths.etc_file("resolv.conf"), &resolv).context("write the pod's resolv.conf")?;
    Ok(())
}

/// kubelet's hosts file. The pod has no cluster IP here (no CNI yet): its hostname
/// resolves to a loopback address of its own network namespace.
pub fn hosts(pod: &Pod, hostname: &str) -> String {
    let mut out = String::from(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n",
    );
    let fqdn = pod
        .spec
        .as_ref()
        .and_then(|s| s.subdomain.as_ref())
        .map(|sub| {
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            format!("{hostname}.{sub}.{ns}.svc.cluster.local\t")
        })
        .unwrap_or_default();
    out.push_str(&format!("127.0.1.1\t{fqdn}{hostname}\n"));
    let aliases = pod.spec.as_ref().and_then(|s| s.host_aliases.as_ref());
    if let Some(aliases) = aliases.filter(|a| !a.is_empty()) {
        out.push_str("\n# Entries added by HostAliases.\n");
        for a in aliases {
            let names = a.hostnames.clone().unwrap_or_default().join("\t");
            out.push_str(&format!("{}\t{names}\n", a.ip));
        }
    }
    out
}

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
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let upstream = std::fs::read_to_string(SYSTEMD_RESOLV_CONF).ok();
    write_atomic(
        &paths.etc_file("resolv.conf"),
        pod_resolv_conf(&host, upstream.as_deref()).as_bytes(),
    )
    .context("write the pod's resolv.conf")?;
    Ok(())
}

/// systemd-resolved's list of the real upstream servers.
const SYSTEMD_RESOLV_CONF: &str = "/run/systemd/resolve/resolv.conf";

/// The resolv.conf a pod gets, as kubelet chooses it: a loopback nameserver of the
/// host (127.0.0.53 of systemd-resolved) is not reachable from the pod's own network
/// namespace, so then the upstream list of systemd-resolved is used, or, without
/// one, the host's file without its loopback servers.
pub fn pod_resolv_conf(host: &str, systemd_upstream: Option<&str>) -> String {
    let is_loopback = |line: &str| {
        let mut words = line.split_whitespace();
        words.next() == Some("nameserver")
            && words
                .next()
                .and_then(|a| a.parse::<std::net::IpAddr>().ok())
                .is_some_and(|a| a.is_loopback())
    };
    if !host.lines().any(is_loopback) {
        return host.to_string();
    }
    if let Some(up) = systemd_upstream.filter(|u| !u.lines().any(is_loopback)) {
        return up.to_string();
    }
    host.lines()
        .filter(|l| !is_loopback(l))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// kubelet's hosts file: `<podIP> <hostname>` once the pod network gave the pod an
/// IP (`pod.status.podIP`); before that (or with loopback only) a loopback address.
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
    let ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "127.0.1.1".to_string());
    out.push_str(&format!("{ip}\t{fqdn}{hostname}\n"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_resolver_is_replaced_as_kubelet_does() {
        let host = "nameserver 127.0.0.53\noptions edns0\nsearch lan\n";
        let up = "nameserver 192.168.1.1\nsearch lan\n";
        assert_eq!(pod_resolv_conf(host, Some(up)), up);
        assert_eq!(pod_resolv_conf(host, None), "options edns0\nsearch lan\n");
        let plain = "nameserver 9.9.9.9\n";
        assert_eq!(pod_resolv_conf(plain, Some(up)), plain);
    }
}

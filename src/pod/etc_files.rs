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
    // dnsPolicy Default (and ClusterFirst without a cluster DNS): the host's resolver;
    // None: only the pod's dnsConfig; dnsConfig is merged in as kubelet does.
    let policy = pod.spec.as_ref().and_then(|s| s.dns_policy.as_deref());
    let base = if policy == Some("None") {
        String::new()
    } else {
        let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let upstream = std::fs::read_to_string(SYSTEMD_RESOLV_CONF).ok();
        pod_resolv_conf(&host, upstream.as_deref())
    };
    let dns_config = pod.spec.as_ref().and_then(|s| s.dns_config.as_ref());
    let resolv = match dns_config {
        Some(config) => merge_dns_config(&base, config),
        None => base,
    };
    write_atomic(&paths.etc_file("resolv.conf"), resolv.as_bytes())
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

/// kubelet's merge of `dnsConfig` into a resolv.conf: nameservers appended (no
/// duplicates, three at most: the resolver reads no more), search domains appended
/// (no duplicates), options by name (the pod's value wins).
pub fn merge_dns_config(base: &str, config: &k8s_openapi::api::core::v1::PodDNSConfig) -> String {
    let mut servers: Vec<String> = Vec::new();
    let mut searches: Vec<String> = Vec::new();
    let mut options: Vec<(String, Option<String>)> = Vec::new();
    let mut other = Vec::new();
    for line in base.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => servers.extend(words.next().map(String::from)),
            Some("search") | Some("domain") => searches.extend(words.map(String::from)),
            Some("options") => {
                for o in words {
                    let (k, v) = match o.split_once(':') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (o.to_string(), None),
                    };
                    options.push((k, v));
                }
            }
            _ if !line.trim().is_empty() && !line.starts_with('#') => other.push(line),
            _ => {}
        }
    }
    let push_unique = |list: &mut Vec<String>, v: &String| {
        if !list.contains(v) {
            list.push(v.clone());
        }
    };
    for s in config.nameservers.iter().flatten() {
        push_unique(&mut servers, s);
    }
    for s in config.searches.iter().flatten() {
        push_unique(&mut searches, s);
    }
    for o in config.options.iter().flatten() {
        let Some(name) = o.name.clone() else { continue };
        options.retain(|(k, _)| *k != name);
        options.push((name, o.value.clone()));
    }
    servers.truncate(3);
    let mut out = String::new();
    for s in &servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !searches.is_empty() {
        out.push_str(&format!("search {}\n", searches.join(" ")));
    }
    if !options.is_empty() {
        let opts: Vec<String> = options
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}:{v}"),
                None => k.clone(),
            })
            .collect();
        out.push_str(&format!("options {}\n", opts.join(" ")));
    }
    for line in other {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// kubelet's hosts file: `<podIP> <hostname>` once the pod network gave the pod an
/// IP (`pod.status.podIP`); before that (or with loopback only) a loopback address.
pub fn hosts(pod: &Pod, hostname: &str) -> String {
    if crate::net::pod_network::host_network(pod) {
        // kubelet gives a hostNetwork pod the host's own hosts file.
        let host = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        return format!("# Kubernetes-managed hosts file (host network).\n{host}");
    }
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

    #[test]
    fn dns_config_is_merged_as_kubelet_merges_it() {
        use k8s_openapi::api::core::v1::{PodDNSConfig, PodDNSConfigOption};
        let config = PodDNSConfig {
            nameservers: Some(vec!["192.0.2.1".into(), "9.9.9.9".into()]),
            searches: Some(vec!["ns1.svc.cluster-domain.example".into()]),
            options: Some(vec![
                PodDNSConfigOption {
                    name: Some("ndots".into()),
                    value: Some("2".into()),
                },
                PodDNSConfigOption {
                    name: Some("edns0".into()),
                    value: None,
                },
            ]),
        };
        let host = "nameserver 9.9.9.9\nsearch lan\noptions ndots:5\n";
        assert_eq!(
            merge_dns_config(host, &config),
            "nameserver 9.9.9.9\nnameserver 192.0.2.1\nsearch lan ns1.svc.cluster-domain.example\noptions ndots:2 edns0\n"
        );
        // dnsPolicy None: the pod's config alone.
        assert_eq!(
            merge_dns_config("", &config),
            "nameserver 192.0.2.1\nnameserver 9.9.9.9\nsearch ns1.svc.cluster-domain.example\noptions ndots:2 edns0\n"
        );
    }
}

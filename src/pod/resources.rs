//! `resources.requests` and `resources.limits` (cpu, memory) as kubelet turns them into
//! cgroup settings, and the pod's QoS class.

use crate::apimachinery::quantity::parse_quantity;
use anyhow::Result;
use k8s_openapi::api::core::v1::{Container, Pod};
use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxMemoryBuilder, LinuxResources, LinuxResourcesBuilder,
};

/// CFS period kubelet uses: 100 ms.
const CPU_PERIOD: u64 = 100_000;
/// cpu.shares of a container that requests no CPU (kubelet's minimum).
const MIN_SHARES: u64 = 2;
/// kubelet's largest cpu.shares (`MaxShares`): a request beyond it is capped.
const MAX_SHARES: u64 = 262_144;
/// The largest CFS quota the kernel accepts, in µs (`max_cfs_runtime`, about 203
/// days per period: `(1 << 44) - 1`). A CPU limit beyond it (`184467440737096m`)
/// is as good as no limit; its quota is capped there instead of wrapping around to
/// a tiny one.
const MAX_QUOTA: u64 = (1 << 44) - 1;

#[derive(Debug, Default, PartialEq)]
pub struct ContainerResources {
    pub memory_limit: Option<i64>,
    pub memory_request: Option<i64>,
    pub cpu_limit_millis: Option<u64>,
    pub cpu_request_millis: Option<u64>,
}

fn get(c: &Container, which: &str, name: &str) -> Option<f64> {
    let r = c.resources.as_ref()?;
    let map = if which == "limits" {
        r.limits.as_ref()?
    } else {
        r.requests.as_ref()?
    };
    parse_quantity(&map.get(name)?.0).ok().map(|q| q.value)
}

/// Cores to millicores, rounded up as Kubernetes does (0.7 is 700m, not 701m).
fn millis(cores: f64) -> u64 {
    (cores * 1000.0 - 1e-6).ceil().max(0.0) as u64
}

pub fn of(c: &Container) -> ContainerResources {
    ContainerResources {
        memory_limit: get(c, "limits", "memory").map(|v| v.ceil() as i64),
        memory_request: get(c, "requests", "memory").map(|v| v.ceil() as i64),
        cpu_limit_millis: get(c, "limits", "cpu").map(millis),
        cpu_request_millis: get(c, "requests", "cpu").map(millis),
    }
}

impl ContainerResources {
    /// The OCI resources: memory limit, CFS quota from the CPU limit, shares from the
    /// CPU request (the same arithmetic as kubelet's). On a cgroup v2 node kubelet
    /// also asks for `memory.oom.group = 1` (unless `singleProcessOOMKill`): an OOM
    /// kill then takes every process of the container, so its main process dies of
    /// SIGKILL (exit code 137). cgroup v1 has no group kill: the kernel kills the
    /// biggest process only, and the container's exit code is its main process's.
    pub fn to_oci(&self, cgroup_v2: bool) -> Result<LinuxResources> {
        let mut memory = LinuxMemoryBuilder::default();
        if let Some(limit) = self.memory_limit {
            memory = memory.limit(limit);
        }
        let shares = self
            .cpu_request_millis
            .map(|m| (m.saturating_mul(1024) / 1000).clamp(MIN_SHARES, MAX_SHARES))
            .unwrap_or(MIN_SHARES);
        let mut cpu = LinuxCpuBuilder::default().shares(shares).period(CPU_PERIOD);
        if let Some(limit) = self.cpu_limit_millis {
            // At least 1 ms of quota, as kubelet does.
            let quota = limit
                .checked_mul(CPU_PERIOD / 1000)
                .map_or(MAX_QUOTA, |quota| quota.min(MAX_QUOTA))
                .max(1000);
            cpu = cpu.quota(i64::try_from(quota).unwrap_or(i64::MAX));
        }
        let mut resources = LinuxResourcesBuilder::default()
            .memory(memory.build()?)
            .cpu(cpu.build()?)
            .build()?;
        if cgroup_v2 {
            resources.set_unified(Some(
                [("memory.oom.group".to_string(), "1".to_string())].into(),
            ));
        }
        Ok(resources)
    }
}

/// The pod's cgroup (relative to the hierarchy root); its containers' are inside.
pub fn pod_cgroup(uid: &str) -> std::path::PathBuf {
    std::path::Path::new(PODS_CGROUP).join(format!("pod{uid}"))
}

/// The parent of every pod's cgroup.
pub const PODS_CGROUP: &str = "/minipod";

/// Remove a pod's cgroups, and the shared parent when it was the last pod.
pub fn remove_pod_cgroup(uid: &str) {
    crate::runtime::cgroups::remove(&pod_cgroup(uid));
    crate::runtime::cgroups::remove_if_unused(std::path::Path::new(PODS_CGROUP));
}

/// The infra's cgroup: a leaf of its own in its pod's tree (`_infra` is no container's
/// name), so that the tree lists every process of the pod, even after its supervisor
/// crashed.
pub fn infra_cgroup(uid: &str) -> std::path::PathBuf {
    pod_cgroup(uid).join("_infra")
}

/// Guaranteed (every container has equal cpu and memory requests and limits),
/// BestEffort (no container asks for anything), else Burstable.
pub fn qos_class(pod: &Pod) -> &'static str {
    let spec = pod.spec.clone().unwrap_or_default();
    let all: Vec<ContainerResources> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(of)
        .collect();
    if all.iter().all(|r| *r == ContainerResources::default()) {
        return "BestEffort";
    }
    let guaranteed = all.iter().all(|r| {
        r.memory_limit.is_some()
            && r.cpu_limit_millis.is_some()
            && r.memory_request.unwrap_or(0) == r.memory_limit.unwrap_or(-1)
            && r.cpu_request_millis.unwrap_or(0) == r.cpu_limit_millis.unwrap_or(u64::MAX)
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn container(req: &[(&str, &str)], lim: &[(&str, &str)]) -> Container {
        let map = |kv: &[(&str, &str)]| {
            Some(
                kv.iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect(),
            )
        };
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                requests: map(req),
                limits: map(lim),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn cgroup_values_follow_kubelet() {
        let r = of(&container(
            &[("cpu", "250m"), ("memory", "64Mi")],
            &[("cpu", "700m"), ("memory", "200Mi")],
        ));
        let oci = r.to_oci(false).unwrap();
        assert_eq!(oci.memory().as_ref().unwrap().limit(), Some(209_715_200));
        // cgroup v1 has no group OOM kill: nothing unified is asked for.
        assert_eq!(oci.unified(), &None);
        let cpu = oci.cpu().as_ref().unwrap();
        assert_eq!(cpu.quota(), Some(70_000));
        assert_eq!(cpu.period(), Some(100_000));
        assert_eq!(cpu.shares(), Some(256));
    }

    #[test]
    fn on_cgroup_v2_an_oom_kill_takes_the_whole_container_as_kubelet_asks() {
        let oci = of(&container(&[], &[("memory", "100Mi")]))
            .to_oci(true)
            .unwrap();
        let unified = oci.unified().clone().unwrap_or_default();
        assert_eq!(
            unified.get("memory.oom.group").map(String::as_str),
            Some("1")
        );
        assert_eq!(unified.len(), 1);
    }

    #[test]
    fn huge_cpu_values_are_capped_never_wrapped() {
        let r = of(&container(
            &[("cpu", "184467440737096m")],
            &[("cpu", "184467440737096m")],
        ));
        let oci = r.to_oci(false).unwrap();
        let cpu = oci.cpu().as_ref().unwrap();
        assert_eq!(cpu.quota(), Some(MAX_QUOTA as i64));
        assert_eq!(cpu.shares(), Some(MAX_SHARES));
        let r = of(&container(&[], &[("cpu", "1e100")]));
        let quota = r.to_oci(false).unwrap().cpu().as_ref().unwrap().quota();
        assert_eq!(quota, Some(MAX_QUOTA as i64));
    }
}

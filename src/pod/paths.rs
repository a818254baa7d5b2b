//! Where one pod's files live (DESIGN.md, "On disk"), in one place.

use crate::state::paths::StateRoot;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct PodPaths {
    /// Volatile: record, status, steps, bundles, the pod's /etc files.
    pub run: PathBuf,
    /// Persistent, kubelet-shaped: `pods/<uid>/volumes/kubernetes.io~empty-dir/<name>`.
    pub lib: PathBuf,
    /// `log/pods/<namespace>_<name>_<uid>/<container>/<restart>.log`.
    pub logs: PathBuf,
}

impl PodPaths {
    pub fn new(state: &StateRoot, namespace: &str, name: &str, uid: &str) -> PodPaths {
        PodPaths {
            run: state.pod_run(uid),
            lib: state.pod_lib(uid),
            logs: state.pod_logs(namespace, name, uid),
        }
    }
    pub fn record(&self) -> PathBuf {
        self.run.join("pod.json")
    }
    pub fn status(&self) -> PathBuf {
        self.run.join("status.json")
    }
    pub fn steps(&self) -> PathBuf {
        self.run.join("steps.jsonl")
    }
    pub fn events(&self) -> PathBuf {
        self.run.join("events.jsonl")
    }
    /// The image IDs this pod uses, read by `image rm`.
    pub fn images_in_use(&self) -> PathBuf {
        self.run.join("images.json")
    }
    pub fn delete_request(&self) -> PathBuf {
        self.run.join("delete.json")
    }
    pub fn supervisor_log(&self) -> PathBuf {
        self.run.join("supervisor.log")
    }
    /// The infra's OCI bundle (beside the containers': a container may be named infra).
    pub fn infra_bundle(&self) -> PathBuf {
        self.run.join("infra")
    }
    /// The OCI bundle of a container: `config.json` + `rootfs/`.
    pub fn bundle(&self, container: &str) -> PathBuf {
        self.run.join("bundles").join(container)
    }
    /// The pod's one /dev/shm tmpfs, bound into every container.
    pub fn shm(&self) -> PathBuf {
        self.run.join("shm")
    }
    pub fn etc_file(&self, name: &str) -> PathBuf {
        self.run.join(name)
    }
    pub fn empty_dir(&self, volume: &str) -> PathBuf {
        self.lib
            .join("volumes")
            .join("kubernetes.io~empty-dir")
            .join(volume)
    }
    /// Where a container's subPath is pinned, as kubelet's
    /// `pods/<uid>/volume-subpaths/<volume>/<container>/<index>`.
    pub fn volume_subpath(&self, volume: &str, container: &str, index: usize) -> PathBuf {
        self.lib
            .join("volume-subpaths")
            .join(volume)
            .join(container)
            .join(index.to_string())
    }
    /// A container's writable overlay layer (upper and work dirs).
    pub fn overlay(&self, container: &str) -> PathBuf {
        self.lib.join("overlay").join(container)
    }
    pub fn log_file(&self, container: &str, restart: u32) -> PathBuf {
        self.logs.join(container).join(format!("{restart}.log"))
    }
}

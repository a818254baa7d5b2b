//! The on-disk layout (DESIGN.md, "On disk").
//!
//! Without `--root`: volatile state in `/run/minipod`, persistent state in
//! `/var/lib/minipod`, logs in `/var/log/minipod`. With `--root DIR` (or
//! `MINIPOD_ROOT`) everything moves under DIR: `DIR/run`, `DIR` itself for the
//! persistent part (images, `pods/<uid>/volumes/...`) and `DIR/log`, so a test owns one
//! directory and removes it whole.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct StateRoot {
    /// The `--root` directory, if one was given (passed on to the supervisor).
    pub root: Option<PathBuf>,
    /// Volatile: pod records, status, events, supervisor pids, locks, OCI bundles.
    pub run: PathBuf,
    /// Persistent: images, emptyDir volumes.
    pub lib: PathBuf,
    /// Container logs in the CRI format.
    pub log: PathBuf,
    /// `--cni-conf-dir` / `--cni-bin-dir` (or their environment variables), when
    /// given: where the pod network's conflist and plugins are (`net::pod_network`).
    pub cni_conf_dir: Option<PathBuf>,
    pub cni_bin_dir: Option<String>,
}

impl StateRoot {
    pub fn new(root: Option<&Path>) -> Self {
        match root {
            Some(dir) => {
                let dir = absolute(dir);
                StateRoot {
                    root: Some(dir.clone()),
                    run: dir.join("run"),
                    log: dir.join("log"),
                    lib: dir,
                    cni_conf_dir: None,
                    cni_bin_dir: None,
                }
            }
            None => StateRoot {
                root: None,
                run: PathBuf::from("/run/minipod"),
                lib: PathBuf::from("/var/lib/minipod"),
                log: PathBuf::from("/var/log/minipod"),
                cni_conf_dir: None,
                cni_bin_dir: None,
            },
        }
    }

    /// The same root, with the CNI directories given on the command line.
    pub fn with_cni_dirs(mut self, conf_dir: Option<PathBuf>, bin_dir: Option<String>) -> Self {
        self.cni_conf_dir = conf_dir.filter(|d| !d.as_os_str().is_empty());
        self.cni_bin_dir = bin_dir.filter(|d| !d.is_empty());
        self
    }

    /// The image store: blobs, unpacked layers, tags.
    pub fn images(&self) -> PathBuf {
        self.lib.join("images")
    }

    /// `pods/<uid>`: the persistent side of one pod (its volumes), kubelet-shaped.
    pub fn pod_lib(&self, uid: &str) -> PathBuf {
        self.lib.join("pods").join(uid)
    }

    /// Volatile records of all pods.
    pub fn pods_run(&self) -> PathBuf {
        self.run.join("pods")
    }

    /// Volatile records of one pod: record, status, events, bundles.
    pub fn pod_run(&self, uid: &str) -> PathBuf {
        self.pods_run().join(uid)
    }

    /// `log/pods/<namespace>_<pod>_<uid>`: the pod's container logs.
    pub fn pod_logs(&self, namespace: &str, name: &str, uid: &str) -> PathBuf {
        self.log
            .join("pods")
            .join(format!("{namespace}_{name}_{uid}"))
    }
}

/// An absolute path without touching the file system (the directory may not exist yet).
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

//! The pod's volumes on the host: `emptyDir` directories (kubelet-shaped paths, or a
//! tmpfs for `medium: Memory`) and `hostPath` with its type checks. Each container
//! then gets them as bind mounts (see `container_spec`).

use super::paths::PodPaths;
use crate::narration::step;
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{Pod, Volume};
use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn volumes(pod: &Pod) -> &[Volume] {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or(&[])
}

/// Check every hostPath against its `type` without changing anything (apply runs this
/// before it creates anything). Returns one message per problem.
pub fn check_host_paths(pod: &Pod) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, v) in volumes(pod).iter().enumerate() {
        let Some(hp) = &v.host_path else { continue };
        let path = Path::new(&hp.path);
        let typ = hp.type_.as_deref().unwrap_or("");
        let meta = std::fs::metadata(path).ok();
        let ok = match typ {
            "" | "DirectoryOrCreate" => meta.as_ref().is_none_or(|m| m.is_dir()) || typ.is_empty(),
            "FileOrCreate" => meta.as_ref().is_none_or(|m| m.is_file()),
            "Directory" => meta.as_ref().is_some_and(|m| m.is_dir()),
            "File" => meta.as_ref().is_some_and(|m| m.is_file()),
            "Socket" => meta.as_ref().is_some_and(|m| m.file_type().is_socket()),
            "CharDevice" => meta
                .as_ref()
                .is_some_and(|m| m.file_type().is_char_device()),
            "BlockDevice" => meta
                .as_ref()
                .is_some_and(|m| m.file_type().is_block_device()),
            _ => true, // validation already refused unknown types
        };
        if !ok {
            let what = match typ {
                "Directory" | "DirectoryOrCreate" => "a directory",
                "File" | "FileOrCreate" => "a file",
                "Socket" => "a socket",
                "CharDevice" => "a character device",
                _ => "a block device",
            };
            let found = if meta.is_none() {
                "does not exist"
            } else {
                "is something else"
            };
            errors.push(format!(
                "spec.volumes[{i}].hostPath: hostPath type check failed: {} is not {what} ({found})",
                hp.path
            ));
        }
    }
    errors
}

/// Create the pod's volumes and return volume name → host path to bind.
/// Runs in the supervisor's own mount namespace, so a Memory tmpfs vanishes with it.
pub fn prepare(pod: &Pod, paths: &PodPaths) -> Result<BTreeMap<String, PathBuf>> {
    let mut sources = BTreeMap::new();
    for v in volumes(pod) {
        if let Some(ed) = &v.empty_dir {
            let dir = paths.empty_dir(&v.name);
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o777)
                .create(&dir)
                .with_context(|| format!("create emptyDir {} at {}", v.name, dir.display()))?;
            // kubelet makes emptyDirs world-writable, whatever the umask says.
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
                .with_context(|| format!("chmod emptyDir {}", dir.display()))?;
            if ed.medium.as_deref() == Some("Memory") {
                let mut data = String::from("mode=1777");
                if let Some(limit) = &ed.size_limit {
                    data.push_str(&format!(",size={}", quantity_bytes(&limit.0)?));
                }
                crate::runtime::pod_mounts::tmpfs(
                    "tmpfs",
                    &dir,
                    &data,
                    false,
                    &data,
                    "emptyDir medium Memory: one tmpfs for the whole pod",
                )
                .with_context(|| format!("emptyDir {}", v.name))?;
            } else {
                step(
                    format!("mkdir {}", dir.display()),
                    "emptyDir: a host directory born with the pod, removed with it",
                );
            }
            sources.insert(v.name.clone(), dir);
        } else if let Some(hp) = &v.host_path {
            let path = PathBuf::from(&hp.path);
            match hp.type_.as_deref().unwrap_or("") {
                "DirectoryOrCreate" | "" if !path.exists() => {
                    // kubelet creates DirectoryOrCreate with 0755; containerd creates a
                    // missing bind source of an untyped hostPath the same way.
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o755)
                        .create(&path)
                        .with_context(|| format!("create hostPath directory {}", path.display()))?;
                }
                "FileOrCreate" if !path.exists() => {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .with_context(|| format!("create hostPath file {}", path.display()))?;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                        .with_context(|| format!("chmod hostPath file {}", path.display()))?;
                }
                _ => {}
            }
            sources.insert(v.name.clone(), path);
        } else {
            bail!(
                "volume {}: only emptyDir and hostPath are supported by minipod yet",
                v.name
            );
        }
    }
    Ok(sources)
}

/// Make a container's `subPath` directories exist inside their volumes (kubelet does).
pub fn prepare_sub_paths(pod: &Pod, sources: &BTreeMap<String, PathBuf>) -> Result<()> {
    let spec = pod.spec.as_ref();
    let containers = spec
        .map(|s| {
            s.init_containers
                .iter()
                .flatten()
                .chain(s.containers.iter())
        })
        .into_iter()
        .flatten();
    for c in containers {
        for vm in c.volume_mounts.iter().flatten() {
            let Some(sub) = vm.sub_path.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            let Some(base) = sources.get(&vm.name) else {
                continue;
            };
            let dir = base.join(sub);
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(&dir)
                    .with_context(|| format!("create subPath {} of volume {}", sub, vm.name))?;
            }
        }
    }
    Ok(())
}

/// A Kubernetes quantity (`64Mi`, `1G`) in bytes, rounded up.
fn quantity_bytes(q: &str) -> Result<u64> {
    crate::api::quantity::parse_quantity(q)
        .map(|v| v.ceil_units())
        .map_err(|_| anyhow::anyhow!("quantity {q:?} is not valid"))
}

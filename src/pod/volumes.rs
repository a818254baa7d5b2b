//! The pod's volumes on the host: `emptyDir` directories (kubelet-shaped paths, or a
//! tmpfs for `medium: Memory`) and `hostPath` with its type checks. Each container
//! then gets them as bind mounts (see `container_spec`).

use super::paths::PodPaths;
use crate::narration;
use crate::runtime::safe_path;
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{Container, Pod, Volume};
use nix::sys::stat::Mode;
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
            crate::runtime::pod_mounts::empty_dir(&dir)
                .with_context(|| format!("create emptyDir {} at {}", v.name, dir.display()))?;
            if ed.medium.as_deref() == Some("Memory") {
                let mut data = String::from("mode=1777");
                if let Some(limit) = &ed.size_limit {
                    let size = memory_volume_size(quantity_bytes(&limit.0)?, host_memory());
                    data.push_str(&format!(",size={size}"));
                }
                crate::runtime::pod_mounts::tmpfs(
                    "tmpfs",
                    &dir,
                    &data,
                    false,
                    "emptyDir medium Memory: one tmpfs for the whole pod",
                )
                .with_context(|| format!("emptyDir {}", v.name))?;
            }
            // fsGroup: kubelet gives an emptyDir the pod's group (never a hostPath).
            if let Some(psc) = pod.spec.as_ref().and_then(|s| s.security_context.as_ref()) {
                if let Some(gid) = psc.fs_group.and_then(|g| u32::try_from(g).ok()) {
                    crate::pod::security::fs_group::apply(
                        &dir,
                        gid,
                        psc.fs_group_change_policy.as_deref(),
                    )
                    .with_context(|| format!("emptyDir {}", v.name))?;
                }
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

/// A container's subPaths, as kubelet prepares them: each opened inside its volume
/// without following a symlink, then that very descriptor bind-mounted (through
/// `/proc/self/fd/N`) onto a path of the pod's own
/// (`volume-subpaths/<volume>/<container>/<index>`). The container's runtime binds that
/// path; it cannot be swapped, for no container can reach it, and the mount pins the
/// directory checked here. (The descriptor itself cannot be the runtime's source: the
/// container's new mount namespace refuses to bind a mount of ours, EINVAL.)
#[derive(Default)]
pub struct SubPaths {
    /// Index in the container's `volumeMounts` → the pinned subPath.
    bound: BTreeMap<usize, PathBuf>,
}

impl SubPaths {
    /// The mount source for volumeMount `index`, if it has a subPath.
    pub fn source(&self, index: usize) -> Option<PathBuf> {
        self.bound.get(&index).cloned()
    }
}

/// Prepare every subPath of `container` (creating missing directories, refusing any
/// symlink on the way). The error is kubelet's `CreateContainerConfigError` message,
/// naming the volumeMount, the container and the subPath, never what a symlink
/// pointed to on the host.
pub fn prepare_sub_paths(
    container: &Container,
    sources: &BTreeMap<String, PathBuf>,
    paths: &PodPaths,
) -> Result<SubPaths> {
    let mut bound = BTreeMap::new();
    for (index, vm) in container.volume_mounts.iter().flatten().enumerate() {
        let Some(sub) = vm.sub_path.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let refused = || {
            format!(
                "failed to prepare subPath for volumeMount {:?} of container {:?}: subPath {sub:?}",
                vm.name, container.name
            )
        };
        let base = sources
            .get(&vm.name)
            .with_context(|| format!("volume {} has no host path", vm.name))
            .with_context(refused)?;
        // kubelet creates missing subPath directories with the volume root's mode.
        let mode = std::fs::metadata(base)
            .map(|m| Mode::from_bits_truncate(m.permissions().mode() & 0o7777))
            .with_context(|| format!("stat the volume {}", vm.name))
            .with_context(refused)?;
        narration::set_actor(&container.name);
        let pinned = safe_path::open_beneath(base, Path::new(sub), mode).and_then(|fd| {
            let target = paths.volume_subpath(&vm.name, &container.name, index);
            crate::runtime::pod_mounts::pin(&fd, &target)?;
            Ok(target)
        });
        narration::set_actor("pod");
        bound.insert(index, pinned.with_context(refused)?);
    }
    Ok(SubPaths { bound })
}

/// A Kubernetes quantity (`64Mi`, `1G`) in bytes, rounded up.
/// kubelet sizes a Memory emptyDir at most to the node's allocatable memory: a
/// `sizeLimit: 1e100` must not become a tmpfs without bound (a size past what
/// `size=` can hold would wrap to an unlimited one). The host's memory is ours.
fn memory_volume_size(size_limit: u64, host_memory: Option<u64>) -> u64 {
    host_memory.map_or(size_limit, |total| size_limit.min(total))
}

/// The host's memory (`MemTotal` of /proc/meminfo), in bytes.
fn host_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn quantity_bytes(q: &str) -> Result<u64> {
    crate::apimachinery::quantity::parse_quantity(q)
        .map(|v| v.ceil_units())
        .map_err(|_| anyhow::anyhow!("quantity {q:?} is not valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_volume_is_at_most_the_hosts_memory() {
        let total = host_memory().unwrap();
        assert!(total > 0);
        let huge = quantity_bytes("1e100").unwrap();
        assert_eq!(memory_volume_size(huge, Some(total)), total);
        assert_eq!(memory_volume_size(1 << 20, Some(total)), 1 << 20);
    }
}

//! What a cgroup has used, read as kubelet's cAdvisor reads it: CPU time so far, and
//! the memory working set (usage less the inactive page cache), on cgroup v2
//! (`cpu.stat` `usage_usec`, `memory.current`, `memory.stat` `inactive_file`) or v1
//! (`cpuacct.usage`, `memory.usage_in_bytes`, `memory.stat` `total_inactive_file`).

use super::cgroups::{hierarchy, Hierarchy};
use std::path::Path;

const ROOT: &str = "/sys/fs/cgroup";

/// One reading of a cgroup.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// CPU time used by every process that was ever in it, in nanoseconds.
    pub cpu_nanos: u64,
    /// Memory in use that the kernel cannot simply drop, in bytes.
    pub working_set_bytes: u64,
}

/// The usage of the cgroup `path` (relative to the hierarchy), or None when it does
/// not exist (the pod is not running).
pub fn read(path: &Path) -> Option<Usage> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    let root = Path::new(ROOT);
    match hierarchy() {
        Hierarchy::V2 => {
            let dir = root.join(rel);
            let usec = stat_value(&dir.join("cpu.stat"), "usage_usec")?;
            let current = number(&dir.join("memory.current"))?;
            let inactive = stat_value(&dir.join("memory.stat"), "inactive_file").unwrap_or(0);
            Some(Usage {
                cpu_nanos: usec.saturating_mul(1000),
                working_set_bytes: current.saturating_sub(inactive),
            })
        }
        Hierarchy::V1 => {
            let cpu = number(&root.join("cpuacct").join(rel).join("cpuacct.usage"))?;
            let memory = root.join("memory").join(rel);
            let usage = number(&memory.join("memory.usage_in_bytes"))?;
            let inactive =
                stat_value(&memory.join("memory.stat"), "total_inactive_file").unwrap_or(0);
            Some(Usage {
                cpu_nanos: cpu,
                working_set_bytes: usage.saturating_sub(inactive),
            })
        }
    }
}

fn number(file: &Path) -> Option<u64> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// `key value` lines (`cpu.stat`, `memory.stat`).
fn stat_value(file: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

//! The pod's processes as the host sees them, in the `pstree -g` spirit: the
//! supervisor, the infra process, each container's PID 1 and its children (found by
//! their parent PID in `/proc/PID/stat`), then the processes `exec` put in.

use super::members::{Member, Role};
use super::namespace_table::label;
use super::procfs::Proc;
use std::collections::BTreeMap;

/// One line of the tree.
#[derive(Debug, Clone)]
pub struct Line {
    /// Drawn prefix: `├─ `, `│  └─ `...
    pub prefix: String,
    pub pid: i32,
    /// The PID inside the process's own PID namespace (`NSpid`, innermost).
    pub inner_pid: i32,
    pub pgid: i32,
    pub user: String,
    /// supervisor, infra, a container's name, or empty for other processes.
    pub role: String,
    pub command: String,
}

/// The lines of the tree, roots first: the supervisor (or, when it is gone, the pod's
/// members), then the exec'd processes, which are children of a `minipod exec`.
pub fn lines(supervisor: Option<i32>, members: &[Member], procs: &[Proc]) -> Vec<Line> {
    let by_pid: BTreeMap<i32, &Proc> = procs.iter().map(|p| (p.pid, p)).collect();
    let mut children: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut roles: BTreeMap<i32, String> = members.iter().map(|m| (m.pid, label(m))).collect();
    let mut roots = Vec::new();
    match supervisor.filter(|pid| by_pid.contains_key(pid)) {
        Some(sup) => {
            roles.insert(sup, "supervisor".into());
            roots.push(sup);
        }
        None => roots.extend(
            members
                .iter()
                .filter(|m| !matches!(m.role, Role::Exec { .. }))
                .map(|m| m.pid),
        ),
    }
    // An exec'd process whose parent is not itself a member (the CLI that joined).
    let member_pids: Vec<i32> = members.iter().map(|m| m.pid).collect();
    for m in members {
        if let Role::Exec { .. } = m.role {
            let parent = by_pid.get(&m.pid).map(|p| p.ppid).unwrap_or(0);
            if !member_pids.contains(&parent) {
                roots.push(m.pid);
            }
        }
    }
    let mut out = Vec::new();
    for root in roots {
        walk(root, 0, "", true, &by_pid, &children, &roles, &mut out);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn walk(
    pid: i32,
    depth: usize,
    indent: &str,
    last: bool,
    by_pid: &BTreeMap<i32, &Proc>,
    children: &BTreeMap<i32, Vec<i32>>,
    roles: &BTreeMap<i32, String>,
    out: &mut Vec<Line>,
) {
    let Some(p) = by_pid.get(&pid) else { return };
    let prefix = match depth {
        0 => String::new(),
        _ => format!("{indent}{}", if last { "└─ " } else { "├─ " }),
    };
    out.push(Line {
        prefix,
        pid,
        inner_pid: p.inner_pid(),
        pgid: p.pgid,
        user: super::container_user::label(pid, p.uid),
        role: roles.get(&pid).cloned().unwrap_or_default(),
        command: p.command(),
    });
    let kids = children.get(&pid).cloned().unwrap_or_default();
    let next_indent = match depth {
        0 => String::new(),
        _ => format!("{indent}{}", if last { "   " } else { "│  " }),
    };
    for (i, kid) in kids.iter().enumerate() {
        walk(
            *kid,
            depth + 1,
            &next_indent,
            i + 1 == kids.len(),
            by_pid,
            children,
            roles,
            out,
        );
    }
}

//! What the host's `/proc` says about a process, read in one place: its start time
//! (how a recorded PID is told from a reused one), the fields the views show, its
//! namespaces. Every reader asks the kernel, never a record of what we meant.

use anyhow::{Context, Result};

/// The namespace types a process has, in the order the views print them.
pub const NS_KINDS: [&str; 8] = ["net", "ipc", "uts", "mnt", "pid", "cgroup", "user", "time"];

/// One process as `/proc/PID/{stat,status,cmdline}` describe it.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    /// Real UID (a container without a user namespace has the host's numbers).
    pub uid: u32,
    /// `NSpid`: the PID in each PID namespace the process is in, outermost first.
    pub ns_pids: Vec<i32>,
    pub comm: String,
    /// The command line, arguments joined by spaces (empty for kernel threads).
    pub cmdline: String,
}

impl Proc {
    /// The PID the process sees for itself (its innermost PID namespace).
    pub fn inner_pid(&self) -> i32 {
        self.ns_pids.last().copied().unwrap_or(self.pid)
    }

    /// The command as `ps` shows it: the command line, or `[comm]` when there is none.
    pub fn command(&self) -> String {
        if self.cmdline.is_empty() {
            format!("[{}]", self.comm)
        } else {
            self.cmdline.clone()
        }
    }
}

/// The fields of `/proc/PID/stat` after the command (which may contain spaces and
/// parentheses: they start after the last ')'): state(0) ppid(1) pgrp(2) ...
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat.get(stat.rfind(')')? + 2..)?.split(' ').collect())
}

/// The start time of a process (field 22 of `/proc/PID/stat`, in clock ticks since
/// boot); `None` when it is gone.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_fields(&stat)?.get(19)?.parse().ok()
}

/// Is the process `pid`, started at `start_time`, still there (and not a zombie)?
pub fn is_running(pid: i32, start_time: u64) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(fields) = stat_fields(&stat) else {
        return false;
    };
    let state = fields.first().copied().unwrap_or("");
    state != "Z" && state != "X" && fields.get(19).and_then(|t| t.parse().ok()) == Some(start_time)
}

/// Read one process; `None` when it is gone (processes end while we look).
pub fn read(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let comm = stat.get(stat.find('(')? + 1..stat.rfind(')')?)?.to_string();
    let fields = stat_fields(&stat)?;
    let ppid = fields.get(1)?.parse().ok()?;
    let pgid = fields.get(2)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    let uid = field("Uid:")
        .and_then(|v| v.split_whitespace().next().and_then(|u| u.parse().ok()))
        .unwrap_or(0);
    let ns_pids = field("NSpid:")
        .map(|v| {
            v.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            bytes
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
                // One line per process, as ps prints it: a newline in a script is a space.
                .replace(|c: char| c.is_control(), " ")
        })
        .unwrap_or_default();
    Some(Proc {
        pid,
        ppid,
        pgid,
        uid,
        ns_pids,
        comm,
        cmdline,
    })
}

/// Every process on the host, by PID.
pub fn all() -> Result<Vec<Proc>> {
    let mut procs = Vec::new();
    for entry in std::fs::read_dir("/proc").context("list /proc")? {
        let entry = entry.context("list /proc")?;
        if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
            if let Some(p) = read(pid) {
                procs.push(p);
            }
        }
    }
    procs.sort_by_key(|p| p.pid);
    Ok(procs)
}

/// The inode of `/proc/PID/ns/KIND` (`readlink` shows `net:[4026532281]`), or `None`
/// when the process is gone or the kernel has no such namespace type.
pub fn ns_inode(pid: &str, kind: &str) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()?;
    let text = link.to_str()?;
    text.strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The name of a host user, from the host's `/etc/passwd`, or the number.
pub fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = read(std::process::id() as i32).expect("this process is in /proc");
        assert_eq!(me.pid, std::process::id() as i32);
        assert!(!me.cmdline.is_empty());
        assert!(ns_inode("self", "net").is_some());
        assert!(ns_inode("self", "nonsense").is_none());
        let start = start_time(me.pid).expect("a start time");
        assert!(is_running(me.pid, start));
        assert!(!is_running(me.pid, start + 1));
    }
}

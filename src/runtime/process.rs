//! The last steps of a container's first process: who it runs as, what it may do,
//! where it starts, and the `execve` that turns our code into the container's program.

use super::error::ProcessError;
use super::kernel::{kernel, Prctl};
use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{Capabilities, Process};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

type Result<T> = std::result::Result<T, ProcessError>;

/// The error of a call the kernel refused, saying what was being done.
pub(super) fn refused(what: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> ProcessError {
    let what = what.into();
    move |errno| ProcessError::Failed {
        what,
        errno: errno.into(),
    }
}

/// Become the spec's user with the spec's capabilities. The kernel forces the order:
/// the bounding set is reduced while we still hold CAP_SETPCAP; PR_SET_KEEPCAPS keeps
/// the permitted set across setuid; the final sets are written after it.
pub fn set_user_and_capabilities(process: &Process) -> Result<()> {
    let caps = process.capabilities().clone().unwrap_or_default();
    let bounding = to_caps(caps.bounding().as_ref())?;
    kernel()
        .capset(
            CapSet::Bounding,
            &bounding,
            "root in a container is not root on the host: only these, ever",
        )
        .map_err(refused("reduce the bounding set"))?;

    let user = process.user();
    let uid = Uid::from_raw(user.uid());
    let gid = Gid::from_raw(user.gid());
    kernel()
        .prctl(
            Prctl::KeepCaps(true),
            "keep the permitted capabilities across setresuid",
        )
        .map_err(refused("prctl(PR_SET_KEEPCAPS)"))?;
    let groups: Vec<Gid> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| Gid::from_raw(*g))
        .collect();
    kernel()
        .setgroups(&groups, "only the groups the spec gives")
        .map_err(refused("setgroups"))?;
    kernel()
        .setresgid(gid, "the container's group")
        .map_err(refused(format!("setresgid {gid}")))?;
    kernel()
        .setresuid(uid, "the container's user (runAsUser or the image's USER)")
        .map_err(refused(format!("setresuid {uid}")))?;

    let permitted = to_caps(caps.permitted().as_ref())?;
    let effective = to_caps(caps.effective().as_ref())?;
    let inheritable = to_caps(caps.inheritable().as_ref())?;
    let wanted_ambient = to_caps(caps.ambient().as_ref())?;
    // The kernel raises an ambient capability only if it is permitted and inheritable;
    // `runc spec` asks for ambient ones without inheritable, and runc skips those.
    let ambient: CapsHashSet = wanted_ambient
        .iter()
        .filter(|c| permitted.contains(c) && inheritable.contains(c))
        .copied()
        .collect();
    if ambient.len() < wanted_ambient.len() {
        let mut skipped: Vec<String> = wanted_ambient
            .difference(&ambient)
            .map(|c| c.to_string())
            .collect();
        skipped.sort();
        crate::narration::step(
            format!("skip ambient {}", skipped.join(",")),
            "an ambient capability must be permitted and inheritable too (runc skips it as well)",
        );
    }
    // The kernel keeps effective ⊆ permitted: shrink effective first.
    kernel()
        .capset(CapSet::Effective, &effective, "what the process may do now")
        .map_err(refused("set the effective capabilities"))?;
    kernel()
        .capset(
            CapSet::Permitted,
            &permitted,
            "what it may ever take up again",
        )
        .map_err(refused("set the permitted capabilities"))?;
    kernel()
        .capset(
            CapSet::Inheritable,
            &inheritable,
            "what a program it runs may inherit",
        )
        .map_err(refused("set the inheritable capabilities"))?;
    kernel()
        .capset(
            CapSet::Ambient,
            &ambient,
            "what a program it runs keeps without file capabilities",
        )
        .map_err(refused("set the ambient capabilities"))?;

    if process.no_new_privileges() == Some(true) {
        kernel()
            .prctl(
                Prctl::NoNewPrivs,
                "no setuid binary or file capability can raise privileges again",
            )
            .map_err(refused("prctl(PR_SET_NO_NEW_PRIVS)"))?;
    }
    Ok(())
}

/// `process.rlimits`: each limit set as given. Above the hard limit this process
/// has, the kernel refuses without CAP_SYS_RESOURCE, and so does the container.
pub fn set_rlimits(process: &Process) -> Result<()> {
    use nix::sys::resource::Resource;
    for rlimit in process.rlimits().iter().flatten() {
        let typ = rlimit.typ();
        let name = serde_json::to_value(typ)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{typ:?}"));
        let resource = match name.as_str() {
            "RLIMIT_AS" => Resource::RLIMIT_AS,
            "RLIMIT_CORE" => Resource::RLIMIT_CORE,
            "RLIMIT_CPU" => Resource::RLIMIT_CPU,
            "RLIMIT_DATA" => Resource::RLIMIT_DATA,
            "RLIMIT_FSIZE" => Resource::RLIMIT_FSIZE,
            "RLIMIT_LOCKS" => Resource::RLIMIT_LOCKS,
            "RLIMIT_MEMLOCK" => Resource::RLIMIT_MEMLOCK,
            "RLIMIT_MSGQUEUE" => Resource::RLIMIT_MSGQUEUE,
            "RLIMIT_NICE" => Resource::RLIMIT_NICE,
            "RLIMIT_NOFILE" => Resource::RLIMIT_NOFILE,
            "RLIMIT_NPROC" => Resource::RLIMIT_NPROC,
            "RLIMIT_RSS" => Resource::RLIMIT_RSS,
            "RLIMIT_RTPRIO" => Resource::RLIMIT_RTPRIO,
            "RLIMIT_RTTIME" => Resource::RLIMIT_RTTIME,
            "RLIMIT_SIGPENDING" => Resource::RLIMIT_SIGPENDING,
            "RLIMIT_STACK" => Resource::RLIMIT_STACK,
            other => {
                return Err(ProcessError::Failed {
                    what: format!("setrlimit {other}: not a Linux resource limit"),
                    errno: nix::errno::Errno::EINVAL.into(),
                })
            }
        };
        kernel()
            .setrlimit(
                &name,
                resource,
                rlimit.soft(),
                rlimit.hard(),
                "process.rlimits: what the program may use",
            )
            .map_err(refused(format!(
                "setrlimit {name} {}:{} (above this host's hard limit?)",
                rlimit.soft(),
                rlimit.hard()
            )))?;
    }
    Ok(())
}

fn to_caps(set: Option<&Capabilities>) -> Result<CapsHashSet> {
    let mut out = CapsHashSet::new();
    for cap in set.into_iter().flatten() {
        let name = format!("CAP_{cap}");
        out.insert(
            Capability::from_str(&name)
                .map_err(|_| ProcessError::UnknownCapability { name: name.clone() })?,
        );
    }
    Ok(out)
}

/// Send `signal` to the process `pid` (a container's first process, the infra), as
/// `who` in the narration.
pub fn signal(
    who: &str,
    pid: nix::unistd::Pid,
    signal: nix::sys::signal::Signal,
    why: &str,
) -> nix::Result<()> {
    crate::narration::set_actor(who);
    let result = kernel().kill(pid, signal, why);
    crate::narration::set_actor("pod");
    result
}

/// Orphaned descendants become this process's children, so it can reap them (the
/// pod's supervisor: a container's daemonized process is still the pod's).
pub fn become_subreaper() -> anyhow::Result<()> {
    kernel()
        .prctl(
            Prctl::ChildSubreaper,
            "orphans below the supervisor become its children: it reaps them",
        )
        .map_err(|errno| anyhow::anyhow!("prctl(PR_SET_CHILD_SUBREAPER, 1): {errno}"))
}

/// Be killed when the process `parent` (ours when we were started) dies; if it is
/// already gone, say so.
pub fn die_with_parent(parent: u32) -> anyhow::Result<()> {
    kernel()
        .prctl(
            Prctl::DeathSignal(nix::sys::signal::Signal::SIGKILL),
            "killed with the process that started it, never left behind",
        )
        .map_err(|errno| anyhow::anyhow!("prctl(PR_SET_PDEATHSIG, SIGKILL): {errno}"))?;
    // The parent may have died before the call: then nothing will send the signal.
    if std::os::unix::process::parent_id() != parent {
        anyhow::bail!("the process that started this one ({parent}) is gone");
    }
    Ok(())
}

/// Mark every descriptor above stderr (and the `keep` the caller passes on, runc's
/// `--preserve-fds`) close-on-exec, so nothing of ours (a host directory, the pod's
/// records) leaks into the container (CVE-2024-21626).
pub fn close_fds_on_exec(keep: u32) -> Result<()> {
    kernel()
        .close_range_cloexec(
            3 + keep,
            "no descriptor of minipod's leaks into the container (CVE-2024-21626)",
        )
        .map_err(refused("close_range(3, ~0, CLOSE_RANGE_CLOEXEC)"))
}

/// The working directory, checked to be inside the container (it is: we are past
/// pivot_root and hold no host directory descriptor).
pub fn enter_cwd(cwd: &Path) -> Result<()> {
    kernel()
        .chdir(cwd, "the container's workingDir")
        .map_err(|errno| ProcessError::Cwd {
            cwd: cwd.to_path_buf(),
            errno: errno.into(),
        })?;
    let now = std::env::current_dir().map_err(|err| ProcessError::Failed {
        what: "getcwd".into(),
        errno: err
            .raw_os_error()
            .map(nix::errno::Errno::from_raw)
            .unwrap_or(nix::errno::Errno::EIO)
            .into(),
    })?;
    if !now.is_absolute() {
        return Err(ProcessError::CwdOutside {
            cwd: cwd.to_path_buf(),
        });
    }
    Ok(())
}

/// Find `program` the way a shell would, in the container's own `PATH`.
pub fn find_executable(program: &str, env: &[String]) -> Result<PathBuf> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(program);
        if let Ok(meta) = std::fs::metadata(&candidate) {
            use std::os::unix::fs::PermissionsExt;
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err(ProcessError::NotFound {
        program: program.to_string(),
    })
}

/// Replace this process with the container's program.
pub fn exec(args: &[String], env: &[String]) -> Result<std::convert::Infallible> {
    let Some(program) = args.first() else {
        return Err(ProcessError::NoCommand);
    };
    let path = find_executable(program, env)?;
    let nul = |what: &str| {
        let what = what.to_string();
        move |_| ProcessError::Nul { what }
    };
    let c_path =
        CString::new(path.as_os_str().as_encoded_bytes()).map_err(nul("the program path"))?;
    let c_args = args
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(nul("an argument"))?;
    let c_env = env
        .iter()
        .map(|e| CString::new(e.as_bytes()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(nul("an environment variable"))?;
    let errno = match kernel().execve(
        &c_path,
        &c_args,
        &c_env,
        "the container's program replaces minipod's code in this process",
    ) {
        Err(errno) => errno.into(),
        // Only a kernel that records returns from a successful execve.
        Ok(()) => nix::errno::Errno::ENOSYS.into(),
    };
    Err(ProcessError::Exec { path, errno })
}

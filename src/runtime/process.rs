//! The last steps of a container's first process: who it runs as, what it may do,
//! where it starts, and the `execve` that turns our code into the container's program.

use crate::narration::step;
use anyhow::{bail, Context, Result};
use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{Capabilities, Process};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Become the spec's user with the spec's capabilities. The kernel forces the order:
/// the bounding set is reduced while we still hold CAP_SETPCAP; PR_SET_KEEPCAPS keeps
/// the permitted set across setuid; the final sets are written after it.
pub fn set_user_and_capabilities(process: &Process) -> Result<()> {
    let caps = process.capabilities().clone().unwrap_or_default();
    let bounding = to_caps(caps.bounding().as_ref())?;
    for cap in caps::all() {
        if !bounding.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap)
                .with_context(|| format!("drop {cap} from the bounding set"))?;
        }
    }

    let user = process.user();
    let uid = Uid::from_raw(user.uid());
    let gid = Gid::from_raw(user.gid());
    // SAFETY: prctl(PR_SET_KEEPCAPS) takes plain integers and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } != 0 {
        bail!(
            "prctl(PR_SET_KEEPCAPS): {}",
            std::io::Error::last_os_error()
        );
    }
    let groups: Vec<Gid> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| Gid::from_raw(*g))
        .collect();
    nix::unistd::setgroups(&groups).context("setgroups")?;
    nix::unistd::setresgid(gid, gid, gid).with_context(|| format!("setresgid {gid}"))?;
    nix::unistd::setresuid(uid, uid, uid).with_context(|| format!("setresuid {uid}"))?;

    let permitted = to_caps(caps.permitted().as_ref())?;
    let effective = to_caps(caps.effective().as_ref())?;
    let inheritable = to_caps(caps.inheritable().as_ref())?;
    let ambient = to_caps(caps.ambient().as_ref())?;
    // The kernel keeps effective ⊆ permitted: shrink effective first.
    caps::set(None, CapSet::Effective, &effective).context("set the effective capabilities")?;
    caps::set(None, CapSet::Permitted, &permitted).context("set the permitted capabilities")?;
    caps::set(None, CapSet::Inheritable, &inheritable)
        .context("set the inheritable capabilities")?;
    caps::clear(None, CapSet::Ambient).context("clear the ambient capabilities")?;
    for cap in ambient {
        caps::raise(None, CapSet::Ambient, cap).with_context(|| format!("raise ambient {cap}"))?;
    }
    let mut names: Vec<String> = bounding
        .iter()
        .map(|c| c.to_string().trim_start_matches("CAP_").to_string())
        .collect();
    names.sort();
    step(
        format!(
            "setresuid({uid}); setresgid({gid}); capabilities {}",
            names.join(",")
        ),
        "root in a container is not root on the host: only the runtime default capabilities",
    );

    if process.no_new_privileges() == Some(true) {
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) takes plain integers and touches no memory.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            bail!(
                "prctl(PR_SET_NO_NEW_PRIVS): {}",
                std::io::Error::last_os_error()
            );
        }
    }
    Ok(())
}

fn to_caps(set: Option<&Capabilities>) -> Result<CapsHashSet> {
    let mut out = CapsHashSet::new();
    for cap in set.into_iter().flatten() {
        let name = format!("CAP_{cap}");
        out.insert(
            Capability::from_str(&name).with_context(|| format!("unknown capability {name}"))?,
        );
    }
    Ok(out)
}

/// Mark every descriptor above stderr close-on-exec, so nothing of ours (a host
/// directory, the pod's records) leaks into the container (CVE-2024-21626).
pub fn close_fds_on_exec() -> Result<()> {
    // SAFETY: close_range(2) takes plain integers; with CLOSE_RANGE_CLOEXEC it only
    // sets flags on descriptors, it closes nothing we still use.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
        )
    };
    if rc != 0 {
        bail!(
            "close_range(3, ~0, CLOSE_RANGE_CLOEXEC): {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// The working directory, checked to be inside the container (it is: we are past
/// pivot_root and hold no host directory descriptor).
pub fn enter_cwd(cwd: &Path) -> Result<()> {
    nix::unistd::chdir(cwd)
        .with_context(|| format!("chdir to the working directory {}", cwd.display()))?;
    let now = std::env::current_dir().context("getcwd")?;
    if !now.is_absolute() {
        bail!(
            "working directory {} is outside the container",
            cwd.display()
        );
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
    bail!("exec: \"{program}\": executable file not found in $PATH")
}

/// Replace this process with the container's program.
pub fn exec(args: &[String], env: &[String]) -> Result<std::convert::Infallible> {
    let Some(program) = args.first() else {
        bail!("the container has no command: neither the image nor the manifest gives one");
    };
    let path = find_executable(program, env)?;
    let c_path = CString::new(path.as_os_str().as_encoded_bytes())
        .with_context(|| format!("program path {}", path.display()))?;
    let c_args = args
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .context("an argument contains a NUL byte")?;
    let c_env = env
        .iter()
        .map(|e| CString::new(e.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .context("an environment variable contains a NUL byte")?;
    step(
        format!("execve({})", shell_words(args)),
        "the container's program replaces minipod's code in this process",
    );
    nix::unistd::execve(&c_path, &c_args, &c_env)
        .with_context(|| format!("exec {}", path.display()))
}

/// Arguments quoted as a reader expects: `"nginx", "-g", "daemon off;"`.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

//! Seccomp profiles in the JSON format Docker, containerd and kubelet's `Localhost`
//! profiles use (a superset of the OCI spec's `linux.seccomp`), and their translation
//! into the OCI section for one container: rules that name capabilities
//! (`includes.caps`, `excludes.caps`) or architectures are kept or dropped against
//! what the container holds and the machine it runs on.

use super::Choice;
use anyhow::{Context, Result};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompBuilder,
    LinuxSeccompFilterFlag, LinuxSyscall, LinuxSyscallBuilder,
};
use serde::Deserialize;
use std::path::Path;

/// minipod's RuntimeDefault profile, as data (`default.json` beside this file).
const RUNTIME_DEFAULT: &str = include_str!("default.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub default_action: LinuxSeccompAction,
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    /// OCI style: the architectures the filter covers.
    #[serde(default)]
    pub architectures: Vec<Arch>,
    /// Docker style: per native architecture, the ones it also runs.
    #[serde(default)]
    pub arch_map: Vec<ArchMap>,
    #[serde(default)]
    pub flags: Vec<LinuxSeccompFilterFlag>,
    #[serde(default)]
    pub syscalls: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMap {
    pub architecture: Arch,
    #[serde(default)]
    pub sub_architectures: Vec<Arch>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub names: Vec<String>,
    /// The older one-name form.
    #[serde(default)]
    pub name: Option<String>,
    pub action: LinuxSeccompAction,
    #[serde(default)]
    pub errno_ret: Option<u32>,
    #[serde(default)]
    pub args: Vec<LinuxSeccompArg>,
    #[serde(default)]
    pub includes: Condition,
    #[serde(default)]
    pub excludes: Condition,
}

/// When a rule applies: `includes` needs all its caps and one of its arches,
/// `excludes` drops the rule on any of its caps or arches.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(default)]
    pub caps: Vec<String>,
    #[serde(default)]
    pub arches: Vec<String>,
}

/// The machine's architecture as seccomp and Go (Docker's `arches`) name it.
fn native() -> (Arch, &'static str) {
    if cfg!(target_arch = "aarch64") {
        (Arch::ScmpArchAarch64, "arm64")
    } else {
        (Arch::ScmpArchX86_64, "amd64")
    }
}

pub fn runtime_default() -> Result<Profile> {
    serde_json::from_str(RUNTIME_DEFAULT).context("minipod's built-in RuntimeDefault profile")
}

/// A `Localhost` profile file.
pub fn read_file(path: &Path) -> Result<Profile> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot load seccomp profile {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("seccomp profile {} is not a valid profile", path.display()))
}

/// The OCI `linux.seccomp` section for a container holding `caps` (`CAP_...` names);
/// `None` for Unconfined.
pub fn oci_section(choice: &Choice, caps: &[String]) -> Result<Option<LinuxSeccomp>> {
    let profile = match choice {
        Choice::Unconfined => return Ok(None),
        Choice::RuntimeDefault => runtime_default()?,
        Choice::Localhost { path, .. } => read_file(path)?,
    };
    to_oci(&profile, caps).map(Some)
}

pub fn to_oci(profile: &Profile, caps: &[String]) -> Result<LinuxSeccomp> {
    let (arch, go_arch) = native();
    let architectures = match profile.arch_map.iter().find(|m| m.architecture == arch) {
        Some(m) => [vec![m.architecture], m.sub_architectures.clone()].concat(),
        None if profile.arch_map.is_empty() => profile.architectures.clone(),
        None => vec![arch],
    };
    let applies = |rule: &Rule| {
        let inc = &rule.includes;
        let exc = &rule.excludes;
        inc.caps.iter().all(|c| caps.contains(c))
            && (inc.arches.is_empty() || inc.arches.iter().any(|a| a == go_arch))
            && !exc.caps.iter().any(|c| caps.contains(c))
            && !exc.arches.iter().any(|a| a == go_arch)
    };
    let mut syscalls: Vec<LinuxSyscall> = Vec::new();
    for rule in profile.syscalls.iter().filter(|r| applies(r)) {
        let names: Vec<String> = rule
            .names
            .iter()
            .cloned()
            .chain(rule.name.clone())
            .collect();
        let mut b = LinuxSyscallBuilder::default()
            .names(names)
            .action(rule.action);
        if let Some(errno) = rule.errno_ret {
            b = b.errno_ret(errno);
        }
        if !rule.args.is_empty() {
            b = b.args(rule.args.clone());
        }
        syscalls.push(b.build().context("a seccomp rule")?);
    }
    let mut b = LinuxSeccompBuilder::default()
        .default_action(profile.default_action)
        .syscalls(syscalls);
    if let Some(errno) = profile.default_errno_ret {
        b = b.default_errno_ret(errno);
    }
    if !architectures.is_empty() {
        b = b.architectures(architectures);
    }
    if !profile.flags.is_empty() {
        b = b.flags(profile.flags.clone());
    }
    b.build().context("the seccomp section of the spec")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_for<'a>(s: &'a LinuxSeccomp, name: &str) -> Vec<&'a LinuxSyscall> {
        s.syscalls()
            .iter()
            .flatten()
            .filter(|r| r.names().iter().any(|n| n == name))
            .collect()
    }

    #[test]
    fn runtime_default_refuses_namespaces_unless_cap_sys_admin() {
        let default = runtime_default().unwrap();
        let caps = vec!["CAP_CHOWN".to_string(), "CAP_MKNOD".to_string()];
        let s = to_oci(&default, &caps).unwrap();
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(s.default_errno_ret(), Some(1));
        for refused in [
            "unshare", "mount", "keyctl", "add_key", "bpf", "setns", "ptrace",
        ] {
            assert!(rules_for(&s, refused).is_empty(), "{refused} is allowed");
        }
        // clone only without namespace flags; clone3 answers ENOSYS.
        let clone = rules_for(&s, "clone");
        assert_eq!(clone.len(), 1);
        assert!(clone[0].args().is_some());
        let clone3 = rules_for(&s, "clone3");
        assert_eq!(clone3[0].errno_ret(), Some(38));
        assert!(!rules_for(&s, "execve").is_empty());

        let admin = to_oci(&default, &["CAP_SYS_ADMIN".to_string()]).unwrap();
        assert!(!rules_for(&admin, "unshare").is_empty());
        let clone = rules_for(&admin, "clone");
        assert!(clone.iter().all(|r| r.args().is_none()));
    }

    #[test]
    fn the_architectures_come_from_the_arch_map() {
        let s = to_oci(&runtime_default().unwrap(), &[]).unwrap();
        let arches = s.architectures().clone().unwrap_or_default();
        assert_eq!(arches.first(), Some(&native().0));
        assert!(arches.len() > 1);
    }

    #[test]
    fn an_oci_style_profile_reads_too() {
        let p: Profile = serde_json::from_str(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
                "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
        )
        .unwrap();
        let s = to_oci(&p, &[]).unwrap();
        assert_eq!(rules_for(&s, "mkdir")[0].errno_ret(), Some(13));
    }
}

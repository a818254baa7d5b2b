//! seccomp: the OCI spec's `linux.seccomp` compiled into the kernel's syscall filter
//! (a classic BPF program run on every system call the container makes) and loaded
//! into the container's first process just before it becomes the container's program.
//!
//! libseccomp does the compiling (as in runc, crun and youki): it knows every
//! architecture's syscall numbers, checks the architecture first, and gives each rule
//! its own action (Firecracker's pure-Rust `seccompiler` has one action per filter and
//! cannot say "clone3 → ENOSYS" beside "allow the rest").
//!
//! Compiling costs milliseconds (hundreds of rules, each for three architectures);
//! loading is one system call. So the caller compiles each distinct profile once
//! ([`Programs`], in the pod's supervisor) and hands the stage the finished BPF
//! program ([`Program`]), which it only loads.
//!
//! The kernel forces the order: installing a filter needs either no_new_privs or
//! CAP_SYS_ADMIN. A container without no_new_privs therefore gets its filter *before*
//! its capabilities are dropped, and everything our init does after that (setresuid,
//! capset, chdir, execve) must be allowed by the profile; with no_new_privs the filter
//! is loaded last, right before execve.

mod cache;
mod program;

pub use cache::{save, saved_or_compiled, Programs};
pub use program::Program;

use anyhow::{bail, Context, Result};
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator, Process};

/// EPERM, the errno of an ERRNO action that names none (runc's default).
const DEFAULT_ERRNO: u32 = libc::EPERM as u32;

/// Become the process's user with its capabilities (`become_user`), the filter loaded
/// at the point the kernel allows: without no_new_privs installing a filter needs
/// CAP_SYS_ADMIN, so before the capabilities go; with no_new_privs, after, as late
/// as possible (youki's order).
pub fn load_around(
    filter: Option<&Program>,
    process: &Process,
    become_user: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let no_new_privs = process.no_new_privileges() == Some(true);
    if let Some(f) = filter.filter(|_| !no_new_privs) {
        f.load()?;
    }
    become_user()?;
    if let Some(f) = filter.filter(|_| no_new_privs) {
        f.load()?;
    }
    Ok(())
}

/// The spec's names of the actions `compile` accepts (what `features` reports).
pub fn supported_actions() -> Vec<String> {
    use LinuxSeccompAction as A;
    [
        A::ScmpActKill,
        A::ScmpActKillProcess,
        A::ScmpActKillThread,
        A::ScmpActTrap,
        A::ScmpActErrno,
        A::ScmpActTrace,
        A::ScmpActAllow,
        A::ScmpActLog,
        A::ScmpActNotify,
    ]
    .into_iter()
    .filter(|a| action(*a, None).is_ok())
    .filter_map(|a| serde_json::to_value(a).ok())
    .filter_map(|v| v.as_str().map(str::to_string))
    .collect()
}

/// The spec's names of the argument operators `compile` accepts (all of them).
pub fn supported_operators() -> Vec<String> {
    use LinuxSeccompOperator as O;
    [
        O::ScmpCmpNe,
        O::ScmpCmpLt,
        O::ScmpCmpLe,
        O::ScmpCmpEq,
        O::ScmpCmpGe,
        O::ScmpCmpGt,
        O::ScmpCmpMaskedEq,
    ]
    .into_iter()
    .filter_map(|o| serde_json::to_value(o).ok())
    .filter_map(|v| v.as_str().map(str::to_string))
    .collect()
}

/// The profile compiled by libseccomp and exported as the kernel's BPF program.
pub fn compile(seccomp: &LinuxSeccomp) -> Result<Program> {
    let default_errno = seccomp.default_errno_ret().unwrap_or(DEFAULT_ERRNO);
    let default = action(seccomp.default_action(), Some(default_errno))?;
    let mut context =
        ScmpFilterContext::new(default).context("seccomp: create the filter context")?;
    // We set no_new_privs ourselves when the spec asks for it; libseccomp would set it
    // on every load otherwise, and setuid programs in the container would stop working.
    context
        .set_ctl_nnp(false)
        .context("seccomp: leave no_new_privs to the spec")?;
    for arch in seccomp.architectures().iter().flatten() {
        context
            .add_arch(scmp_arch(*arch)?)
            .with_context(|| format!("seccomp: add architecture {arch:?}"))?;
    }
    let mut rules = 0;
    let mut unknown = 0;
    for rule in seccomp.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret().or(Some(DEFAULT_ERRNO)))?;
        if act == default {
            // libseccomp refuses a rule that changes nothing.
            continue;
        }
        let conditions = rule
            .args()
            .iter()
            .flatten()
            .map(|a| {
                let op = match a.op() {
                    LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
                    LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
                    LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
                    LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
                    LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
                    LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
                    // OCI: value is the mask, valueTwo the value the masked bits must equal.
                    LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpCompareOp::MaskedEqual(a.value()),
                };
                let datum = match a.op() {
                    LinuxSeccompOperator::ScmpCmpMaskedEq => a.value_two().unwrap_or(0),
                    _ => a.value(),
                };
                let index = u32::try_from(a.index())
                    .ok()
                    .filter(|i| *i < 6)
                    .with_context(|| format!("seccomp: argument index {} (0 to 5)", a.index()))?;
                Ok(ScmpArgCompare::new(index, op, datum))
            })
            .collect::<Result<Vec<_>>>()?;
        for name in rule.names() {
            let Ok(syscall) = ScmpSyscall::from_name(name) else {
                unknown += 1;
                continue;
            };
            context
                .add_rule_conditional(act, syscall, &conditions)
                .with_context(|| format!("seccomp: rule for {name}"))?;
            rules += 1;
        }
    }
    Program::export(
        &context,
        rules,
        unknown,
        describe(seccomp.default_action(), default_errno),
    )
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction> {
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => {
            let errno = errno.unwrap_or(DEFAULT_ERRNO);
            ScmpAction::Errno(i32::try_from(errno).context("seccomp: errnoRet out of range")?)
        }
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(
            u16::try_from(errno.unwrap_or(0)).context("seccomp: trace value out of range")?,
        ),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => {
            bail!("seccomp: SCMP_ACT_NOTIFY needs a listener, which minipod does not run")
        }
    })
}

/// `ERRNO(EPERM)`, `ALLOW`, as a reader knows them.
fn describe(a: LinuxSeccompAction, errno: u32) -> String {
    let name = a.to_string().trim_start_matches("SCMP_ACT_").to_string();
    if a == LinuxSeccompAction::ScmpActErrno {
        let errno_name = match i32::try_from(errno) {
            Ok(libc::EPERM) => "EPERM".to_string(),
            Ok(libc::ENOSYS) => "ENOSYS".to_string(),
            Ok(libc::EACCES) => "EACCES".to_string(),
            _ => errno.to_string(),
        };
        format!("{name}({errno_name})")
    } else {
        name
    }
}

fn scmp_arch(arch: Arch) -> Result<ScmpArch> {
    Ok(match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        other => bail!("seccomp: architecture {other:?} is not supported by minipod"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxSeccompArgBuilder, LinuxSeccompBuilder, LinuxSyscallBuilder};

    fn profile() -> LinuxSeccomp {
        LinuxSeccompBuilder::default()
            .default_action(LinuxSeccompAction::ScmpActAllow)
            .architectures(vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86])
            .syscalls(vec![
                LinuxSyscallBuilder::default()
                    .names(vec!["mkdir".to_string(), "no_such_call".to_string()])
                    .action(LinuxSeccompAction::ScmpActErrno)
                    .build()
                    .unwrap(),
                LinuxSyscallBuilder::default()
                    .names(vec!["clone".to_string()])
                    .action(LinuxSeccompAction::ScmpActErrno)
                    .errno_ret(38u32)
                    .args(vec![LinuxSeccompArgBuilder::default()
                        .index(0usize)
                        .value(0x7E02_0000u64)
                        .value_two(0x1000_0000u64)
                        .op(LinuxSeccompOperator::ScmpCmpMaskedEq)
                        .build()
                        .unwrap()])
                    .build()
                    .unwrap(),
            ])
            .build()
            .unwrap()
    }

    #[test]
    fn rules_compile_and_unknown_names_are_skipped() {
        let program = compile(&profile()).unwrap();
        let told = program.to_string();
        // x86_64 and x86 each check the architecture, then the rules: dozens of
        // instructions, and the narration says what it has.
        assert!(program.instructions_count() > 10, "{told}");
        assert_eq!(
            told,
            format!(
                "2 rules, default ALLOW, {} BPF instructions (1 names unknown to libseccomp here skipped)",
                program.instructions_count()
            )
        );
    }

    #[test]
    fn each_profile_is_compiled_once() {
        let mut programs = Programs::default();
        let first = programs.for_profile(&profile()).unwrap();
        let again = programs.for_profile(&profile()).unwrap();
        assert_eq!(first, again);
        assert_eq!(programs.compiled(), 1);
        let mut other = profile();
        other.set_default_action(LinuxSeccompAction::ScmpActErrno);
        let other = programs.for_profile(&other).unwrap();
        assert_ne!(other, first);
        assert_eq!(programs.compiled(), 2);
    }

    #[test]
    fn a_saved_program_is_used_only_for_its_own_profile() {
        let bundle =
            std::env::temp_dir().join(format!("minipod-seccomp-saved-{}", std::process::id()));
        std::fs::create_dir_all(&bundle).unwrap();
        let program = compile(&profile()).unwrap();
        save(&bundle, &profile(), &program).unwrap();
        assert_eq!(saved_or_compiled(&bundle, &profile()).unwrap(), program);
        // Another profile (the bundle's config.json changed): compiled from it.
        let mut other = profile();
        other.set_default_action(LinuxSeccompAction::ScmpActErrno);
        let from_other = saved_or_compiled(&bundle, &other).unwrap();
        assert_eq!(from_other, compile(&other).unwrap());
        assert_ne!(from_other, program);
        // A damaged file: compiled again, not trusted.
        std::fs::write(bundle.join("seccomp.json"), b"{\"profile\": 1").unwrap();
        assert_eq!(saved_or_compiled(&bundle, &profile()).unwrap(), program);
        std::fs::remove_dir_all(&bundle).unwrap();
    }

    #[test]
    fn a_program_compiled_once_takes_effect_in_a_child_process() {
        // Compiled once here (the supervisor's part), carried as the stage gets it
        // (JSON over the channel), loaded in a forked child (not a thread of the test
        // harness), which reports what mkdir and clone(CLONE_NEWUSER) answered.
        let mut programs = Programs::default();
        let compiled = programs.for_profile(&profile()).unwrap();
        let carried: Program =
            serde_json::from_slice(&serde_json::to_vec(&compiled).unwrap()).unwrap();
        let dir = std::env::temp_dir().join(format!("minipod-seccomp-{}", std::process::id()));
        // SAFETY: the child only makes raw syscalls and _exits.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                // The test process may not hold CAP_SYS_ADMIN in every environment.
                let _ = nix::sys::prctl::set_no_new_privs();
                let code = if carried.load_here().is_err() {
                    10
                } else {
                    let c = std::ffi::CString::new(dir.to_str().unwrap_or("/x")).unwrap();
                    // SAFETY: mkdir with a valid C string.
                    let mkdir = unsafe { libc::mkdir(c.as_ptr(), 0o700) };
                    let mkdir_errno = std::io::Error::last_os_error().raw_os_error();
                    // SAFETY: clone is tested through the raw syscall with a null
                    // stack: the filter answers ENOSYS before the kernel looks.
                    let clone = unsafe {
                        libc::syscall(
                            libc::SYS_clone,
                            libc::CLONE_NEWUSER as libc::c_ulong,
                            0,
                            0,
                            0,
                            0,
                        )
                    };
                    let clone_errno = std::io::Error::last_os_error().raw_os_error();
                    // What the profile does not name is allowed.
                    let pid = std::process::id();
                    if mkdir == -1
                        && mkdir_errno == Some(libc::EPERM)
                        && clone == -1
                        && clone_errno == Some(libc::ENOSYS)
                        && pid > 0
                    {
                        0
                    } else {
                        11
                    }
                };
                // SAFETY: end the child without the harness's cleanup.
                unsafe { libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                let created = dir.exists();
                let _ = std::fs::remove_dir(&dir);
                assert!(!created, "mkdir went through the filter");
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }

    #[test]
    fn a_damaged_program_is_refused_before_the_kernel_sees_it() {
        let mut program: serde_json::Value =
            serde_json::to_value(compile(&profile()).unwrap()).unwrap();
        // One byte short of whole instructions.
        let hex = program["bytes"].as_str().unwrap();
        program["bytes"] = serde_json::Value::from(&hex[..hex.len() - 2]);
        let program: Program = serde_json::from_value(program).unwrap();
        assert_eq!(program.load_here(), Err(nix::errno::Errno::EINVAL));
    }
}

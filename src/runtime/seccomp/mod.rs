//! seccomp: the OCI spec's `linux.seccomp` compiled into the kernel's syscall filter
//! (a classic BPF program run on every system call the container makes) and loaded
//! into the container's first process just before it becomes the container's program.
//!
//! libseccomp does the compiling (as in runc, crun and youki): it knows every
//! architecture's syscall numbers, checks the architecture first, and gives each rule
//! its own action (Firecracker's pure-Rust `seccompiler` has one action per filter and
//! cannot say "clone3 → ENOSYS" beside "allow the rest").
//!
//! The kernel forces the order: installing a filter needs either no_new_privs or
//! CAP_SYS_ADMIN. A container without no_new_privs therefore gets its filter *before*
//! its capabilities are dropped, and everything our init does after that (setresuid,
//! capset, chdir, execve) must be allowed by the profile; with no_new_privs the filter
//! is loaded last, right before execve.

use crate::runtime::kernel::kernel;
use anyhow::{bail, Context, Result};
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use nix::errno::Errno;
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator, Process, Spec,
};

/// EPERM, the errno of an ERRNO action that names none (runc's default).
const DEFAULT_ERRNO: u32 = libc::EPERM as u32;

/// A filter compiled from the spec, not yet loaded.
pub struct Filter {
    context: ScmpFilterContext,
    /// How many (syscall, rule) pairs were added.
    rules: usize,
    /// Names this libseccomp does not know on this machine (skipped, as runc does).
    unknown: usize,
    default_action: String,
}

/// The spec's filter, or `None` when the container runs unconfined.
pub fn from_spec(spec: &Spec) -> Result<Option<Filter>> {
    match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(seccomp) => compile(seccomp).map(Some),
        None => Ok(None),
    }
}

/// Become the process's user with its capabilities (`become_user`), the filter loaded
/// at the point the kernel allows: without no_new_privs installing a filter needs
/// CAP_SYS_ADMIN, so before the capabilities go; with no_new_privs, after, as late
/// as possible (youki's order).
pub fn load_around(
    filter: Option<&Filter>,
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

pub fn compile(seccomp: &LinuxSeccomp) -> Result<Filter> {
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
    Ok(Filter {
        context,
        rules,
        unknown,
        default_action: describe(seccomp.default_action(), default_errno),
    })
}

impl Filter {
    /// Install the filter on this process (inherited by the program it execs), through
    /// the kernel seam, which narrates it.
    pub fn load(&self) -> Result<()> {
        kernel()
            .seccomp(
                self,
                "what the container may ask of the kernel: every other call fails",
            )
            .with_context(|| format!("seccomp(SECCOMP_SET_MODE_FILTER): load {self}"))?;
        Ok(())
    }

    /// The load itself (the seam's Linux arm): libseccomp turns the rules into a BPF
    /// program and calls seccomp(2) with it.
    pub(in crate::runtime) fn load_here(&self) -> nix::Result<()> {
        self.context.load().map_err(|err| {
            err.sysrawrc()
                .map(|rc| Errno::from_raw(rc.saturating_abs()))
                .unwrap_or(Errno::EINVAL)
        })
    }
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Filter({self})")
    }
}

/// `360 rules, default ERRNO(EPERM)`: what the narration says of a filter.
impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rules, default {}", self.rules, self.default_action)?;
        if self.unknown > 0 {
            write!(
                f,
                " ({} names unknown to libseccomp here skipped)",
                self.unknown
            )?;
        }
        Ok(())
    }
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
        let f = compile(&profile()).unwrap();
        assert_eq!(f.rules, 2);
        assert_eq!(f.unknown, 1);
        assert_eq!(f.default_action, "ALLOW");
        let file = std::fs::File::create("/dev/null").unwrap();
        f.context.export_bpf(&file).unwrap();
    }

    #[test]
    fn a_filter_takes_effect_in_a_child_process() {
        // A forked child (not a thread of the test harness) loads the filter and
        // reports what mkdir and clone(CLONE_NEWUSER) answered in its exit code.
        let f = compile(&profile()).unwrap();
        let dir = std::env::temp_dir().join(format!("minipod-seccomp-{}", std::process::id()));
        // SAFETY: the child only makes raw syscalls and _exits.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                // The test process may not hold CAP_SYS_ADMIN in every environment.
                let _ = nix::sys::prctl::set_no_new_privs();
                let code = if f.context.load().is_err() {
                    10
                } else {
                    let c = std::ffi::CString::new(dir.to_str().unwrap_or("/x")).unwrap();
                    // SAFETY: mkdir with a valid C string.
                    let mkdir = unsafe { libc::mkdir(c.as_ptr(), 0o700) };
                    let mkdir_errno = std::io::Error::last_os_error().raw_os_error();
                    // SAFETY: unshare(CLONE_NEWUSER) is not filtered; clone is
                    // tested through the raw syscall with a null stack: ENOSYS first.
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
                    if mkdir == -1
                        && mkdir_errno == Some(libc::EPERM)
                        && clone == -1
                        && clone_errno == Some(libc::ENOSYS)
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
                let _ = std::fs::remove_dir(&dir);
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }
}

//! The closing sequence of every process that becomes a container's program — a
//! container's first process and every command `exec` runs in one (CLI, probes,
//! hooks) — written once. The kernel forces the order: the rlimits, the seccomp filter around the
//! drop of privileges (see `seccomp::load_around`), the user and capabilities while
//! we may still change them, the working directory checked inside the container,
//! every descriptor of ours marked close-on-exec, then `execve`.

use super::error::Error;
use super::{process, seccomp};
use oci_spec::runtime::Process;

/// Become the spec's user with its capabilities (and the container's seccomp filter,
/// if it has one), in its working directory, and exec `argv` with the spec's
/// environment.
pub fn become_program(
    spec: &Process,
    filter: Option<&seccomp::Program>,
    argv: &[String],
    keep_fds: u32,
) -> Result<std::convert::Infallible, Error> {
    // While we may still lower (or, with CAP_SYS_RESOURCE, raise) them.
    process::set_rlimits(spec)?;
    seccomp::load_around(filter, spec, || {
        Ok(process::set_user_and_capabilities(spec)?)
    })?;
    process::enter_cwd(spec.cwd())?;
    process::close_fds_on_exec(keep_fds)?;
    // minipod runs with SIGPIPE ignored (Rust's default); an ignored signal stays
    // ignored across execve, and the container's program expects the default.
    // SAFETY: signal(2) with SIG_DFL installs no handler.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let env = spec.env().clone().unwrap_or_default();
    Ok(process::exec(argv, &env)?)
}

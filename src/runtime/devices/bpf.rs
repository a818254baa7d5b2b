//! The two bpf(2) calls a cgroup v2 device filter needs: load the program, attach it
//! to the container's cgroup. No crate wraps them without pulling in a BPF toolchain;
//! the attributes are laid out as the kernel's `union bpf_attr` members.

use super::program::Insn;
use anyhow::{bail, Context, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Several programs on one cgroup and its ancestors all run (runc and systemd use it).
const BPF_F_ALLOW_MULTI: u32 = 2;

/// `union bpf_attr` for BPF_PROG_LOAD, up to `expected_attach_type`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` for BPF_PROG_ATTACH.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> std::io::Result<libc::c_long> {
    // SAFETY: `attr` is a #[repr(C)] prefix of `union bpf_attr` for `cmd`, valid for
    // the size we pass; the kernel reads (and for logs writes) only within it and the
    // buffers it points to, which outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Load the program; on a refusal, the verifier's log says why.
pub fn load(prog: &[Insn]) -> Result<OwnedFd> {
    let license = c"Apache-2.0";
    let mut name = [0u8; 16];
    name[..15].copy_from_slice(b"minipod_devices");
    let attr = |log: &mut Vec<u8>, level: u32| ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: level,
        log_size: log.len() as u32,
        log_buf: if level > 0 {
            log.as_mut_ptr() as u64
        } else {
            0
        },
        prog_name: name,
        ..Default::default()
    };
    let mut no_log = Vec::new();
    let fd = match bpf(BPF_PROG_LOAD, &mut attr(&mut no_log, 0)) {
        Ok(fd) => fd,
        Err(first) => {
            let mut log = vec![0u8; 64 * 1024];
            let retry = bpf(BPF_PROG_LOAD, &mut attr(&mut log, 1));
            let text = String::from_utf8_lossy(&log);
            let text = text.trim_end_matches('\0').trim();
            bail!(
                "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, {} insns): {}{}",
                prog.len(),
                retry.err().unwrap_or(first),
                if text.is_empty() {
                    String::new()
                } else {
                    format!("; verifier: {text}")
                }
            );
        }
    };
    let fd = i32::try_from(fd).context("bpf returned an impossible fd")?;
    // SAFETY: BPF_PROG_LOAD returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Attach a loaded device program to the cgroup directory `dir`.
pub fn attach(program: &OwnedFd, dir: &Path) -> Result<()> {
    let cgroup =
        std::fs::File::open(dir).with_context(|| format!("open cgroup {}", dir.display()))?;
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: program.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).with_context(|| {
        format!(
            "bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) to {}",
            dir.display()
        )
    })?;
    Ok(())
}

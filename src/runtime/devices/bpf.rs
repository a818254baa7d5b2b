//! The two bpf(2) calls a cgroup v2 device filter needs: load the program, attach it
//! to the container's cgroup (made through the kernel seam: these are its Linux arms). No crate wraps them without pulling in a BPF toolchain;
//! the attributes are laid out as the kernel's `union bpf_attr` members.

use super::program::Insn;
use nix::errno::Errno;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

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

fn load_attr(prog: &[Insn], log: &mut [u8], level: u32) -> ProgLoadAttr {
    let mut name = [0u8; 16];
    name[..15].copy_from_slice(b"minipod_devices");
    ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(prog.len()).unwrap_or(u32::MAX),
        insns: prog.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        log_level: level,
        log_size: u32::try_from(log.len()).unwrap_or(0),
        log_buf: if level > 0 {
            log.as_mut_ptr() as u64
        } else {
            0
        },
        prog_name: name,
        ..Default::default()
    }
}

const LICENSE: &std::ffi::CStr = c"Apache-2.0";

/// bpf(BPF_PROG_LOAD): the kernel seam's Linux arm (called through
/// `kernel().bpf_prog_load`, which narrates it).
pub(in crate::runtime) fn load(prog: &[Insn]) -> nix::Result<OwnedFd> {
    let rc = bpf(BPF_PROG_LOAD, &mut load_attr(prog, &mut [], 0))
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL)))?;
    let fd = i32::try_from(rc).map_err(|_| Errno::EBADF)?;
    // SAFETY: BPF_PROG_LOAD returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// After a refused load: the same load again with the verifier's log, to say why.
/// (A diagnostic only: it fails as the first did, nothing is loaded.)
pub fn verifier_log(prog: &[Insn]) -> String {
    let mut log = vec![0u8; 64 * 1024];
    let _ = bpf(BPF_PROG_LOAD, &mut load_attr(prog, &mut log, 1));
    let text = String::from_utf8_lossy(&log);
    text.trim_end_matches('\0').trim().to_string()
}

/// bpf(BPF_PROG_ATTACH) of a device program to an open cgroup directory: the kernel
/// seam's Linux arm.
pub(in crate::runtime) fn attach(
    program: BorrowedFd<'_>,
    cgroup: BorrowedFd<'_>,
) -> nix::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: program.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr)
        .map(drop)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL)))
}

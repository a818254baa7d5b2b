//! The compiled filter: the classic BPF program libseccomp generates from a profile
//! (`struct sock_filter[]`, 8 bytes an instruction), exported once by the caller and
//! carried to the stage as bytes. The stage only hands it to the kernel:
//! `seccomp(SECCOMP_SET_MODE_FILTER, 0, &sock_fprog)`, one system call.
//!
//! The program is whole: libseccomp's architecture check (kill a process that calls
//! in as an architecture the profile does not name) is its first instructions.

use crate::runtime::kernel::kernel;
use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek};
use std::os::fd::AsFd;

/// Bytes of one `struct sock_filter` (u16 code, u8 jt, u8 jf, u32 k).
const INSN_BYTES: usize = std::mem::size_of::<libc::sock_filter>();
/// The kernel's limit on a classic BPF program (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;
/// seccomp(2) flags: none. libseccomp's own load used none either (no TSYNC: the
/// process is single-threaded; no LOG; no SPEC_ALLOW).
const FLAGS: libc::c_uint = 0;

/// A filter compiled from a profile, ready to load.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// The `struct sock_filter` array, in this machine's byte order; in hex on the
    /// wire (half the size of a JSON array of numbers: the job is one datagram).
    #[serde(with = "hex_bytes")]
    bytes: Vec<u8>,
    /// How many (syscall, rule) pairs libseccomp was given.
    rules: usize,
    /// Names this libseccomp does not know on this machine (skipped, as runc does).
    unknown: usize,
    /// `ERRNO(EPERM)`, `ALLOW`: the profile's default action, as a reader knows it.
    default_action: String,
}

impl Program {
    /// What libseccomp generated for `context` (its `seccomp_export_bpf`, through a
    /// memfd: libseccomp 2.5 writes the program to a descriptor, not to memory).
    pub(super) fn export(
        context: &libseccomp::ScmpFilterContext,
        rules: usize,
        unknown: usize,
        default_action: String,
    ) -> Result<Program> {
        let memfd = nix::sys::memfd::memfd_create(
            c"minipod-seccomp-bpf",
            nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
        )
        .context("seccomp: memfd_create for the exported program")?;
        context
            .export_bpf(memfd.as_fd())
            .context("seccomp: export the BPF program")?;
        let mut file = std::fs::File::from(memfd);
        file.rewind()
            .context("seccomp: rewind the exported program")?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .context("seccomp: read the exported program")?;
        let program = Program {
            bytes,
            rules,
            unknown,
            default_action,
        };
        program.check()?;
        Ok(program)
    }

    /// Whole, not empty, within the kernel's limit.
    pub(super) fn check(&self) -> Result<()> {
        self.instructions().map(drop)
    }

    /// The instructions, checked: whole, not empty, within the kernel's limit.
    fn instructions(&self) -> Result<Vec<libc::sock_filter>> {
        let n = self.bytes.len() / INSN_BYTES;
        if !self.bytes.len().is_multiple_of(INSN_BYTES) || n == 0 || n > MAX_INSNS {
            bail!(
                "seccomp: a BPF program of {} bytes is not 1 to {MAX_INSNS} instructions of {INSN_BYTES} bytes",
                self.bytes.len()
            );
        }
        Ok(self
            .bytes
            .chunks_exact(INSN_BYTES)
            .map(|b| libc::sock_filter {
                code: u16::from_ne_bytes([b[0], b[1]]),
                jt: b[2],
                jf: b[3],
                k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            })
            .collect())
    }

    /// How many BPF instructions the kernel runs through (at most) on each call.
    pub fn instructions_count(&self) -> usize {
        self.bytes.len() / INSN_BYTES
    }

    /// Install the program on this process (inherited by the program it execs), through
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

    /// The load itself (the seam's Linux arm).
    pub(in crate::runtime) fn load_here(&self) -> nix::Result<()> {
        let mut filter = self.instructions().map_err(|_| Errno::EINVAL)?;
        let len = u16::try_from(filter.len()).map_err(|_| Errno::EINVAL)?;
        let prog = libc::sock_fprog {
            len,
            filter: filter.as_mut_ptr(),
        };
        // SAFETY: seccomp(2) reads `prog` and the `len` instructions it points to
        // (both alive for the call); it changes nothing in our memory.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                FLAGS,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(Errno::last())
        }
    }
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Program({self})")
    }
}

/// `360 rules, default ERRNO(EPERM), 975 BPF instructions`: what the narration says.
impl std::fmt::Display for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rules, default {}, {} BPF instructions",
            self.rules,
            self.default_action,
            self.instructions_count(),
        )?;
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

/// `Vec<u8>` as a lowercase hex string.
mod hex_bytes {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use std::fmt::Write;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut hex = String::with_capacity(bytes.len().saturating_mul(2));
        for b in bytes {
            // Writing into a String cannot fail.
            let _ = write!(hex, "{b:02x}");
        }
        s.serialize_str(&hex)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let hex = String::deserialize(d)?;
        if hex.len() % 2 != 0 || !hex.is_ascii() {
            return Err(D::Error::custom("seccomp program: odd or non-ASCII hex"));
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| D::Error::custom("seccomp program: not hex"))
            })
            .collect()
    }
}

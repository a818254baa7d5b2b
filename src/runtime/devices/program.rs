//! The cgroup v2 device filter: an eBPF program of type `BPF_PROG_TYPE_CGROUP_DEVICE`,
//! generated from the OCI device rules. The kernel runs it on every open and mknod of
//! a device node by a process of the cgroup, with
//! `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`
//! (`access_type` = access bits << 16 | device type), and allows the access when the
//! program returns 1.
//!
//! The rules are checked last to first, and the first that matches decides: so a later
//! rule overrides an earlier one, as in the cgroup v1 devices controller.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

/// One eBPF instruction, laid out as the kernel's `struct bpf_insn`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Insn {
    pub code: u8,
    /// dst_reg in the low nibble, src_reg in the high one.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

// Opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K: u8 = 0x54; // dst &= imm
const ALU32_RSH_K: u8 = 0x74; // dst >>= imm
const ALU32_MOV_X: u8 = 0xbc; // dst = src
const ALU64_MOV_K: u8 = 0xb7; // dst = imm
const JMP_JNE_K: u8 = 0x55; // if dst != imm goto pc + 1 + off
const EXIT: u8 = 0x95; // return r0

// Registers: r0 the result, r1 the context on entry, r2..r5 our copies of its fields.
const R0: u8 = 0;
const R1: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

// include/uapi/linux/bpf.h
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The access bits of `"rwm"`-style access.
fn access_bits(access: &str) -> i32 {
    access.chars().fold(0, |bits, c| match c {
        'r' => bits | ACC_READ,
        'w' => bits | ACC_WRITE,
        'm' => bits | ACC_MKNOD,
        _ => bits,
    })
}

/// The program for `rules`; a device no rule matches is refused.
pub fn generate(rules: &[LinuxDeviceCgroup]) -> Vec<Insn> {
    let mut prog = vec![
        insn(LDX_MEM_W, TYPE, R1, 0, 0),
        insn(ALU32_AND_K, TYPE, 0, 0, 0xffff),
        insn(LDX_MEM_W, ACCESS, R1, 0, 0),
        insn(ALU32_RSH_K, ACCESS, 0, 0, 16),
        insn(LDX_MEM_W, MAJOR, R1, 4, 0),
        insn(LDX_MEM_W, MINOR, R1, 8, 0),
    ];
    for rule in rules.iter().rev() {
        // Each check jumps past the end of this rule's block when it fails.
        let mut checks: Vec<Insn> = Vec::new();
        match rule.typ().unwrap_or_default() {
            LinuxDeviceType::A => {}
            LinuxDeviceType::B => checks.push(insn(JMP_JNE_K, TYPE, 0, 0, DEV_BLOCK)),
            LinuxDeviceType::C | LinuxDeviceType::U => {
                checks.push(insn(JMP_JNE_K, TYPE, 0, 0, DEV_CHAR))
            }
            // A FIFO is no device: the kernel never asks about it.
            LinuxDeviceType::P => continue,
        }
        let allowed = access_bits(rule.access().as_deref().unwrap_or("rwm"));
        if allowed != ACC_MKNOD | ACC_READ | ACC_WRITE {
            // Every requested bit must be one the rule names.
            checks.push(insn(ALU32_MOV_X, R1, ACCESS, 0, 0));
            checks.push(insn(ALU32_AND_K, R1, 0, 0, !allowed & 7));
            checks.push(insn(JMP_JNE_K, R1, 0, 0, 0));
        }
        for (reg, value) in [(MAJOR, rule.major()), (MINOR, rule.minor())] {
            if let Some(v) = value.filter(|v| *v >= 0) {
                checks.push(insn(JMP_JNE_K, reg, 0, 0, i32::try_from(v).unwrap_or(-1)));
            }
        }
        let unconditional = checks.is_empty();
        let len = checks.len() + 2;
        for (i, check) in checks.iter_mut().enumerate() {
            if check.code == JMP_JNE_K {
                // From the instruction after this one to the one after the block.
                check.off = (len - i - 1) as i16;
            }
        }
        prog.extend(checks);
        prog.push(insn(ALU64_MOV_K, R0, 0, 0, i32::from(rule.allow())));
        prog.push(insn(EXIT, 0, 0, 0, 0));
        if unconditional {
            // Nothing after a rule that matches everything could run, and the
            // verifier refuses unreachable instructions.
            return prog;
        }
    }
    prog.push(insn(ALU64_MOV_K, R0, 0, 0, 0));
    prog.push(insn(EXIT, 0, 0, 0, 0));
    prog
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    /// Run the program as the kernel would, for a test: a tiny interpreter of the
    /// instructions `generate` emits.
    fn run(prog: &[Insn], typ: i32, access: i32, major: u32, minor: u32) -> u64 {
        let ctx = [((access as u32) << 16) | typ as u32, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_MEM_W => r[dst] = ctx[i.off as usize / 4] as u64,
                ALU32_AND_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                ALU32_MOV_X => r[dst] = r[src] as u32 as u64,
                ALU64_MOV_K => r[dst] = i.imm as i64 as u64,
                JMP_JNE_K => {
                    if r[dst] != i.imm as i64 as u64 {
                        pc += i.off as usize;
                    }
                }
                EXIT => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    fn rule(
        allow: bool,
        typ: LinuxDeviceType,
        major: Option<i64>,
        minor: Option<i64>,
        access: &str,
    ) -> LinuxDeviceCgroup {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(allow)
            .typ(typ)
            .access(access);
        if let Some(m) = major {
            b = b.major(m);
        }
        if let Some(m) = minor {
            b = b.minor(m);
        }
        b.build().unwrap()
    }

    #[test]
    fn deny_all_then_allow_a_few() {
        let rules = vec![
            rule(false, LinuxDeviceType::A, None, None, "rwm"),
            rule(true, LinuxDeviceType::C, None, None, "m"),
            rule(true, LinuxDeviceType::C, Some(1), Some(3), "rwm"),
            rule(true, LinuxDeviceType::C, Some(136), None, "rwm"),
        ];
        let p = generate(&rules);
        let rw = ACC_READ | ACC_WRITE;
        assert_eq!(run(&p, DEV_CHAR, rw, 1, 3), 1, "/dev/null opens");
        assert_eq!(run(&p, DEV_CHAR, rw, 1, 11), 0, "/dev/kmsg does not");
        assert_eq!(
            run(&p, DEV_CHAR, ACC_MKNOD, 1, 11),
            1,
            "but its node can be made"
        );
        assert_eq!(
            run(&p, DEV_BLOCK, ACC_MKNOD, 8, 0),
            0,
            "no block mknod rule here"
        );
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 136, 7), 1, "any pts");
        assert_eq!(run(&p, DEV_CHAR, ACC_READ | ACC_MKNOD, 10, 200), 0);
        // The deny-all rule is the last block: no unreachable default after it.
        assert_eq!(p.last().map(|i| i.code), Some(EXIT));
        assert_eq!(p[p.len() - 2].imm, 0);
    }

    #[test]
    fn without_a_catch_all_the_default_refuses() {
        let p = generate(&[rule(true, LinuxDeviceType::C, Some(1), Some(5), "r")]);
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 1, 5), 1);
        assert_eq!(run(&p, DEV_CHAR, ACC_WRITE, 1, 5), 0);
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 1, 6), 0);
    }
}

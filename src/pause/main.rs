//! minipod-pause: the infra ("pause") process of a pod, as small as Kubernetes'
//! pause.c. By the time it runs, the runtime has made the pod's network, IPC and UTS
//! namespaces around it, named the host and brought `lo` up; it only has to stay
//! alive, holding them for the pod's containers to join. The pod's sandbox lives
//! exactly as long as this process. When the pod shares one PID namespace it is PID 1
//! there, and reaps the orphans the kernel hands it. SIGINT or SIGTERM end it.
//!
//! No libc, no std: four system calls made directly, a static ELF of a few kilobytes
//! whose resident memory is a handful of pages. Instead of signal handlers (which
//! would need a signal-return trampoline), the three signals are blocked and taken
//! one at a time with `rt_sigtimedwait`; a blocked signal is queued even for a PID 1
//! that has no handler. Built by build.rs with `-C panic=abort` and linked with
//! `-nostartfiles -nostdlib -static` (it is not a cargo target: cargo cannot give one
//! binary of a package `panic = "abort"`, and a `no_std` program needs it).

#![no_std]
#![no_main]

const SIGINT: u64 = 2;
const SIGTERM: u64 = 15;
const SIGCHLD: u64 = 17;
const SIG_BLOCK: u64 = 0;
const WNOHANG: u64 = 1;
/// The kernel's sigset_t: one bit per signal, 64 signals.
const SIGSET_SIZE: u64 = 8;

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const RT_SIGPROCMASK: u64 = 14;
    pub const WAIT4: u64 = 61;
    pub const RT_SIGTIMEDWAIT: u64 = 128;
    pub const EXIT_GROUP: u64 = 231;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub const EXIT_GROUP: u64 = 94;
    pub const RT_SIGPROCMASK: u64 = 135;
    pub const RT_SIGTIMEDWAIT: u64 = 137;
    pub const WAIT4: u64 = 260;
}

/// A system call with up to four arguments; returns the kernel's result (-errno on
/// failure).
///
/// # Safety
/// The arguments must be valid for the call `n`.
#[cfg(target_arch = "x86_64")]
unsafe fn syscall4(n: u64, a: u64, b: u64, c: u64, d: u64) -> i64 {
    let ret: i64;
    // SAFETY: the caller passes arguments valid for `n`; rcx and r11 are clobbered
    // by the syscall instruction.
    unsafe {
        core::arch::asm!("syscall", inlateout("rax") n as i64 => ret, in("rdi") a, in("rsi") b,
            in("rdx") c, in("r10") d, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// A system call with up to four arguments; returns the kernel's result (-errno on
/// failure).
///
/// # Safety
/// The arguments must be valid for the call `n`.
#[cfg(target_arch = "aarch64")]
unsafe fn syscall4(n: u64, a: u64, b: u64, c: u64, d: u64) -> i64 {
    let ret: i64;
    // SAFETY: the caller passes arguments valid for `n`.
    unsafe {
        core::arch::asm!("svc 0", in("x8") n, inlateout("x0") a as i64 => ret, in("x1") b,
            in("x2") c, in("x3") d, options(nostack));
    }
    ret
}

fn exit(code: u64) -> ! {
    loop {
        // SAFETY: exit_group takes a status and does not return.
        unsafe { syscall4(nr::EXIT_GROUP, code, 0, 0, 0) };
    }
}

/// Reap every child that has exited (zombies re-parented to us when we are PID 1).
fn reap() {
    // SAFETY: wait4 with a null status and rusage is allowed.
    while unsafe { syscall4(nr::WAIT4, u64::MAX, 0, WNOHANG, 0) } > 0 {}
}

/// Block the signals of `set` (a blocked signal waits in the queue for us).
fn block(set: &u64) -> i64 {
    let set = set as *const u64 as u64;
    // SAFETY: `set` points to a sigset of SIGSET_SIZE bytes; no old set is asked for.
    unsafe { syscall4(nr::RT_SIGPROCMASK, SIG_BLOCK, set, 0, SIGSET_SIZE) }
}

/// Sleep until one of the signals of `set` arrives; returns its number (or -errno).
fn wait_for(set: &u64) -> i64 {
    let set = set as *const u64 as u64;
    // SAFETY: as above; no siginfo wanted and no timeout (wait forever).
    unsafe { syscall4(nr::RT_SIGTIMEDWAIT, set, 0, 0, SIGSET_SIZE) }
}

/// The whole program: block the three signals, then take them as they come.
#[no_mangle]
extern "C" fn pause_main() -> ! {
    let set: u64 = (1 << (SIGINT - 1)) | (1 << (SIGTERM - 1)) | (1 << (SIGCHLD - 1));
    if block(&set) < 0 {
        exit(1);
    }
    loop {
        match wait_for(&set) {
            s if s == SIGCHLD as i64 => reap(),
            s if s == SIGINT as i64 || s == SIGTERM as i64 => exit(0),
            // EINTR (stopped and continued): wait again.
            _ => {}
        }
    }
}

// The ELF entry point: a zeroed frame pointer and a 16-byte aligned stack, then the
// program (the kernel's argv, envp and auxv on the stack are not needed).
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor rbp, rbp",
    "and rsp, -16",
    "call pause_main",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, #0",
    "mov x30, #0",
    "bl pause_main",
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(2)
}

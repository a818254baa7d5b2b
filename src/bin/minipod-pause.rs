//! The infra ("pause") process of a pod, in the spirit of Kubernetes' pause.c.
//!
//! By the time this program runs, minipod has already created the pod's network, IPC
//! and UTS namespaces around it, named the host and brought `lo` up. Its only job is
//! to stay alive, holding those namespaces for the pod's containers to join: the pod's
//! sandbox lives exactly as long as this process (when it dies, the supervisor makes a
//! new sandbox, as kubelet does). When the pod shares one PID namespace
//! (`shareProcessNamespace: true`) this is PID 1 there, so it also reaps the orphaned
//! zombies the kernel hands it. SIGTERM or SIGINT end it cleanly.
//!
//! It is a separate, tiny program so that what stays resident per pod is honest.

extern "C" fn stop(_signal: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(0) }
}

extern "C" fn reap(_signal: libc::c_int) {
    // SAFETY: waitpid with WNOHANG is async-signal-safe; a null status is allowed.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
}

fn main() {
    // SAFETY: installing handlers that only call async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGCHLD, reap as *const () as libc::sighandler_t);
    }
    loop {
        // SAFETY: pause(2) takes no arguments; it returns after each handled signal.
        unsafe { libc::pause() };
    }
}

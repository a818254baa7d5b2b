//! Host processes as the tests see them through /proc.

/// The process exists and is not a zombie (state `Z` in `/proc/<pid>/stat`).
pub fn alive(pid: impl std::fmt::Display) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat.is_empty()
        && !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
}

/// SIGKILL `pid` and wait (10 s at most) until it has exited: a crash, as a test
/// makes one.
pub fn kill9(pid: i32) {
    match nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    ) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => panic!("kill -9 {pid}: {e}"),
    }
    for _ in 0..1000 {
        if !std::path::Path::new(&format!("/proc/{pid}/exe")).exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("process {pid} still there 10 s after SIGKILL");
}

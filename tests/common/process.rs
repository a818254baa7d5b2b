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

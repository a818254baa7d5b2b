//! What the supervisor keeps resident once its pod runs.
//!
//! The supervisor is the whole minipod binary, and building a pod runs much of it
//! once: decoding the record, volumes, mounts, the CNI caller, seccomp compiles, the
//! runtime's stages. The kernel maps the code it runs in 64 kB runs around each page
//! touched ("fault-around"), so after start almost all of minipod's text (and glibc's)
//! counted in the supervisor's RSS, although the loop that then watches the pod runs a
//! small part of it. conmon, podman's per-container shim, is a small program that
//! never maps code it does not run.
//!
//! `shed` tells the kernel the supervisor no longer needs those pages mapped: every
//! read-only private file mapping none of whose pages was ever written (text,
//! read-only data of minipod and its libraries) is unmapped page by page with
//! `madvise(MADV_DONTNEED)`. The pages stay in the page cache, shared with every other
//! minipod process; the next use of a function faults its page back in, identical,
//! from the file. A mapping with a private copy of any page (`Anonymous:` > 0 in
//! smaps: the RELRO part that the dynamic loader relocated) is left alone, since
//! dropping it would bring back the unrelocated file contents. Then glibc gives the
//! free heap back to the kernel (`malloc_trim`).

use std::ops::Range;

/// What one `shed` released, in bytes (pages it was mapping, not freed memory: file
/// pages stay cached).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shed {
    pub file_bytes: u64,
    pub mappings: usize,
}

/// Unmap the clean read-only file pages of this process and trim the heap.
pub fn shed() -> Shed {
    let mut shed = Shed::default();
    if let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") {
        for m in droppable(&smaps) {
            let Some(len) = m.range.end.checked_sub(m.range.start) else {
                continue;
            };
            // SAFETY: the range is a whole mapping of this process, read from smaps in
            // this same call: private, not writable, file-backed, and with no page
            // ever copied on write, so every page equals its file page and is faulted
            // back in unchanged on its next use. MADV_DONTNEED changes no content here.
            let rc = unsafe {
                libc::madvise(
                    m.range.start as usize as *mut libc::c_void,
                    len as usize,
                    libc::MADV_DONTNEED,
                )
            };
            if rc == 0 {
                shed.file_bytes = shed.file_bytes.saturating_add(m.rss_bytes);
                shed.mappings += 1;
            }
        }
    }
    trim_heap();
    shed
}

#[cfg(target_env = "gnu")]
fn trim_heap() {
    // SAFETY: malloc_trim only returns free heap memory to the kernel; it takes the
    // allocator's own lock and touches no memory in use.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(target_env = "gnu"))]
fn trim_heap() {}

/// One mapping `shed` may drop, with the resident bytes it had.
#[derive(Debug, PartialEq, Eq)]
struct Droppable {
    range: Range<u64>,
    rss_bytes: u64,
}

/// The mappings of an smaps text that are private, not writable, backed by a file
/// (a path, not `[vdso]` or anonymous), resident, and without any private page.
fn droppable(smaps: &str) -> Vec<Droppable> {
    struct Vma {
        range: Range<u64>,
        candidate: bool,
        rss_kb: u64,
        anonymous_kb: Option<u64>,
    }
    let mut out = Vec::new();
    let finish = |vma: Option<Vma>, out: &mut Vec<Droppable>| {
        if let Some(v) = vma {
            if v.candidate && v.rss_kb > 0 && v.anonymous_kb == Some(0) {
                out.push(Droppable {
                    range: v.range,
                    rss_bytes: v.rss_kb.saturating_mul(1024),
                });
            }
        }
    };
    let mut current: Option<Vma> = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some(key) = first.strip_suffix(':') {
            let Some(v) = current.as_mut() else { continue };
            let kb = fields.next().and_then(|n| n.parse::<u64>().ok());
            match key {
                "Rss" => v.rss_kb = kb.unwrap_or(0),
                "Anonymous" => v.anonymous_kb = kb,
                _ => {}
            }
            continue;
        }
        // A mapping's header: start-end perms offset dev inode [path]
        finish(current.take(), &mut out);
        let range = first.split_once('-').and_then(|(s, e)| {
            let s = u64::from_str_radix(s, 16).ok()?;
            let e = u64::from_str_radix(e, 16).ok()?;
            (s < e).then_some(s..e)
        });
        let perms = fields.next().unwrap_or("");
        let path = fields.nth(3).unwrap_or("");
        let Some(range) = range else { continue };
        let p = perms.as_bytes();
        let candidate =
            p.len() == 4 && p[0] == b'r' && p[1] == b'-' && p[3] == b'p' && path.starts_with('/');
        current = Some(Vma {
            range,
            candidate,
            rss_kb: 0,
            anonymous_kb: None,
        });
    }
    finish(current.take(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0c0000000-55d0c0300000 r--p 00000000 fd:01 1234 /usr/bin/minipod
Rss:                3096 kB
Anonymous:             0 kB
VmFlags: rd mr mw me dw
55d0c0300000-55d0c1200000 r-xp 00300000 fd:01 1234 /usr/bin/minipod
Rss:               15772 kB
Anonymous:             0 kB
55d0c1200000-55d0c1280000 r--p 01200000 fd:01 1234 /usr/bin/minipod
Rss:                 512 kB
Anonymous:           508 kB
55d0c1280000-55d0c1282000 rw-p 01280000 fd:01 1234 /usr/bin/minipod
Rss:                   8 kB
Anonymous:             0 kB
55d0c2000000-55d0c2200000 rw-p 00000000 00:00 0 [heap]
Rss:                1100 kB
Anonymous:          1100 kB
7f0000000000-7f0000100000 r-xp 00028000 fd:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1080 kB
Anonymous:             0 kB
7f0000200000-7f0000210000 r-xp 00000000 fd:01 98 /usr/lib/libnot-resident.so
Rss:                   0 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
Rss:                   4 kB
Anonymous:             0 kB
";

    #[test]
    fn drops_clean_read_only_file_mappings_only() {
        let got = droppable(SMAPS);
        assert_eq!(
            got,
            vec![
                Droppable {
                    range: 0x55d0c0000000..0x55d0c0300000,
                    rss_bytes: 3096 * 1024
                },
                Droppable {
                    range: 0x55d0c0300000..0x55d0c1200000,
                    rss_bytes: 15772 * 1024
                },
                Droppable {
                    range: 0x7f0000000000..0x7f0000100000,
                    rss_bytes: 1080 * 1024
                },
            ],
            "relocated RELRO (private pages), writable data, heap, vdso and \
             non-resident mappings must be kept"
        );
    }

    #[test]
    fn a_mapping_without_an_anonymous_line_is_kept() {
        let smaps =
            "55d0c0300000-55d0c1200000 r-xp 00300000 fd:01 1234 /usr/bin/minipod\nRss: 100 kB\n";
        assert!(droppable(smaps).is_empty());
    }

    #[test]
    fn shedding_releases_mapped_text_and_the_code_still_runs() {
        // This test binary's own code pages are mapped while it runs.
        let rss_before = file_rss_kb();
        let shed = shed();
        assert!(shed.mappings > 0 && shed.file_bytes > 0, "{shed:?}");
        // Code, data and libc fault back in unchanged: formatting, allocation and a
        // relocated table (the Debug impl's vtable) still work.
        let text = format!("{:?}", vec![Some(1u8), None]);
        assert_eq!(text, "[Some(1), None]");
        let rss_after = file_rss_kb();
        assert!(
            rss_after < rss_before,
            "file-backed RSS {rss_before} kB before, {rss_after} kB after"
        );
    }

    fn file_rss_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssFile:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap()
    }
}

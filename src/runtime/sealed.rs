//! The sealed copy of minipod (CVE-2019-5736).
//!
//! A process that joins a container is visible there, and `/proc/PID/exe` of a process
//! is its binary: a process in the container could open minipod's binary on the host
//! through it and, once minipod is gone, write into it. So the process that joins a
//! container never runs the host's binary: it re-executes itself from a file that can
//! not be written, and makes itself non-dumpable before joining anything (which also
//! closes `/proc/PID/{exe,fd,mem,environ}` to the container's root).
//!
//! The file is minipod's own binary seen through a private, read-only, detached bind
//! mount (`open_tree(OPEN_TREE_CLONE)` + `mount_setattr(MOUNT_ATTR_RDONLY)`): it is in
//! no mount table, so nobody can remount it writable, and a write through it fails
//! with EROFS. It costs two syscalls and no copy (minipod's binary is large). Where the
//! kernel lacks those calls (before 5.12) it falls back to what runc does: a copy in a
//! sealed memfd (`F_SEAL_WRITE|SHRINK|GROW|SEAL`). A process opens it once and keeps
//! the descriptor (close-on-exec) for every container it starts or enters. "minipod's
//! binary" is whichever program runs the runtime: `minipod` (exec, `minipod-runc`) or
//! the supervisor's `minipod-shim` (a pod's containers, probes and hooks); each calls
//! `stage::run_if_stage` first, so its sealed copy can be a stage.

use super::kernel::kernel;
use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::OnceLock;

static SEALED: OnceLock<OwnedFd> = OnceLock::new();

/// The sealed copy of this process's binary, made on first use.
pub fn binary() -> Result<&'static OwnedFd> {
    if let Some(fd) = SEALED.get() {
        return Ok(fd);
    }
    let fd = match read_only_view() {
        Ok(fd) => fd,
        Err(view_err) => sealed_memfd().with_context(|| {
            format!("make a sealed copy of minipod (a read-only view failed: {view_err:#})")
        })?,
    };
    // Above the descriptors a stage is given (0, 1, 2 and the channel on 3), so
    // placing those never overwrites it.
    let high = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
        .context("move the sealed copy's descriptor above 10")?;
    // SAFETY: fcntl just returned this new descriptor; nothing else owns it.
    let high = unsafe { OwnedFd::from_raw_fd(high) };
    Ok(SEALED.get_or_init(|| high))
}

/// A detached, read-only bind mount of this process's binary, as an `O_PATH`
/// descriptor. `/proc/self/exe` names the binary as it was found at exec time: after
/// an `unshare(CLONE_NEWNS)` (the supervisor's) that mount is in another namespace,
/// which `open_tree` refuses; then the binary's path, found again in ours, if it is
/// still the very same file.
fn read_only_view() -> Result<OwnedFd> {
    match clone_read_only(Path::new("/proc/self/exe")) {
        Ok(fd) => Ok(fd),
        Err(err) => {
            let path = std::fs::read_link("/proc/self/exe").context("readlink /proc/self/exe")?;
            let ours = std::fs::metadata("/proc/self/exe").context("stat /proc/self/exe")?;
            let found =
                std::fs::metadata(&path).with_context(|| format!("stat {}", path.display()))?;
            if (ours.dev(), ours.ino()) != (found.dev(), found.ino()) {
                return Err(err).context(format!(
                    "{} is no longer the binary this process runs",
                    path.display()
                ));
            }
            clone_read_only(&path)
        }
    }
}

fn clone_read_only(binary: &Path) -> Result<OwnedFd> {
    let fd = kernel()
        .open_tree(
            binary,
            "the sealed copy of minipod: a private view of its binary, in no mount table",
        )
        .with_context(|| format!("open_tree({})", binary.display()))?;
    kernel()
        .mount_setattr(
            fd.as_fd(),
            libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV,
            "the view is read-only: a write through it fails with EROFS",
        )
        .context("mount_setattr(MOUNT_ATTR_RDONLY) on the view of minipod")?;
    Ok(fd)
}

/// runc's way: copy the binary into a memfd and seal it against every change.
fn sealed_memfd() -> Result<OwnedFd> {
    let memfd = kernel()
        .memfd_create(
            c"minipod",
            "the sealed copy of minipod: a memory file, to be sealed once filled",
        )
        .context("memfd_create")?;
    let memfd = std::fs::File::from(memfd);
    let mut exe = std::fs::File::open("/proc/self/exe").context("open /proc/self/exe")?;
    // std::io::copy between files uses copy_file_range/sendfile: no user-space buffer.
    std::io::copy(&mut exe, &mut &memfd).context("copy minipod into the memfd")?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    kernel()
        .add_seals(
            memfd.as_fd(),
            seals,
            "nobody can write, shrink or grow the copy, nor lift the seals",
        )
        .context("F_ADD_SEALS on the memfd")?;
    Ok(OwnedFd::from(memfd))
}

/// Replace this process with the sealed copy (`execveat(fd, "", AT_EMPTY_PATH)`).
pub fn reexec(sealed: &OwnedFd, argv: &[&str]) -> Result<std::convert::Infallible> {
    let args = argv
        .iter()
        .map(|a| CString::new(*a))
        .collect::<Result<Vec<_>, _>>()
        .context("argument with a NUL byte")?;
    let errno = kernel()
        .execveat(
            sealed.as_fd(),
            &args,
            "a runtime stage runs the sealed copy, never the host's binary (CVE-2019-5736)",
        )
        .err()
        .unwrap_or(nix::errno::Errno::ENOEXEC);
    bail!("execveat(the sealed copy of minipod): {errno}")
}

/// First thing a re-executed stage does: nothing of the container may open this
/// process's memory, descriptors or binary (execve made it dumpable again).
pub fn make_non_dumpable() -> Result<()> {
    // The first call of a stage, before its narration has anywhere to go: it is made
    // through the seam all the same, so the call is the one the tests record.
    super::kernel::kernel()
        .prctl(
            super::kernel::Prctl::Dumpable(false),
            "nothing in the container may open this process or its binary (CVE-2019-5736)",
        )
        .map_err(|errno| anyhow::anyhow!("prctl(PR_SET_DUMPABLE, 0): {errno}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mechanism on a file nobody executes (a running binary would answer ETXTBSY
    /// first): through the view, a write is refused; the file itself stays writable.
    #[test]
    fn a_read_only_view_refuses_writes() {
        let path = std::env::temp_dir().join(format!("minipod-sealed-{}", std::process::id()));
        std::fs::write(&path, b"binary").unwrap();
        let view = clone_read_only(&path).expect("open_tree + mount_setattr (needs root)");
        let reopen = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&view));
        let err = std::fs::OpenOptions::new()
            .append(true)
            .open(&reopen)
            .expect_err("a write through the view");
        assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
        assert_eq!(std::fs::read(&reopen).unwrap(), b"binary");
        assert!(std::fs::OpenOptions::new().append(true).open(&path).is_ok());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_sealed_memfd_refuses_writes() {
        let memfd = std::fs::File::from(sealed_memfd().unwrap());
        use std::io::Write;
        assert!((&memfd).write_all(b"x").is_err());
        assert!(memfd.set_len(0).is_err());
    }
}

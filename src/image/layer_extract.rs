//! Safe extraction of one layer tar into its own directory, which later serves as an
//! overlayfs lower layer.
//!
//! We never use `tar::Archive::unpack`: every entry is walked here, its name cleaned,
//! and every file-system call goes through a directory file descriptor that was opened
//! component by component with `O_NOFOLLOW`, starting at the layer root. So nothing is
//! ever written outside the layer directory, whatever the tar says:
//! - a `..` component or an absolute name is refused (we do not "clean" hostile names);
//! - a symlink met as a *parent* component is refused (symlinks themselves are created
//!   verbatim; only following one while extracting is forbidden);
//! - a hardlink must name an existing non-directory inside this layer, reached the same way.
//!
//! Whiteouts become overlayfs whiteouts, because the directory is an overlay lower layer:
//! - `dir/.wh.NAME` → a character device 0:0 named `dir/NAME`;
//! - `dir/.wh..wh..opq` → xattr `trusted.overlay.opaque=y` on `dir` (order does not
//!   matter: this directory only ever holds this layer's own entries).
//!
//! Directories get their mode, owner and mtime after all entries, so a read-only
//! directory in the tar still receives its contents and keeps its mtime.

use anyhow::{bail, Context, Result};
use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{
    fchmod, fchmodat, fstatat, futimens, makedev, mkdirat, mknodat, utimensat, FchmodatFlags, Mode,
    SFlag, UtimensatFlags,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use tar::EntryType;

/// Name prefix of an AUFS/OCI whiteout file.
const WHITEOUT_PREFIX: &str = ".wh.";
/// Marks its directory as opaque: lower layers' contents of it are hidden.
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The overlayfs xattr that makes a directory opaque.
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// An image may not set overlayfs's own xattrs (opaque, redirect, metacopy...).
const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";

/// Unpack the layer tar read from `stream` into `root` (an existing, empty directory).
/// Returns the number of bytes of regular file content written.
pub fn extract_layer<R: Read>(stream: R, root: &Path) -> Result<u64> {
    let root_fd = open_dir(None, root.as_os_str())
        .with_context(|| format!("open layer directory {}", root.display()))?;
    let mut archive = tar::Archive::new(stream);
    let mut deferred_dirs = Vec::new();
    let mut content_bytes = 0;
    let entries = archive.entries().context("read layer tar")?;
    for entry in entries {
        let mut entry = entry.context("read layer tar entry header")?;
        let raw_name = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw_name).into_owned();
        content_bytes += extract_entry(&root_fd, &raw_name, &mut entry, &mut deferred_dirs)
            .with_context(|| format!("layer entry {shown:?}"))?;
    }
    // Deepest first, so a parent's mtime is set after its children are complete.
    for dir in deferred_dirs.iter().rev() {
        apply_dir_metadata(&root_fd, dir).with_context(|| {
            format!(
                "set mode, owner and times of layer directory {:?}",
                display_components(&dir.components)
            )
        })?;
    }
    Ok(content_bytes)
}

/// Owner, mode, mtime and xattrs of an entry, applied after its content exists.
#[derive(Debug, Clone)]
struct Metadata {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// A directory whose metadata is applied after all entries.
struct DeferredDir {
    components: Vec<OsString>,
    metadata: Metadata,
}

/// What the last component of an entry name asks for.
#[derive(Debug, PartialEq, Eq)]
enum EntryName<'a> {
    /// A normal name: create this entry.
    Normal(&'a OsStr),
    /// `.wh.NAME`: NAME is deleted from the lower layers.
    Whiteout(&'a OsStr),
    /// `.wh..wh..opq`: the parent directory hides the lower layers' contents.
    Opaque,
    /// Other `.wh..wh.*` names are AUFS bookkeeping; Docker ignores them, so do we.
    AufsMetadata,
    /// `.` or `./`: the layer root itself.
    Root,
}

/// Split an entry name into normal components, refusing anything that could escape.
fn clean_components(raw: &[u8]) -> Result<Vec<OsString>> {
    if raw.first() == Some(&b'/') {
        bail!("absolute path names are not allowed in a layer");
    }
    let mut components = Vec::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => continue,
            b".." => bail!("'..' path components are not allowed in a layer"),
            _ => components.push(OsStr::from_bytes(part).to_os_string()),
        }
    }
    Ok(components)
}

fn classify(components: &[OsString]) -> Result<EntryName<'_>> {
    let Some((last, parents)) = components.split_last() else {
        return Ok(EntryName::Root);
    };
    if let Some(parent) = parents
        .iter()
        .find(|c| c.as_bytes().starts_with(WHITEOUT_PREFIX.as_bytes()))
    {
        bail!("whiteout name {parent:?} used as a directory");
    }
    let bytes = last.as_bytes();
    if bytes == OPAQUE_MARKER.as_bytes() {
        return Ok(EntryName::Opaque);
    }
    if bytes.starts_with(b".wh..wh.") {
        return Ok(EntryName::AufsMetadata);
    }
    match bytes.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
        Some(b"") | Some(b".") | Some(b"..") => bail!("whiteout {last:?} names no valid file"),
        Some(hidden) => Ok(EntryName::Whiteout(OsStr::from_bytes(hidden))),
        None => Ok(EntryName::Normal(last)),
    }
}

/// Extract one entry; returns the bytes of regular file content written.
fn extract_entry<R: Read>(
    root: &OwnedFd,
    raw_name: &[u8],
    entry: &mut tar::Entry<'_, R>,
    deferred_dirs: &mut Vec<DeferredDir>,
) -> Result<u64> {
    let kind = entry.header().entry_type();
    if matches!(kind, EntryType::XGlobalHeader) {
        return Ok(0);
    }
    let components = clean_components(raw_name)?;
    let parents = &components[..components.len().saturating_sub(1)];
    match classify(&components)? {
        EntryName::AufsMetadata => Ok(0),
        EntryName::Root => {
            if !kind.is_dir() {
                bail!("the layer root can only be a directory, not {kind:?}");
            }
            let metadata = read_metadata(entry)?;
            deferred_dirs.push(DeferredDir {
                components,
                metadata,
            });
            Ok(0)
        }
        EntryName::Opaque => {
            let parent = open_parent(root, parents, true)?;
            let dir = open_dir(Some(parent.as_fd()), OsStr::new("."))?;
            set_xattr(dir.as_fd(), OVERLAY_OPAQUE_XATTR, b"y")
                .with_context(|| format!("set {OVERLAY_OPAQUE_XATTR}=y"))?;
            Ok(0)
        }
        EntryName::Whiteout(hidden) => {
            let parent = open_parent(root, parents, true)?;
            remove_existing(parent.as_fd(), hidden)?;
            mknodat(
                &parent,
                hidden,
                SFlag::S_IFCHR,
                Mode::empty(),
                makedev(0, 0),
            )
            .with_context(|| format!("mknod overlay whiteout {hidden:?} (char 0:0)"))?;
            Ok(0)
        }
        EntryName::Normal(name) => {
            let parent = open_parent(root, parents, true)?;
            create_entry(
                root,
                parent.as_fd(),
                name,
                &components,
                entry,
                deferred_dirs,
            )
        }
    }
}

fn create_entry<R: Read>(
    root: &OwnedFd,
    parent: BorrowedFd<'_>,
    name: &OsStr,
    components: &[OsString],
    entry: &mut tar::Entry<'_, R>,
    deferred_dirs: &mut Vec<DeferredDir>,
) -> Result<u64> {
    let kind = entry.header().entry_type();
    match kind {
        EntryType::Directory => {
            let metadata = read_metadata(entry)?;
            match lstat_kind(parent, name)? {
                Some(SFlag::S_IFDIR) => {} // merge into the existing directory
                Some(_) => {
                    remove_existing(parent, name)?;
                    mkdirat(parent, name, Mode::from_bits_truncate(0o700)).context("mkdir")?;
                }
                None => mkdirat(parent, name, Mode::from_bits_truncate(0o700)).context("mkdir")?,
            }
            deferred_dirs.push(DeferredDir {
                components: components.to_vec(),
                metadata,
            });
            Ok(0)
        }
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            let metadata = read_metadata(entry)?;
            remove_existing(parent, name)?;
            let fd = openat(
                parent,
                name,
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )
            .context("create file")?;
            let mut file = File::from(fd);
            let written = io::copy(entry, &mut file).context("write file content")?;
            apply_fd_metadata(file.as_fd(), &metadata)?;
            Ok(written)
        }
        EntryType::Symlink => {
            let metadata = read_metadata(entry)?;
            let target = entry
                .link_name_bytes()
                .filter(|t| !t.is_empty())
                .context("symlink has no target")?
                .into_owned();
            remove_existing(parent, name)?;
            symlinkat(OsStr::from_bytes(&target), parent, name).context("symlink")?;
            chown_entry(parent, name, &metadata).context("lchown symlink")?;
            set_times_at(parent, name, metadata.mtime)?;
            Ok(0)
        }
        EntryType::Link => {
            let target = entry
                .link_name_bytes()
                .context("hardlink has no target")?
                .into_owned();
            let shown = String::from_utf8_lossy(&target).into_owned();
            create_hardlink(root, parent, name, components, &target)
                .with_context(|| format!("hardlink to {shown:?}"))?;
            Ok(0)
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let metadata = read_metadata(entry)?;
            let (file_type, major, minor) = match kind {
                EntryType::Char => (SFlag::S_IFCHR, device_major(entry)?, device_minor(entry)?),
                EntryType::Block => (SFlag::S_IFBLK, device_major(entry)?, device_minor(entry)?),
                // A fifo has no device numbers (tar writers often leave the fields empty).
                _ => (SFlag::S_IFIFO, 0, 0),
            };
            remove_existing(parent, name)?;
            mknodat(
                parent,
                name,
                file_type,
                Mode::from_bits_truncate(0o600),
                makedev(major.into(), minor.into()),
            )
            .with_context(|| format!("mknod {kind:?} {major}:{minor}"))?;
            chown_entry(parent, name, &metadata).context("chown")?;
            // We just created it as a device node, so it is not a symlink to follow.
            fchmodat(
                parent,
                name,
                Mode::from_bits_truncate(metadata.mode),
                FchmodatFlags::FollowSymlink,
            )
            .context("chmod")?;
            set_times_at(parent, name, metadata.mtime)?;
            Ok(0)
        }
        other => bail!("unsupported tar entry type {other:?}"),
    }
}

/// A hardlink's target must be an existing non-directory inside this layer, reached
/// without following any symlink.
fn create_hardlink(
    root: &OwnedFd,
    parent: BorrowedFd<'_>,
    name: &OsStr,
    components: &[OsString],
    target: &[u8],
) -> Result<()> {
    let target_components = clean_components(target)?;
    let Some((target_name, target_parents)) = target_components.split_last() else {
        bail!("a hardlink cannot point to the layer root");
    };
    if target_components == components {
        bail!("a hardlink cannot point to itself");
    }
    let target_parent = open_parent(root, target_parents, false)?;
    match lstat_kind(target_parent.as_fd(), target_name)? {
        None => bail!("the target does not exist (earlier in this layer)"),
        Some(SFlag::S_IFDIR) => bail!("the target is a directory"),
        Some(_) => {}
    }
    remove_existing(parent, name)?;
    linkat(
        &target_parent,
        target_name.as_os_str(),
        parent,
        name,
        AtFlags::empty(),
    )
    .context("link")?;
    Ok(())
}

/// Open the directory that holds the entry, walking from the layer root one component
/// at a time without following symlinks. Missing parents are created (0755, root) when
/// `create`, as Docker does.
fn open_parent(root: &OwnedFd, parents: &[OsString], create: bool) -> Result<OwnedFd> {
    let mut dir = open_dir(Some(root.as_fd()), OsStr::new("."))?;
    for (depth, component) in parents.iter().enumerate() {
        let shown = || display_components(&parents[..=depth]);
        match lstat_kind(dir.as_fd(), component)? {
            Some(SFlag::S_IFDIR) => {}
            Some(SFlag::S_IFLNK) => bail!(
                "parent {:?} is a symlink; a layer may not write through a symlink",
                shown()
            ),
            Some(_) => bail!("parent {:?} is not a directory", shown()),
            None if create => mkdirat(&dir, component.as_os_str(), Mode::from_bits_truncate(0o755))
                .with_context(|| format!("create missing parent directory {:?}", shown()))?,
            None => bail!("parent {:?} does not exist", shown()),
        }
        dir = open_dir(Some(dir.as_fd()), component)
            .with_context(|| format!("open parent directory {:?}", shown()))?;
    }
    Ok(dir)
}

/// Open a directory for reading (and fchown/fchmod/fsetxattr), never through a symlink.
fn open_dir(parent: Option<BorrowedFd<'_>>, name: &OsStr) -> Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = match parent {
        Some(parent) => openat(parent, name, flags, Mode::empty()),
        None => nix::fcntl::open(name, flags, Mode::empty()),
    };
    fd.with_context(|| format!("open directory {name:?}"))
}

/// The file type of `name` in `dir` (not following a symlink), or None if it is absent.
fn lstat_kind(dir: BorrowedFd<'_>, name: &OsStr) -> Result<Option<SFlag>> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(SFlag::from_bits_truncate(
            stat.st_mode & SFlag::S_IFMT.bits(),
        ))),
        Err(Errno::ENOENT) => Ok(None),
        Err(err) => Err(err).with_context(|| format!("stat {name:?}")),
    }
}

/// Remove whatever `name` is in `dir` (a directory with all its contents), so an entry
/// or whiteout can take its place.
fn remove_existing(dir: BorrowedFd<'_>, name: &OsStr) -> Result<()> {
    match lstat_kind(dir, name)? {
        None => Ok(()),
        Some(SFlag::S_IFDIR) => remove_tree_at(dir, name),
        Some(_) => unlinkat(dir, name, UnlinkatFlags::NoRemoveDir)
            .with_context(|| format!("remove existing {name:?}")),
    }
}

/// `rm -rf` of the directory `name` in `dir`, through file descriptors only.
fn remove_tree_at(dir: BorrowedFd<'_>, name: &OsStr) -> Result<()> {
    let child = open_dir(Some(dir), name)?;
    let mut listing = Dir::from_fd(child).with_context(|| format!("list directory {name:?}"))?;
    let mut children = Vec::new();
    for item in listing.iter() {
        let item = item.with_context(|| format!("list directory {name:?}"))?;
        let child_name = OsStr::from_bytes(item.file_name().to_bytes()).to_os_string();
        if child_name != "." && child_name != ".." {
            children.push(child_name);
        }
    }
    let child_fd = listing.as_fd();
    for child_name in &children {
        remove_existing(child_fd, child_name)?;
    }
    unlinkat(dir, name, UnlinkatFlags::RemoveDir)
        .with_context(|| format!("remove existing directory {name:?}"))
}

fn device_major<R: Read>(entry: &tar::Entry<'_, R>) -> Result<u32> {
    Ok(entry
        .header()
        .device_major()
        .context("device major")?
        .unwrap_or(0))
}

fn device_minor<R: Read>(entry: &tar::Entry<'_, R>) -> Result<u32> {
    Ok(entry
        .header()
        .device_minor()
        .context("device minor")?
        .unwrap_or(0))
}

fn read_metadata<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Metadata> {
    let header = entry.header();
    let mode = header.mode().context("read mode")? & 0o7777;
    let uid = u32::try_from(header.uid().context("read uid")?).context("uid out of range")?;
    let gid = u32::try_from(header.gid().context("read gid")?).context("gid out of range")?;
    let mtime = i64::try_from(header.mtime().context("read mtime")?).unwrap_or(0);
    let mut xattrs = Vec::new();
    if let Some(extensions) = entry.pax_extensions().context("read PAX headers")? {
        for extension in extensions {
            let extension = extension.context("read PAX header")?;
            let Ok(key) = extension.key() else { continue };
            if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                if !name.starts_with(OVERLAY_XATTR_PREFIX) {
                    xattrs.push((name.to_string(), extension.value_bytes().to_vec()));
                }
            }
        }
    }
    Ok(Metadata {
        mode,
        uid,
        gid,
        mtime,
        xattrs,
    })
}

/// chown first: chown clears setuid/setgid, so chmod comes after it.
fn apply_fd_metadata(fd: BorrowedFd<'_>, metadata: &Metadata) -> Result<()> {
    fchown(
        fd,
        Some(Uid::from_raw(metadata.uid)),
        Some(Gid::from_raw(metadata.gid)),
    )
    .with_context(|| format!("chown to {}:{}", metadata.uid, metadata.gid))?;
    fchmod(fd, Mode::from_bits_truncate(metadata.mode))
        .with_context(|| format!("chmod to {:o}", metadata.mode))?;
    for (name, value) in &metadata.xattrs {
        set_xattr(fd, name, value).with_context(|| format!("set xattr {name}"))?;
    }
    let mtime = TimeSpec::new(metadata.mtime, 0);
    futimens(fd, &mtime, &mtime).context("set mtime")?;
    Ok(())
}

fn apply_dir_metadata(root: &OwnedFd, dir: &DeferredDir) -> Result<()> {
    let fd = match dir.components.split_last() {
        None => open_dir(Some(root.as_fd()), OsStr::new("."))?,
        Some((name, parents)) => {
            let parent = open_parent(root, parents, false)?;
            match lstat_kind(parent.as_fd(), name)? {
                Some(SFlag::S_IFDIR) => open_dir(Some(parent.as_fd()), name)?,
                // A later entry replaced this directory; nothing left to apply.
                _ => return Ok(()),
            }
        }
    };
    apply_fd_metadata(fd.as_fd(), &dir.metadata)
}

/// The entry's owner, on the entry itself (never through a symlink).
fn chown_entry(dir: BorrowedFd<'_>, name: &OsStr, metadata: &Metadata) -> nix::Result<()> {
    fchownat(
        dir,
        name,
        Some(Uid::from_raw(metadata.uid)),
        Some(Gid::from_raw(metadata.gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
}

fn set_times_at(dir: BorrowedFd<'_>, name: &OsStr, mtime: i64) -> Result<()> {
    let time = TimeSpec::new(mtime, 0);
    utimensat(dir, name, &time, &time, UtimensatFlags::NoFollowSymlink).context("set mtime")
}

/// `fsetxattr(2)`; nix has no wrapper for it.
fn set_xattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `name` is a NUL-terminated string and `value` a live buffer of the given
    // length, both valid for the duration of the call.
    let rc = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn display_components(components: &[OsString]) -> String {
    let parts: Vec<_> = components.iter().map(|c| c.to_string_lossy()).collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(raw: &str) -> Result<Vec<String>> {
        Ok(clean_components(raw.as_bytes())?
            .into_iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect())
    }

    #[test]
    fn cleans_harmless_names() {
        assert_eq!(names("./usr//bin/./sh").unwrap(), ["usr", "bin", "sh"]);
        assert_eq!(names("etc/").unwrap(), ["etc"]);
        assert!(names("./").unwrap().is_empty());
    }

    #[test]
    fn refuses_escaping_names() {
        for bad in ["../x", "a/../../x", "a/../b", "/etc/passwd", ".."] {
            assert!(names(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn classifies_whiteouts() {
        let c = clean_components(b"a/.wh.b").unwrap();
        assert_eq!(classify(&c).unwrap(), EntryName::Whiteout(OsStr::new("b")));
        let c = clean_components(b"a/.wh..wh..opq").unwrap();
        assert_eq!(classify(&c).unwrap(), EntryName::Opaque);
        let c = clean_components(b".wh..wh.plnk/1.2").unwrap();
        assert!(classify(&c).is_err(), "whiteout used as a directory");
        let c = clean_components(b"a/.wh.").unwrap();
        assert!(classify(&c).is_err());
        let c = clean_components(b"a/b").unwrap();
        assert_eq!(classify(&c).unwrap(), EntryName::Normal(OsStr::new("b")));
    }
}

//! `cp`: files to and from a container, as kubectl cp does it: `tar` runs in the
//! container (so the container's own symlinks resolve inside its root, never on the
//! host) and the stream is packed or unpacked here.
//!
//! What comes out of a container is hostile: its `tar` may be anything. Unpacking on
//! the host therefore (as kubectl learned from CVE-2019-1002101, CVE-2019-11246 and
//! CVE-2019-11249) skips every entry whose path leaves the destination, creates no
//! symbolic or hard link at all (kubectl's `warning: skipping symlink`), creates only
//! directories and regular files, and opens each file with `O_NOFOLLOW`.

use super::errln;
use super::Context;
use crate::pod::{exec, record};
use anyhow::{bail, Context as _, Result};
use clap::Args;
use std::fs::File;
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Component, Path, PathBuf};

#[derive(Args, Debug)]
pub struct CpArgs {
    /// `LOCAL` or `[NAMESPACE/]POD:PATH`.
    pub source: String,
    /// `LOCAL` or `[NAMESPACE/]POD:PATH`.
    pub destination: String,
    /// Container name. If omitted, use the kubectl.kubernetes.io/default-container
    /// annotation for selecting the container to be attached or the first container
    /// in the pod will be chosen.
    #[arg(short = 'c', long = "container")]
    pub container: Option<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

/// `[ns/]pod:path` → (namespace, pod, path).
fn remote(spec: &str, namespace: &str) -> Option<(String, String, String)> {
    let (pod, path) = spec.split_once(':')?;
    if pod.is_empty() || pod.matches('/').count() > 1 {
        return None;
    }
    let (ns, pod) = match pod.split_once('/') {
        Some((ns, pod)) => (ns.to_string(), pod.to_string()),
        None => (namespace.to_string(), pod.to_string()),
    };
    Some((ns, pod, path.to_string()))
}

pub fn run(ctx: &Context, args: &CpArgs) -> Result<i32> {
    let from = remote(&args.source, &args.namespace);
    let to = remote(&args.destination, &args.namespace);
    match (from, to) {
        (Some((ns, pod, path)), None) => {
            let pod = find(ctx, &ns, &pod)?;
            let container = super::logs::pick_container(&pod, args.container.as_deref(), "cp")?;
            from_container(&pod, &container, &path, Path::new(&args.destination))
        }
        (None, Some((ns, pod, path))) => {
            let pod = find(ctx, &ns, &pod)?;
            let container = super::logs::pick_container(&pod, args.container.as_deref(), "cp")?;
            to_container(&pod, &container, Path::new(&args.source), &path)
        }
        (Some(_), Some(_)) => {
            errln!("error: one of src or dest must be a local file specification");
            Ok(1)
        }
        (None, None) => {
            errln!("error: one of src or dest must be a remote file specification");
            Ok(1)
        }
    }
}

fn find(ctx: &Context, ns: &str, name: &str) -> Result<record::StoredPod> {
    match record::find(&ctx.state, ns, name)? {
        Some(pod) => Ok(pod),
        None => bail!("pods \"{name}\" not found"),
    }
}

/// `(parent, base)` of a path in the container; `/tmp/x/` counts as `/tmp/x`.
fn split_remote(path: &str) -> Result<(String, String)> {
    let trimmed = path.trim_end_matches('/');
    let (parent, base) = match trimmed.rsplit_once('/') {
        Some(("", base)) => ("/", base),
        Some((parent, base)) => (parent, base),
        None => (".", trimmed),
    };
    if base.is_empty() || base == "." || base == ".." {
        bail!("cannot copy {path:?}: name a file or a directory");
    }
    Ok((parent.to_string(), base.to_string()))
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("make a pipe for cp")
}

fn dev_null() -> Result<OwnedFd> {
    Ok(File::open("/dev/null").context("open /dev/null")?.into())
}

fn from_container(
    pod: &record::StoredPod,
    container: &str,
    path: &str,
    dest: &Path,
) -> Result<i32> {
    let (parent, base) = split_remote(path)?;
    let argv: Vec<String> = ["tar", "cf", "-", "-C", &parent, &base]
        .map(String::from)
        .to_vec();
    let (read_end, write_end) = pipe()?;
    let stdin = dev_null()?;
    let (code, unpacked) = std::thread::scope(|scope| {
        let tar = scope.spawn(move || {
            exec::exec(
                pod,
                container,
                &argv,
                exec::Stdio::Fds([Some(stdin), Some(write_end), None]),
            )
        });
        let unpacked = unpack(File::from(read_end), &base, dest);
        let code = tar
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the exec of tar panicked")));
        (code, unpacked)
    });
    // What went wrong here first (tar then dies writing to a closed pipe).
    unpacked?;
    let code = code?;
    if code != 0 {
        errln!("command terminated with exit code {code}");
    }
    Ok(code)
}

fn to_container(
    pod: &record::StoredPod,
    container: &str,
    source: &Path,
    path: &str,
) -> Result<i32> {
    let mut path = path.to_string();
    if path.ends_with('/') {
        // kubectl: a destination ending in `/` is a directory to copy into.
        let name = source
            .file_name()
            .with_context(|| format!("{} has no file name", source.display()))?;
        path.push_str(&name.to_string_lossy());
    }
    let (parent, base) = split_remote(&path)?;
    let archive = pack(source, &base)?;
    let argv: Vec<String> = ["tar", "-xmf", "-", "-C", &parent]
        .map(String::from)
        .to_vec();
    let (read_end, write_end) = pipe()?;
    let code = std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            let mut sink = File::from(write_end);
            // The command may stop reading (an error of its own): that is its word.
            let _ = sink.write_all(&archive);
        });
        let code = exec::exec(
            pod,
            container,
            &argv,
            exec::Stdio::Fds([Some(read_end), None, None]),
        );
        let _ = writer.join();
        code
    })?;
    if code != 0 {
        errln!("command terminated with exit code {code}");
    }
    Ok(code)
}

/// A tar of `source` (a file or a directory, its symlinks as links) named `base`.
fn pack(source: &Path, base: &str) -> Result<Vec<u8>> {
    let meta = std::fs::symlink_metadata(source)
        .with_context(|| format!("{} doesn't exist in local filesystem", source.display()))?;
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    if meta.is_dir() {
        builder
            .append_dir_all(base, source)
            .with_context(|| format!("pack {}", source.display()))?;
    } else {
        builder
            .append_path_with_name(source, base)
            .with_context(|| format!("pack {}", source.display()))?;
    }
    builder
        .into_inner()
        .with_context(|| format!("pack {}", source.display()))
}

/// Unpack a tar whose entries are `base` and `base/...` into `dest` (`base` becomes
/// `dest`), safely: see the module's comment.
fn unpack(reader: impl std::io::Read, base: &str, dest: &Path) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .context("read the tar stream from the container")?;
    for entry in entries {
        let mut entry = entry.context("read the tar stream from the container")?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let name = name.strip_prefix("./").unwrap_or(&name);
        let rest = if name.trim_end_matches('/') == base {
            ""
        } else if let Some(rest) = name.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
            rest
        } else {
            errln!("warning: file {name:?} is not under {base:?}, skipping");
            continue;
        };
        let Some(target) = join_beneath(dest, rest) else {
            let shown = lexical(dest, rest);
            errln!(
                "warning: file {:?} is outside target destination, skipping",
                shown.display().to_string()
            );
            continue;
        };
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            errln!(
                "warning: skipping symlink: {:?} -> {:?}",
                target.display().to_string(),
                link
            );
            continue;
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o777;
        if kind.is_dir() {
            make_dirs(dest, &target)?;
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            match target.parent() {
                // A single file copied to `dest` itself: dest's directory is the user's.
                Some(parent) if target == dest => std::fs::create_dir_all(parent)
                    .with_context(|| format!("create {}", parent.display()))?,
                Some(parent) => make_dirs(dest, parent)?,
                None => {}
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(mode)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&target)
                .with_context(|| format!("create {}", target.display()))?;
            std::io::copy(&mut entry, &mut file)
                .with_context(|| format!("write {}", target.display()))?;
        }
        // Devices, fifos and the like are not copied.
    }
    // tar pads its end with zero blocks the reader stops before: read them, so tar
    // does not die of SIGPIPE writing them.
    let _ = std::io::copy(&mut archive.into_inner(), &mut std::io::sink());
    Ok(())
}

/// `dest/rest` with `.` and `..` resolved as text (a leading `/` is dropped, as Go's
/// filepath.Join does), or None when it leaves `dest`.
fn join_beneath(dest: &Path, rest: &str) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(rest).components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    let mut target = dest.to_path_buf();
    target.extend(parts);
    Some(target)
}

/// `dest/rest` cleaned as text, for the warning about a path that leaves `dest`.
fn lexical(dest: &Path, rest: &str) -> PathBuf {
    let mut out = dest.to_path_buf();
    for component in Path::new(rest).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// Create `dir` and its parents up to `dest`, refusing to go through a symlink.
fn make_dirs(dest: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dest).with_context(|| format!("create {}", dest.display()))?;
    let Ok(rest) = dir.strip_prefix(dest) else {
        bail!("{} is not under {}", dir.display(), dest.display());
    };
    let mut current = dest.to_path_buf();
    for part in rest.components() {
        current.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => bail!("{} exists and is not a directory", current.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&current)
                    .with_context(|| format!("create {}", current.display()))?;
            }
            Err(e) => return Err(e).with_context(|| format!("stat {}", current.display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_destination_are_refused() {
        let dest = Path::new("/tmp/out");
        assert_eq!(
            join_beneath(dest, "a/b"),
            Some(PathBuf::from("/tmp/out/a/b"))
        );
        assert_eq!(
            join_beneath(dest, "/etc/passwd"),
            Some(PathBuf::from("/tmp/out/etc/passwd"))
        );
        assert_eq!(
            join_beneath(dest, "a/../b"),
            Some(PathBuf::from("/tmp/out/b"))
        );
        assert_eq!(join_beneath(dest, "../x"), None);
        assert_eq!(join_beneath(dest, "a/../../x"), None);
        assert_eq!(lexical(dest, "../../escaped"), PathBuf::from("/escaped"));
    }

    #[test]
    fn remote_specs() {
        assert_eq!(
            remote("ns1/box:/tmp/x", "default"),
            Some(("ns1".into(), "box".into(), "/tmp/x".into()))
        );
        assert_eq!(
            remote("box:/tmp/x", "default"),
            Some(("default".into(), "box".into(), "/tmp/x".into()))
        );
        assert_eq!(remote("/tmp/local", "default"), None);
    }
}

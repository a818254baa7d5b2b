//! A call in words, from its real arguments: this text is the narration's *what*.
//!
//! Mounts read the way mount(8) writes them (`mount -t proc proc /proc -o nosuid`,
//! `mount --bind SRC DEST`, `mount -o remount,bind,ro DEST`); the other calls as the
//! system call with its arguments. A target given as `/proc/self/fd/N` (a descriptor
//! resolved safely inside the rootfs) is shown as the path the descriptor names.

use super::{Call, Prctl};
use caps::{CapSet, CapsHashSet};
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::SFlag;
use std::fmt;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => write_mount(f, *source, target, *fstype, *flags, *data),
            Call::Umount2 { target, flags } => {
                let flags = if flags.contains(MntFlags::MNT_DETACH) {
                    "MNT_DETACH"
                } else {
                    "0"
                };
                write!(f, "umount2({}, {flags})", shown(target))
            }
            Call::PivotRoot { new_root, put_old } => {
                write!(f, "pivot_root({}, {})", shown(new_root), shown(put_old))
            }
            Call::Chdir { path } => write!(f, "chdir({})", shown(path)),
            Call::Setns { path, .. } => write!(f, "setns({})", path.display()),
            Call::Unshare { flags } => {
                write!(
                    f,
                    "unshare({})",
                    crate::runtime::namespaces::describe(*flags)
                )
            }
            Call::Sethostname { name } => write!(f, "sethostname({name:?})"),
            Call::Setrlimit {
                name, soft, hard, ..
            } => write!(f, "setrlimit({name}, {soft}, {hard})"),
            Call::LinkUp { name } => write!(f, "ip link set {name} up"),
            Call::Mknod {
                dir,
                name,
                kind,
                mode,
                major,
                minor,
            } => {
                let kind = match *kind {
                    SFlag::S_IFBLK => "S_IFBLK",
                    SFlag::S_IFIFO => "S_IFIFO",
                    _ => "S_IFCHR",
                };
                write!(
                    f,
                    "mknod({}, {kind}|{:04o}, {major}:{minor})",
                    in_dir(*dir, name),
                    mode.bits()
                )
            }
            Call::Symlink { target, dir, link } => {
                write!(f, "symlink({}, {})", target.display(), in_dir(*dir, link))
            }
            Call::Mkdir { path } => write!(f, "mkdir({})", path.display()),
            Call::Write { path, value } => write!(f, "write({}, {value:?})", path.display()),
            Call::Prctl(op) => match op {
                Prctl::Dumpable(on) => write!(f, "prctl(PR_SET_DUMPABLE, {})", *on as u8),
                Prctl::KeepCaps(on) => write!(f, "prctl(PR_SET_KEEPCAPS, {})", *on as u8),
                Prctl::NoNewPrivs => write!(f, "prctl(PR_SET_NO_NEW_PRIVS, 1)"),
                Prctl::Name(name) => write!(f, "prctl(PR_SET_NAME, {name:?})"),
                Prctl::ChildSubreaper => write!(f, "prctl(PR_SET_CHILD_SUBREAPER, 1)"),
                Prctl::DeathSignal(sig) => write!(f, "prctl(PR_SET_PDEATHSIG, {sig})"),
            },
            Call::Setgroups { gids } => {
                let gids: Vec<String> = gids.iter().map(|g| g.to_string()).collect();
                write!(f, "setgroups([{}])", gids.join(", "))
            }
            Call::Setresgid { gid } => write!(f, "setresgid({gid}, {gid}, {gid})"),
            Call::Setresuid { uid } => write!(f, "setresuid({uid}, {uid}, {uid})"),
            Call::Capset { set, caps } => {
                write!(f, "capset({}: {})", set_name(*set), cap_names(caps))
            }
            Call::CloseRangeCloexec { first } => {
                write!(f, "close_range({first}, ~0, CLOSE_RANGE_CLOEXEC)")
            }
            Call::Execve { path, args, .. } => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| format!("{:?}", a.to_string_lossy()))
                    .collect();
                write!(
                    f,
                    "execve({:?}, [{}])",
                    path.to_string_lossy(),
                    args.join(", ")
                )
            }
            Call::Execveat { fd, args } => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| format!("{:?}", a.to_string_lossy()))
                    .collect();
                write!(
                    f,
                    "execveat(fd {} (the sealed copy of minipod), \"\", [{}], AT_EMPTY_PATH)",
                    fd.as_raw_fd(),
                    args.join(", ")
                )
            }
            Call::Kill { pid, signal } => write!(f, "kill({pid}, {signal})"),
            Call::OpenTree { path } => write!(
                f,
                "open_tree(AT_FDCWD, {}, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC)",
                path.display()
            ),
            Call::IdmapMount { fd, userns, mapping } => write!(
                f,
                "mount_setattr(fd {}, \"\", AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, userns fd {} [{mapping}])",
                fd.as_raw_fd(),
                userns.as_raw_fd()
            ),
            Call::MoveMount { fd, target, .. } => write!(
                f,
                "move_mount(fd {}, \"\", {}, MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)",
                fd.as_raw_fd(),
                target.display()
            ),
            Call::MountSetattr { fd, attr_set } => write!(
                f,
                // A detached mount's descriptor reads as `/`: its number says more.
                "mount_setattr(fd {}, \"\", AT_EMPTY_PATH, {})",
                fd.as_raw_fd(),
                bit_words(
                    *attr_set,
                    &[
                        (libc::MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY"),
                        (libc::MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NOSUID"),
                        (libc::MOUNT_ATTR_NODEV, "MOUNT_ATTR_NODEV"),
                        (libc::MOUNT_ATTR_NOEXEC, "MOUNT_ATTR_NOEXEC"),
                    ]
                )
            ),
            Call::MemfdCreate { name } => write!(
                f,
                "memfd_create({:?}, MFD_CLOEXEC|MFD_ALLOW_SEALING)",
                name.to_string_lossy()
            ),
            Call::AddSeals { fd, seals } => {
                let seals = u64::try_from(*seals).unwrap_or(0);
                let names = [
                    (libc::F_SEAL_SEAL as u64, "F_SEAL_SEAL"),
                    (libc::F_SEAL_SHRINK as u64, "F_SEAL_SHRINK"),
                    (libc::F_SEAL_GROW as u64, "F_SEAL_GROW"),
                    (libc::F_SEAL_WRITE as u64, "F_SEAL_WRITE"),
                ];
                let fd = fd_word(*fd);
                write!(f, "fcntl({fd}, F_ADD_SEALS, {})", bit_words(seals, &names))
            }
            Call::Openat2 {
                dir,
                name,
                flags,
                resolve,
            } => {
                let flags = bit_words(
                    flags.bits() as u64,
                    &[
                        (libc::O_PATH as u64, "O_PATH"),
                        (libc::O_DIRECTORY as u64, "O_DIRECTORY"),
                        (libc::O_CLOEXEC as u64, "O_CLOEXEC"),
                    ],
                );
                let resolve = bit_words(
                    resolve.bits(),
                    &[
                        (libc::RESOLVE_BENEATH, "RESOLVE_BENEATH"),
                        (libc::RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS"),
                        (libc::RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_MAGICLINKS"),
                        (libc::RESOLVE_NO_XDEV, "RESOLVE_NO_XDEV"),
                        (libc::RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT"),
                    ],
                );
                write!(
                    f,
                    "openat2({}, {:?}, {flags}, {resolve})",
                    fd_word(*dir),
                    name.display().to_string()
                )
            }
            Call::Seccomp { filter } => write!(f, "seccomp(SECCOMP_SET_MODE_FILTER): {filter}"),
            Call::BpfProgLoad { insns } => write!(
                f,
                "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, {} insns)",
                insns.len()
            ),
            Call::BpfProgAttach { path, .. } => write!(
                f,
                "bpf(BPF_PROG_ATTACH, {}, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)",
                path.display()
            ),
        }
    }
}

fn write_mount(
    f: &mut fmt::Formatter<'_>,
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> fmt::Result {
    let target = shown(target);
    let propagation = MsFlags::MS_PRIVATE | MsFlags::MS_SLAVE | MsFlags::MS_SHARED;
    let mut options = flag_words(flags);
    if flags.contains(MsFlags::MS_REMOUNT) {
        return write!(f, "mount -o remount,{} {target}", options.join(","));
    }
    if flags.intersects(propagation) {
        let rec = if flags.contains(MsFlags::MS_REC) {
            "r"
        } else {
            ""
        };
        let kind = if flags.contains(MsFlags::MS_SHARED) {
            "shared"
        } else if flags.contains(MsFlags::MS_SLAVE) {
            "slave"
        } else {
            "private"
        };
        return write!(f, "mount --make-{rec}{kind} {target}");
    }
    let source = source.map(shown).unwrap_or_else(|| "none".to_string());
    if flags.contains(MsFlags::MS_BIND) {
        options.retain(|o| o != "bind");
        write!(f, "mount --bind {source} {target}")?;
    } else {
        write!(f, "mount -t {} {source} {target}", fstype.unwrap_or("none"))?;
    }
    options.extend(data.into_iter().filter(|d| !d.is_empty()).map(String::from));
    if !options.is_empty() {
        write!(f, " -o {}", options.join(","))?;
    }
    Ok(())
}

/// mount(8)'s words for the flags, in a fixed order; a flag without a word is shown
/// as its number, so the narration never leaves one out.
fn flag_words(flags: MsFlags) -> Vec<String> {
    let named = [
        (MsFlags::MS_BIND, "bind"),
        (MsFlags::MS_REC, "rec"),
        (MsFlags::MS_RDONLY, "ro"),
        (MsFlags::MS_NOSUID, "nosuid"),
        (MsFlags::MS_NODEV, "nodev"),
        (MsFlags::MS_NOEXEC, "noexec"),
        (MsFlags::MS_NOATIME, "noatime"),
        (MsFlags::MS_NODIRATIME, "nodiratime"),
        (MsFlags::MS_RELATIME, "relatime"),
        (MsFlags::MS_STRICTATIME, "strictatime"),
        (MsFlags::MS_LAZYTIME, "lazytime"),
        (MsFlags::MS_SYNCHRONOUS, "sync"),
        (MsFlags::MS_DIRSYNC, "dirsync"),
        (MsFlags::MS_SILENT, "silent"),
    ];
    let mut rest = flags - MsFlags::MS_REMOUNT;
    let mut words = Vec::new();
    for (flag, word) in named {
        if flags.contains(flag) {
            words.push(word.to_string());
            rest.remove(flag);
        }
    }
    if !rest.is_empty() {
        words.push(format!("{:#x}", rest.bits()));
    }
    words
}

/// A path as the reader can find it: `/proc/self/fd/N` becomes what N names.
fn shown(path: &Path) -> String {
    if path.starts_with("/proc/self/fd") {
        if let Ok(real) = std::fs::read_link(path) {
            return real.display().to_string();
        }
    }
    path.display().to_string()
}

/// `name` inside the directory `dir` refers to.
fn in_dir(dir: BorrowedFd<'_>, name: &Path) -> String {
    let fd_path = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    match std::fs::read_link(&fd_path) {
        Ok(real) => real.join(name).display().to_string(),
        Err(_) => name.display().to_string(),
    }
}

/// A descriptor as the path it names (`fd 7` when that cannot be read).
fn fd_word(fd: BorrowedFd<'_>) -> String {
    let fd_path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    match std::fs::read_link(&fd_path) {
        Ok(real) => real.display().to_string(),
        Err(_) => format!("fd {}", fd.as_raw_fd()),
    }
}

/// `A|B` for the named bits of `bits`; any bit without a name as a number, so none
/// is left out; `0` when none is set.
fn bit_words(bits: u64, names: &[(u64, &str)]) -> String {
    let mut rest = bits;
    let mut words: Vec<String> = Vec::new();
    for (bit, name) in names {
        if bits & bit != 0 {
            words.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        words.push(format!("{rest:#x}"));
    }
    if words.is_empty() {
        return "0".to_string();
    }
    words.join("|")
}

fn set_name(set: CapSet) -> &'static str {
    match set {
        CapSet::Bounding => "bounding",
        CapSet::Ambient => "ambient",
        CapSet::Effective => "effective",
        CapSet::Permitted => "permitted",
        CapSet::Inheritable => "inheritable",
    }
}

/// `CHOWN,KILL,…`, sorted; `none` for the empty set.
pub fn cap_names(caps: &CapsHashSet) -> String {
    let mut names: Vec<String> = caps
        .iter()
        .map(|c| c.to_string().trim_start_matches("CAP_").to_string())
        .collect();
    if names.is_empty() {
        return "none".to_string();
    }
    names.sort();
    names.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(source: Option<&str>, target: &str, fstype: Option<&str>, flags: MsFlags) -> String {
        Call::Mount {
            source: source.map(Path::new),
            target: Path::new(target),
            fstype,
            flags,
            data: Some("size=64m"),
        }
        .to_string()
    }

    #[test]
    fn mounts_read_as_mount8_writes_them() {
        assert_eq!(
            mount(Some("tmpfs"), "/dev/shm", Some("tmpfs"), MsFlags::MS_NOSUID),
            "mount -t tmpfs tmpfs /dev/shm -o nosuid,size=64m"
        );
        assert_eq!(
            mount(None, "/", None, MsFlags::MS_REC | MsFlags::MS_SLAVE),
            "mount --make-rslave /"
        );
        // A flag with no word is still shown.
        assert_eq!(
            mount(
                Some("/a"),
                "/b",
                None,
                MsFlags::MS_BIND | MsFlags::MS_MANDLOCK
            ),
            format!("mount --bind /a /b -o {:#x},size=64m", libc::MS_MANDLOCK)
        );
    }
}

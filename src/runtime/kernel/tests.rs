//! The seam under test, without root: a recording kernel stands in for Linux while the
//! runtime builds a typical container, so the order of its calls can be read; a
//! narrating wrapper around it shows that every call is narrated with its arguments.

use super::{install, kernel, Kernel, Narrated, Recorded, Recording};
use crate::narration::Step;
use crate::runtime::error::{Error, Kind, MountError, ProcessError};
use crate::runtime::{cgroups, channel, namespaces, Setup};
use oci_spec::runtime::Spec;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// The runtime's `build` of a pod container (no start gate), as the supervisor runs it.
fn build(
    spec: &Spec,
    seccomp: Option<&crate::runtime::seccomp::Program>,
    process: &oci_spec::runtime::Process,
    rootfs: &Path,
) -> Result<std::convert::Infallible, Error> {
    let (channel_end, _other) = channel::pair().unwrap();
    let setup = Setup {
        spec,
        seccomp,
        gate: None,
        preserve_fds: 0,
        channel_end: &channel_end,
    };
    crate::runtime::build(&setup, process, rootfs)
}

/// A scratch directory of this test (no root needed: nothing is mounted).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("minipod-seam-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rootfs")).unwrap();
    std::fs::create_dir_all(dir.join("volume")).unwrap();
    dir
}

/// A container spec shaped like the pod layer's: standard mounts, a volume, devices,
/// masked and read-only paths, a user, capabilities and no_new_privs.
fn typical_spec(volume: &Path) -> Spec {
    serde_json::from_value(serde_json::json!({
        "ociVersion": "1.0.2",
        "root": { "path": "rootfs" },
        "hostname": "web",
        "process": {
            "args": ["/bin/app", "--serve"],
            "env": ["PATH=/bin"],
            "cwd": "/srv",
            "user": { "uid": 1000, "gid": 1000, "additionalGids": [10] },
            "noNewPrivileges": true,
            "capabilities": {
                "bounding": ["CAP_CHOWN", "CAP_KILL"],
                "effective": ["CAP_CHOWN", "CAP_KILL"],
                "permitted": ["CAP_CHOWN", "CAP_KILL"]
            }
        },
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc",
              "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
              "options": ["nosuid", "strictatime", "mode=755"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
              "options": ["nosuid", "noexec", "newinstance"] },
            { "destination": "/data", "type": "bind", "source": volume,
              "options": ["rbind", "ro", "rprivate"] }
        ],
        "linux": {
            "devices": [
                { "path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438 },
                { "path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 438 }
            ],
            "maskedPaths": ["/proc/keys"],
            "readonlyPaths": ["/proc/sys"]
        }
    }))
    .unwrap()
}

/// Build the typical container on a recording kernel; the calls it made, in order.
fn build_recorded(name: &str) -> (PathBuf, Vec<Recorded>, Error) {
    let dir = scratch(name);
    let recording = Recording::leaked();
    install(recording);
    let spec = typical_spec(&dir.join("volume"));
    let process = spec.process().clone().unwrap();
    let Err(err) = build(&spec, None, &process, &dir.join("rootfs"));
    (dir, recording.calls(), err)
}

fn position(calls: &[Recorded], what: &str) -> usize {
    calls
        .iter()
        .position(|c| c.what == what)
        .unwrap_or_else(|| panic!("no call `{what}` in {calls:#?}"))
}

fn position_of(calls: &[Recorded], name: &str) -> usize {
    calls
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} call in {calls:#?}"))
}

#[test]
fn a_typical_container_is_built_in_the_order_the_kernel_needs() {
    let (dir, calls, err) = build_recorded("order");
    let rootfs = dir.join("rootfs").display().to_string();
    // Only a recording kernel returns from execve.
    assert!(
        matches!(err, Error::Process(ProcessError::Exec { .. })),
        "{err}"
    );

    // Nothing leaks to the host, then the rootfs becomes a mount point for pivot_root.
    assert_eq!(calls[0].what, "mount --make-rprivate /");
    let bind_root = position(&calls, &format!("mount --bind {rootfs} {rootfs} -o rec"));
    assert_eq!(bind_root, 1);
    let pivot = position_of(&calls, "pivot_root");
    assert_eq!(calls[pivot].what, "pivot_root(., .)");
    assert_eq!(calls[pivot - 1].what, format!("chdir({rootfs})"));
    // The old root is detached right after the pivot.
    assert_eq!(calls[pivot + 1].what, "umount2(., MNT_DETACH)");
    assert_eq!(calls[pivot + 2].what, "chdir(/)");

    // Every mount of the spec is made inside the rootfs, before the pivot.
    let proc = position(
        &calls,
        &format!("mount -t proc proc {rootfs}/proc -o nosuid,nodev,noexec"),
    );
    let dev = position(
        &calls,
        &format!("mount -t tmpfs tmpfs {rootfs}/dev -o nosuid,strictatime,mode=755"),
    );
    let pts = position(
        &calls,
        &format!("mount -t devpts devpts {rootfs}/dev/pts -o nosuid,noexec,newinstance"),
    );
    let volume = dir.join("volume").display().to_string();
    let data = position(
        &calls,
        &format!("mount --bind {volume} {rootfs}/data -o rec"),
    );
    // ro on a bind takes a remount; then the propagation the options ask for.
    assert_eq!(
        calls[data + 1].what,
        format!("mount -o remount,bind,ro {rootfs}/data")
    );
    assert_eq!(
        calls[data + 2].what,
        format!("mount --make-rprivate {rootfs}/data")
    );
    assert!(bind_root < proc && proc < dev && dev < pts && pts < data && data < pivot);

    // A fresh /dev tmpfs, then its nodes, before anything else is mounted in it.
    let null = position(
        &calls,
        &format!("mknod({rootfs}/dev/null, S_IFCHR|0666, 1:3)"),
    );
    let zero = position(
        &calls,
        &format!("mknod({rootfs}/dev/zero, S_IFCHR|0666, 1:5)"),
    );
    assert!(dev < null && null < zero && zero < pts);

    // Masked and read-only paths are the container's /proc, so after the pivot (a
    // recording kernel pivots nothing: these are the host's, which have them too).
    let keys = position(&calls, "mount --bind /dev/null /proc/keys");
    let sys = position(&calls, "mount -o remount,bind,rec,ro /proc/sys");
    assert!(pivot < keys && keys < sys);

    // The hostname in the new root's UTS namespace, then the user, then capabilities.
    let hostname = position(&calls, "sethostname(\"web\")");
    let bounding = position(&calls, "capset(bounding: CHOWN,KILL)");
    let keepcaps = position(&calls, "prctl(PR_SET_KEEPCAPS, 1)");
    let groups = position(&calls, "setgroups([10])");
    let gid = position(&calls, "setresgid(1000, 1000, 1000)");
    let uid = position(&calls, "setresuid(1000, 1000, 1000)");
    let effective = position(&calls, "capset(effective: CHOWN,KILL)");
    let permitted = position(&calls, "capset(permitted: CHOWN,KILL)");
    let no_new_privs = position(&calls, "prctl(PR_SET_NO_NEW_PRIVS, 1)");
    assert!(sys < hostname && hostname < bounding);
    // The bounding set shrinks while CAP_SETPCAP is still held; the group before the
    // user, while we may still change it; the final sets after the user change.
    assert!(bounding < keepcaps && keepcaps < groups && groups < gid && gid < uid);
    assert!(uid < effective && effective < permitted && permitted < no_new_privs);

    // Last: the working directory, no descriptor leaks, the program.
    let n = calls.len();
    assert_eq!(calls[n - 3].what, "chdir(/srv)");
    assert_eq!(calls[n - 2].what, "close_range(3, ~0, CLOSE_RANGE_CLOEXEC)");
    assert_eq!(
        calls[n - 1].what,
        "execve(\"/bin/app\", [\"/bin/app\", \"--serve\"])"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_pods_user_namespace_is_joined_after_the_mounts_and_before_the_user() {
    let dir = scratch("userns");
    let recording = Recording::leaked();
    install(recording);
    let mut spec = typical_spec(&dir.join("volume"));
    // An idmapped volume and the pod's user namespace (this test's own, so that it
    // opens; a recording kernel joins nothing).
    let mut value = serde_json::to_value(&spec).unwrap();
    value["mounts"][3]["options"] = serde_json::json!(["rbind", "rprivate", "idmap"]);
    value["linux"]["namespaces"] =
        serde_json::json!([{ "type": "user", "path": "/proc/self/ns/user" }]);
    value["linux"]["uidMappings"] =
        serde_json::json!([{ "containerID": 0, "hostID": 1048576, "size": 65536 }]);
    spec = serde_json::from_value(value).unwrap();
    let process = spec.process().clone().unwrap();
    let Err(_) = build(&spec, None, &process, &dir.join("rootfs"));
    let calls = recording.calls();
    // The volume is cloned, idmapped with the pod's mapping, attached.
    let volume = dir.join("volume").display().to_string();
    let tree = position(
        &calls,
        &format!("open_tree(AT_FDCWD, {volume}, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC)"),
    );
    let idmap = position_of(&calls, "mount_setattr");
    assert!(
        calls[idmap].what.contains("MOUNT_ATTR_IDMAP")
            && calls[idmap].what.contains("[0 1048576 65536]")
    );
    let attach = position_of(&calls, "move_mount");
    assert!(calls[attach]
        .what
        .ends_with("/data, MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)"));
    // The user namespace last of all namespaces: after every mount and the pivot,
    // before the process becomes the container's user.
    let pivot = position_of(&calls, "pivot_root");
    let join = position(&calls, "setns(/proc/self/ns/user)");
    let groups = position(&calls, "setgroups([10])");
    let uid = position(&calls, "setresuid(1000, 1000, 1000)");
    assert!(tree < idmap && idmap < attach && attach < pivot && pivot < join);
    assert!(join < groups && groups < uid);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn namespaces_are_joined_by_path_the_mount_namespace_last() {
    let recording = Recording::leaked();
    install(recording);
    let spec: Vec<oci_spec::runtime::LinuxNamespace> = serde_json::from_value(serde_json::json!([
        { "type": "mount", "path": "/proc/self/ns/mnt" },
        { "type": "network", "path": "/proc/self/ns/net" },
        { "type": "pid" }
    ]))
    .unwrap();
    let plan = namespaces::plan(&spec).unwrap();
    namespaces::join_all(&plan).unwrap();
    let calls: Vec<String> = recording.calls().into_iter().map(|c| c.what).collect();
    assert_eq!(
        calls,
        ["setns(/proc/self/ns/net)", "setns(/proc/self/ns/mnt)"]
    );
    assert_eq!(namespaces::describe(plan.create), "NEWPID");
}

#[test]
fn a_cgroup_is_made_and_limited_before_the_process_enters_it() {
    let recording = Recording::leaked();
    install(recording);
    let resources = serde_json::from_value(serde_json::json!({
        "pids": { "limit": 64 }
    }))
    .unwrap();
    cgroups::enter(Path::new("/minipod-seam-test/c"), Some(&resources)).unwrap();
    let calls = recording.calls();
    let mkdir = position_of(&calls, "mkdir");
    let limit = calls
        .iter()
        .position(|c| c.what.contains("pids.max") && c.what.ends_with(", \"64\")"))
        .expect("pids.max written");
    let procs = calls
        .iter()
        .position(|c| c.what.contains("cgroup.procs"))
        .expect("cgroup.procs written");
    assert!(mkdir < limit && limit < procs, "{calls:#?}");
    // A recording kernel changes nothing on the host.
    for dir in cgroups::dirs(Path::new("/minipod-seam-test")) {
        assert!(!dir.exists(), "{} was created", dir.display());
    }
}

thread_local! {
    static TOLD: RefCell<Vec<Step>> = const { RefCell::new(Vec::new()) };
}

fn tell(step: Step) {
    TOLD.with(|t| t.borrow_mut().push(step));
}

#[test]
fn every_call_is_narrated_once_with_its_real_arguments_and_its_why() {
    let recording = Recording::leaked();
    let narrated: &'static Narrated<&'static Recording> = Box::leak(Box::new(Narrated {
        inner: recording,
        tell,
    }));
    install(narrated);
    let dir = scratch("narrated");
    let spec = typical_spec(&dir.join("volume"));
    let process = spec.process().clone().unwrap();
    let _ = build(&spec, None, &process, &dir.join("rootfs"));

    // A call the runtime never makes today, added here with no step written for it:
    // it is narrated because it went through the seam.
    kernel()
        .mkdir(
            Path::new("/run/added-by-a-test"),
            "a call added to the runtime",
        )
        .unwrap();

    let calls = recording.calls();
    let told = TOLD.with(|t| t.take());
    assert_eq!(told.len(), calls.len(), "one step per call");
    for (call, step) in calls.iter().zip(&told) {
        assert_eq!(step.what, call.what);
        assert_eq!(step.why, call.why);
        assert!(!step.why.is_empty(), "{} has no why", step.what);
        assert_eq!(step.pid, std::process::id() as i32);
    }
    let last = told.last().unwrap();
    assert_eq!(last.what, "mkdir(/run/added-by-a-test)");
    assert_eq!(last.why, "a call added to the runtime");
    // The execve step names the program and its arguments as passed.
    assert!(told
        .iter()
        .any(|s| s.what == "execve(\"/bin/app\", [\"/bin/app\", \"--serve\"])"));
    let _ = std::fs::remove_dir_all(dir);
}

/// A kernel that refuses one call (by its narrated words) with one errno.
struct Refuse {
    containing: &'static str,
    errno: nix::errno::Errno,
}

impl Kernel for Refuse {
    fn call(&self, call: &super::Call<'_>, _why: &str) -> nix::Result<()> {
        if call.to_string().contains(self.containing) {
            return Err(self.errno);
        }
        Ok(())
    }
}

#[test]
fn a_refused_mount_says_what_was_mounted_where_and_is_the_specs_fault() {
    install(Box::leak(Box::new(Refuse {
        containing: "/data",
        errno: nix::errno::Errno::ENOENT,
    })));
    let dir = scratch("refused");
    let spec = typical_spec(&dir.join("volume"));
    let process = spec.process().clone().unwrap();
    let Err(err) = build(&spec, None, &process, &dir.join("rootfs"));
    let volume = dir.join("volume");
    assert_eq!(
        err,
        Error::Mount(MountError::Mount {
            what: format!("mount {} on /data", volume.display()),
            errno: nix::errno::Errno::ENOENT.into(),
        })
    );
    assert_eq!(
        err.to_string(),
        format!(
            "mount {} on /data: ENOENT: No such file or directory",
            volume.display()
        )
    );
    assert_eq!(err.kind(), Kind::Config);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_refused_exec_is_a_run_problem() {
    install(Box::leak(Box::new(Refuse {
        containing: "execve(",
        errno: nix::errno::Errno::EACCES,
    })));
    let dir = scratch("exec");
    let spec = typical_spec(&dir.join("volume"));
    let process = spec.process().clone().unwrap();
    let Err(err) = build(&spec, None, &process, &dir.join("rootfs"));
    assert_eq!(err.to_string(), "exec /bin/app: EACCES: Permission denied");
    assert_eq!(err.kind(), Kind::Run);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_subpath_is_opened_one_component_at_a_time_beneath_its_volume() {
    let recording = Recording::leaked();
    let narrated: &'static Narrated<&'static Recording> = Box::leak(Box::new(Narrated {
        inner: recording,
        tell,
    }));
    install(narrated);
    let dir = scratch("subpath");
    let volume = dir.join("volume");
    // Each component exists (the recording kernel hands back /dev/null's descriptor,
    // so nothing is created).
    crate::runtime::safe_path::open_beneath(
        &volume,
        Path::new("logs/app"),
        nix::sys::stat::Mode::from_bits_truncate(0o755),
    )
    .unwrap();
    let calls = recording.calls();
    let whats: Vec<&str> = calls.iter().map(|c| c.what.as_str()).collect();
    let beneath = "RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS";
    assert_eq!(
        whats,
        vec![
            format!(
                "openat2({}, \"logs\", O_PATH|O_DIRECTORY|O_CLOEXEC, {beneath})",
                volume.display()
            ),
            format!("openat2(/dev/null, \"app\", O_PATH|O_CLOEXEC, {beneath})"),
        ]
    );
    assert!(calls.iter().all(|c| c.name == "openat2"));
    // Narrated with the descriptor the call returned.
    let told = TOLD.with(|t| t.take());
    assert_eq!(told.len(), 2);
    assert!(told[0].what.starts_with(whats[0]) && told[0].what.contains(" = fd "));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_supervisor_becomes_a_subreaper_through_the_seam() {
    let recording = Recording::leaked();
    install(recording);
    crate::runtime::process::become_subreaper().unwrap();
    let calls = recording.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].what, "prctl(PR_SET_CHILD_SUBREAPER, 1)");
}

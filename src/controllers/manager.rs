//! `minipod controller-manager`: one background process per state root, like
//! kube-controller-manager. The first apply of a controller object starts it, any
//! later command starts it again if it died, and it exits once no controller object
//! (and nothing for the garbage collector) is left. A lock file says it runs; state
//! lives only in the records, so a `kill -9` of it loses nothing.
//!
//! It wakes up when a record changes (inotify on the pods' and the controllers'
//! directories: a pod created, deleted, its status rewritten), and at least every
//! second (a pod's supervisor that died writes nothing).

use super::executor::Executor;
use super::observed::{self, World};
use super::{decide_all, garbage_collector, store};
use crate::pod::record;
use crate::state::paths::StateRoot;
use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The manager's log is set aside when it grows past this, at its next start.
const LOG_LIMIT: u64 = 1024 * 1024;

fn lock_path(state: &StateRoot) -> PathBuf {
    state.run.join("locks").join("controller-manager.lock")
}

fn pid_path(state: &StateRoot) -> PathBuf {
    store::apps_dir(state).join("controller-manager.pid")
}

pub fn log_path(state: &StateRoot) -> PathBuf {
    store::apps_dir(state).join("controller-manager.log")
}

/// The manager's lock, if nobody holds it.
fn try_lock(state: &StateRoot) -> Result<Option<Flock<File>>> {
    let path = lock_path(state);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(e).with_context(|| format!("lock {}", path.display())),
    }
}

/// The running manager's PID, if one runs.
pub fn running_pid(state: &StateRoot) -> Option<i32> {
    if !lock_path(state).exists() {
        return None;
    }
    match try_lock(state) {
        Ok(None) => std::fs::read_to_string(pid_path(state))
            .ok()
            .and_then(|t| t.trim().parse().ok()),
        _ => None,
    }
}

/// Whether any controller object is recorded (cheap: no record is parsed).
fn any_object(state: &StateRoot) -> bool {
    crate::api::apps::AppsKind::all().iter().any(|kind| {
        let dir = store::apps_dir(state).join(kind.plural());
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|ns| {
                std::fs::read_dir(ns.path())
                    .into_iter()
                    .flatten()
                    .next()
                    .is_some()
            })
    })
}

/// Start the manager unless it runs (or there is nothing for it): the PID started.
pub fn ensure_running(state: &StateRoot) -> Result<Option<i32>> {
    if !store::apps_dir(state).exists() || !any_object(state) {
        return Ok(None);
    }
    match try_lock(state)? {
        None => Ok(None),
        Some(lock) => {
            drop(lock);
            spawn(state).map(Some)
        }
    }
}

/// Start the manager unless it runs, even with no controller object left: its garbage
/// collector has the dependents of a deleted one to remove.
pub fn ensure_running_for_cleanup(state: &StateRoot) -> Result<Option<i32>> {
    match try_lock(state)? {
        None => Ok(None),
        Some(lock) => {
            drop(lock);
            spawn(state).map(Some)
        }
    }
}

fn spawn(state: &StateRoot) -> Result<i32> {
    let exe = std::env::current_exe().context("find the minipod binary")?;
    let log_file = log_path(state);
    if let Some(dir) = log_file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    // One older log is kept beside it once it passes 1 MiB.
    if std::fs::metadata(&log_file).is_ok_and(|m| m.len() > LOG_LIMIT) {
        let _ = std::fs::rename(&log_file, log_file.with_extension("log.1"));
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_file)
        .with_context(|| format!("open {}", log_file.display()))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("controller-manager");
    if let Some(root) = &state.root {
        cmd.env("MINIPOD_ROOT", root);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log);
    // SAFETY: between fork and exec only sigprocmask and setsid run, both
    // async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::signal::SigSet::empty()
                .thread_set_mask()
                .map_err(std::io::Error::from)?;
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .context("start the controller manager (minipod controller-manager)")?;
    Ok(i32::try_from(child.id()).unwrap_or(0))
}

/// The process itself.
pub fn run(state: &StateRoot) -> Result<i32> {
    crate::runtime::set_process_name("minipod-ctrl-mgr");
    loop {
        let Some(lock) = try_lock(state)? else {
            return Ok(0);
        };
        let pid = std::process::id().to_string();
        crate::state::atomic::write_atomic(&pid_path(state), pid.as_bytes())?;
        eprintln!(
            "{} controller-manager (PID {pid}) started",
            crate::state::time::now()
        );
        serve(state)?;
        let _ = std::fs::remove_file(pid_path(state));
        drop(lock);
        eprintln!(
            "{} controller-manager: nothing left to control, exiting",
            crate::state::time::now()
        );
        // An object recorded (or deleted, leaving dependents) while we were leaving:
        // its command saw the lock held.
        if !any_object(state) && !garbage_collector::has_work(&observe(state)?) {
            return Ok(0);
        }
    }
}

/// What the controllers see now.
pub fn observe(state: &StateRoot) -> Result<World> {
    let objects = store::list_all(state)?;
    let mut pods = Vec::new();
    for mut stored in record::list(state)? {
        // A pod whose supervisor is gone (killed with its processes) is lost: nobody
        // will restart its containers. The controllers treat it as failed and
        // replace it, as Kubernetes replaces the pods of a lost node.
        if let Some(status) = stored.status.as_mut() {
            let gone = status.supervisor.is_some_and(|s| !s.is_alive());
            if gone && !status.phase.is_finished() {
                status.phase = crate::pod::status::Phase::Failed;
                for c in status.container_statuses.iter_mut() {
                    c.ready = false;
                }
            }
        }
        let requested = stored.paths.delete_request().exists();
        pods.push(observed::view(&stored, requested));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(World { now, objects, pods })
}

fn serve(state: &StateRoot) -> Result<()> {
    let inotify =
        Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).context("inotify_init")?;
    let node = crate::pod::create::node_name();
    let mut executor = Executor::new(state);
    executor.on_line = Box::new(|line| eprintln!("{} {line}", crate::state::time::now()));
    loop {
        reap_children();
        if binary_replaced() {
            // A new minipod was installed: carry on as it (the lock goes with exec).
            eprintln!(
                "{} controller-manager: minipod was replaced, running the new one",
                crate::state::time::now()
            );
            let exe = std::fs::read_link("/proc/self/exe").unwrap_or_default();
            let path = exe
                .to_string_lossy()
                .trim_end_matches(" (deleted)")
                .to_string();
            let error = std::process::Command::new(path)
                .arg("controller-manager")
                .exec();
            return Err(error).context("run the new minipod controller-manager");
        }
        let world = observe(state)?;
        let idle = world.objects.is_empty()
            && !garbage_collector::has_work(&world)
            && executor.in_flight.load(Ordering::SeqCst) == 0;
        if idle {
            return Ok(());
        }
        let actions = decide_all(&world, &node);
        let busy = !actions.is_empty();
        executor.run(actions);
        watch(&inotify, state);
        let wait = if busy { 100u16 } else { 1000 };
        wait_for_change(&inotify, wait);
    }
}

/// The binary this process runs was deleted or replaced (an upgrade, a rebuild): the
/// pods' supervisors it starts must be the new one's.
fn binary_replaced() -> bool {
    std::fs::read_link("/proc/self/exe").is_ok_and(|p| p.to_string_lossy().ends_with(" (deleted)"))
}

/// Watch the directories whose changes matter (adding a watch twice is harmless).
fn watch(inotify: &Inotify, state: &StateRoot) {
    let flags = AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_CLOSE_WRITE;
    let pods = state.pods_run();
    let _ = std::fs::create_dir_all(&pods);
    let _ = inotify.add_watch(&pods, flags);
    for entry in std::fs::read_dir(&pods).into_iter().flatten().flatten() {
        let _ = inotify.add_watch(&entry.path(), flags);
    }
    let apps = store::apps_dir(state);
    for kind in crate::api::apps::AppsKind::all() {
        let dir = apps.join(kind.plural());
        let _ = std::fs::create_dir_all(&dir);
        let _ = inotify.add_watch(&dir, flags);
        for ns in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let _ = inotify.add_watch(&ns.path(), flags);
        }
    }
}

/// Sleep until a watched directory changes, at most `millis`; then a little more, so
/// that a burst of writes (a pod being built) is one wake-up.
fn wait_for_change(inotify: &Inotify, millis: u16) {
    use std::os::fd::AsFd;
    let mut fds = [nix::poll::PollFd::new(
        inotify.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(millis));
    if fds[0].revents().is_some_and(|r| !r.is_empty()) {
        std::thread::sleep(Duration::from_millis(30));
        while inotify.read_events().is_ok_and(|events| !events.is_empty()) {}
    }
}

/// The pods' supervisors this process started are its children: reap the ones that
/// ended (a supervisor outlives its start; nothing here waits on it).
fn reap_children() {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    loop {
        match waitpid(nix::unistd::Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

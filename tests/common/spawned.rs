//! A long-running child of a test (port-forward, logs -f, get -w, attach, exec -i):
//! started in a process group of its own, and killed (the whole group) and reaped when
//! the guard drops, also when an assertion fails first, so a failed test leaves no
//! process behind.

use std::ops::{Deref, DerefMut};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output};

pub struct Spawned {
    child: Option<Child>,
}

impl Spawned {
    /// Spawn `cmd` in a new process group (the test keeps its stdio settings).
    pub fn start(cmd: &mut Command) -> Spawned {
        cmd.process_group(0);
        let child = cmd.spawn().expect("spawn a child of the test");
        Spawned { child: Some(child) }
    }

    fn child(&self) -> &Child {
        self.child.as_ref().expect("child still held")
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("child still held")
    }

    /// Send `signal` to the child alone.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child().id() as i32);
        let _ = nix::sys::signal::kill(pid, signal);
    }

    /// Kill the child's process group (while the child is unreaped its pid, and so
    /// the group's id, cannot be reused).
    fn kill_group(&mut self) {
        let child = self.child_mut();
        if matches!(child.try_wait(), Ok(None)) {
            let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        }
    }

    /// Kill it (the whole group) and collect what it printed.
    pub fn kill_and_output(mut self) -> Output {
        self.kill_group();
        self.wait_with_output().expect("wait for the child")
    }

    /// Wait for it to exit and collect what it printed (as `Child::wait_with_output`).
    pub fn wait_with_output(mut self) -> std::io::Result<Output> {
        let child = self.child.take().expect("child still held");
        child.wait_with_output()
    }
}

impl Deref for Spawned {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.child()
    }
}

impl DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        self.child_mut()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        self.kill_group();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

/// `cmd.spawn_guarded()`: spawn under a `Spawned` guard.
pub trait SpawnGuarded {
    fn spawn_guarded(&mut self) -> Spawned;
}

impl SpawnGuarded for Command {
    fn spawn_guarded(&mut self) -> Spawned {
        Spawned::start(self)
    }
}

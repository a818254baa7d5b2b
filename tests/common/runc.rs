//! `minipod-runc` for tests: a link named `minipod-runc` to the built binary in the
//! test's own directory, a private `--root`, and bundles over the test images'
//! busybox root file system (shared read-only: `root.path` is absolute and
//! `root.readonly` true, so no test copies or changes it).

use super::TempDir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Runc {
    pub dir: TempDir,
}

/// The busybox root file system `scripts/build-images.sh` unpacked.
pub fn busybox_rootfs() -> PathBuf {
    let images = std::env::var("MINIPOD_TEST_IMAGES").unwrap_or_else(|_| "/var/lib/minipod".into());
    let rootfs = Path::new(&images).join("build/busybox/rootfs");
    assert!(
        rootfs.join("bin/busybox").exists(),
        "{} has no busybox: run scripts/build-images.sh --root {images}",
        rootfs.display()
    );
    rootfs
}

impl Runc {
    pub fn new(label: &str) -> Runc {
        super::require_root();
        let dir = TempDir::new(label);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_minipod"), dir.path.join("minipod-runc"))
            .expect("link minipod-runc");
        std::fs::create_dir_all(dir.path.join("state")).unwrap();
        Runc { dir }
    }

    /// The path podman and containerd are given.
    pub fn binary(&self) -> PathBuf {
        self.dir.path.join("minipod-runc")
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path.join("state")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.binary());
        cmd.arg("--root").arg(self.root()).args(args);
        cmd
    }

    /// Run with stdout and stderr in files, not pipes: a created container keeps the
    /// runtime's stdio (as under conmon), and a pipe would not see its end until the
    /// container's does.
    pub fn run(&self, args: &[&str]) -> Output {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out_path = self.dir.path.join(format!("stdout.{n}"));
        let err_path = self.dir.path.join(format!("stderr.{n}"));
        let status = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .status()
            .expect("run minipod-runc");
        let output = Output {
            status,
            stdout: std::fs::read(&out_path).unwrap(),
            stderr: std::fs::read(&err_path).unwrap(),
        };
        let _ = std::fs::remove_file(&out_path);
        let _ = std::fs::remove_file(&err_path);
        output
    }

    pub fn ok(&self, args: &[&str]) -> String {
        super::outcome::succeeded("minipod-runc", args, &self.run(args))
    }

    pub fn fails(&self, args: &[&str]) -> String {
        super::outcome::failed("minipod-runc", args, &self.run(args))
    }

    /// A bundle named `name` from `minipod-runc spec`, over busybox, running `args`
    /// without a terminal, with the bundle's directory `out` bound on the container's
    /// /tmp (writable; /tmp exists in the image, so the shared rootfs gains nothing).
    pub fn bundle(&self, name: &str, args: &[&str], edit: impl FnOnce(&mut Value)) -> PathBuf {
        let bundle = self.dir.path.join(name);
        std::fs::create_dir_all(bundle.join("out")).unwrap();
        self.ok(&["spec", "--bundle", bundle.to_str().unwrap()]);
        let path = bundle.join("config.json");
        let mut config: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        config["root"]["path"] = busybox_rootfs().to_str().unwrap().into();
        config["root"]["readonly"] = true.into();
        config["process"]["terminal"] = false.into();
        config["process"]["args"] = args.iter().map(|a| Value::from(*a)).collect();
        config["mounts"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "destination": "/tmp",
                "type": "bind",
                "source": bundle.join("out"),
                "options": ["rbind", "rw"],
            }));
        edit(&mut config);
        std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        bundle
    }

    pub fn state(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["state", id])).expect("state is JSON")
    }

    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"].as_str().unwrap().to_string()
    }

    /// Wait (up to 10 s) until `id` reports `status`.
    pub fn wait_status(&self, id: &str, status: &str) {
        for _ in 0..1000 {
            if self.status(id) == status {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("container {id} never became {status}: {}", self.status(id));
    }
}

impl Drop for Runc {
    /// Nothing left behind, even when a test fails half-way.
    fn drop(&mut self) {
        let ids = self.command(&["list", "-q"]).stderr(Stdio::null()).output();
        if let Ok(out) = ids {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = self.command(&["delete", "--force", id]).status();
            }
        }
    }
}

/// A writable copy of the busybox root file system at `dest` (files, directories and
/// symlinks), for tests that plant hostile entries in the image itself.
pub fn copy_busybox_rootfs(dest: &Path) {
    fn copy(from: &Path, to: &Path) {
        let meta = std::fs::symlink_metadata(from).unwrap();
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(from).unwrap(), to).unwrap();
        } else if meta.is_dir() {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                copy(&entry.path(), &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(from, to).unwrap();
        }
    }
    copy(&busybox_rootfs(), dest);
}

/// Drop the spec's mounts at these destinations (an image's own /dev then shows).
pub fn drop_mounts(config: &mut Value, destinations: &[&str]) {
    config["mounts"]
        .as_array_mut()
        .unwrap()
        .retain(|m| !destinations.contains(&m["destination"].as_str().unwrap_or("")));
}

/// The host's mount table, to show a test changed nothing in it.
pub fn host_mounts() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap()
}

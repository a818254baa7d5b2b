//! Creating a pod, the kubelet's way: everything checked first (images, host paths),
//! then the record, then the supervisor that builds the pod. Nothing is left behind
//! when any step fails.

use super::paths::PodPaths;
use super::record::{self, ImageUse, PodRecord};
use super::supervisor::{self, Readiness};
use super::volumes;
use crate::image::ImageStore;
use crate::narration::Step;
use crate::state::{atomic, paths::StateRoot, time};
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Seek};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;

/// A pod checked and ready to be created.
pub struct Plan {
    pub pod: Pod,
    pub images: BTreeMap<String, ImageUse>,
    pub seccomp: super::seccomp::NodeSeccomp,
}

/// Check what `apply` needs from the host: every hostPath of the right type, every
/// hostPort free (images missing from the store are the kubelet's to report, as on a
/// cluster). All problems at once, nothing changed.
pub fn plan(state: &StateRoot, pod: &Pod, origin: &str) -> Result<Plan, Vec<String>> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let images = resolve_present_images(state, pod);
    let mut errors = Vec::new();
    for e in volumes::check_host_paths(pod) {
        errors.push(format!("{origin}: pod \"{name}\": {e}"));
    }
    for e in crate::net::port_forward::check_host_ports(pod) {
        errors.push(format!("{origin}: pod \"{name}\": {e}"));
    }
    let seccomp = match super::seccomp::NodeSeccomp::new(state) {
        Ok(node) => node,
        Err(err) => {
            errors.push(format!("{origin}: {err:#}"));
            Default::default()
        }
    };
    for e in super::seccomp::check_profiles(pod, &seccomp) {
        errors.push(format!("{origin}: pod \"{name}\": {e}"));
    }
    for e in super::security::sysctls::check(pod) {
        errors.push(format!("{origin}: pod \"{name}\": {e}"));
    }
    let modules = super::security::host_modules::HostModules::detect();
    for e in super::security::host_modules::check(pod, modules) {
        errors.push(format!("{origin}: pod \"{name}\": {e}"));
    }
    if errors.is_empty() {
        Ok(Plan {
            pod: pod.clone(),
            images,
            seccomp,
        })
    } else {
        Err(errors)
    }
}

/// What a container keeps of its resolved image.
pub fn image_use(img: crate::image::ResolvedImage) -> ImageUse {
    ImageUse {
        reference: img.reference,
        id: img.id,
        layers: img.layers,
        entrypoint: img.config.entrypoint,
        cmd: img.config.cmd,
        env: img.config.env,
        working_dir: img.config.working_dir,
        user: img.config.user,
        stop_signal: img.config.stop_signal,
    }
}

/// The images already in the local store; a container whose image is missing (or
/// whose reference is invalid) is left out: kubelet reports it on the pod
/// (ErrImagePull, ImagePullBackOff, InvalidImageName), the API server accepts it.
pub fn resolve_present_images(state: &StateRoot, pod: &Pod) -> BTreeMap<String, ImageUse> {
    let Ok(store) = ImageStore::open(state) else {
        return BTreeMap::new();
    };
    let spec = pod.spec.clone().unwrap_or_default();
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .filter_map(|c| {
            let reference = c.image.clone().unwrap_or_default();
            let img = store.resolve(&reference).ok()?;
            Some((c.name.clone(), image_use(img)))
        })
        .collect()
}

/// Every container's image, resolved in the local store (container name → image).
pub fn resolve_images(
    state: &StateRoot,
    pod: &Pod,
    origin: &str,
) -> Result<BTreeMap<String, ImageUse>, Vec<String>> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let store = ImageStore::open(state)
        .map_err(|err| vec![format!("{origin}: open the image store: {err:#}")])?;
    let spec = pod.spec.clone().unwrap_or_default();
    let mut images = BTreeMap::new();
    let mut errors = Vec::new();
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for c in containers {
        let reference = c.image.clone().unwrap_or_default();
        match store.resolve(&reference) {
            Ok(img) => {
                images.insert(c.name.clone(), image_use(img));
            }
            Err(err) => errors.push(format!(
                "{origin}: pod \"{name}\": container \"{}\": {err:#}",
                c.name
            )),
        }
    }
    if errors.is_empty() {
        Ok(images)
    } else {
        Err(errors)
    }
}

/// A pod recorded and its supervisor started; the supervisor carries the creation
/// through on its own (it is in a session of its own), whether or not anyone waits.
pub struct Starting {
    pub record: PodRecord,
    paths: PodPaths,
    child: std::process::Child,
    ready: OwnedFd,
}

/// Record the pod and start its supervisor; no waiting (the caller may hold the pod's
/// lock: it is released before [`Starting::wait`]).
pub fn begin(state: &StateRoot, plan: Plan) -> Result<Starting> {
    let mut pod = plan.pod;
    pod.metadata.uid = Some(new_uid()?);
    // The scheduler's one decision, on a one-node cluster: this host.
    if let Some(spec) = pod.spec.as_mut() {
        spec.node_name.get_or_insert_with(node_name);
    }
    // metav1.Time has a precision of one second.
    pod.metadata.creation_timestamp = crate::state::time::meta_now();
    let record = PodRecord {
        pod,
        images: plan.images,
        seccomp: plan.seccomp,
    };
    let paths = record.paths(state);
    // From the pod's first file to its supervisor's start, Ctrl-C (or a TERM) waits:
    // an accepted pod is never left half recorded. A signal that arrives meanwhile
    // ends the command once the supervisor carries the pod on.
    let _deferred = DeferSignals::new();
    let result = (|| {
        std::fs::create_dir_all(&paths.run)
            .with_context(|| format!("create {}", paths.run.display()))?;
        let ids: Vec<&str> = record.images.values().map(|i| i.id.as_str()).collect();
        atomic::write_json(&paths.images_in_use(), &ids)?;
        {
            let _index = crate::state::lock::lock(state)?;
            record::link_name(state, &record)?;
        }
        record::save(&paths, &record)?;
        super::events::record(
            &paths,
            super::events::EventType::Normal,
            "Scheduled",
            format!(
                "Successfully assigned {}/{} to {}",
                record.namespace(),
                record.name(),
                node_name()
            ),
        );
        spawn_supervisor(state, &record, &paths)
    })();
    match result {
        Ok((child, ready)) => Ok(Starting {
            record,
            paths,
            child,
            ready,
        }),
        Err(err) => {
            forget(state, &record, &paths);
            Err(err).with_context(|| format!("create pod \"{}\"", record.name()))
        }
    }
}

/// A pod recorded by an `apply` that died before starting its supervisor: start it
/// now, without waiting (once: a `resumed` mark stops a supervisor that cannot start
/// from being tried by every command).
pub fn resume(state: &StateRoot, record: &PodRecord) {
    let paths = record.paths(state);
    let mark = paths.run.join("resumed");
    if mark.exists() || std::fs::write(&mark, b"").is_err() {
        return;
    }
    let _ = spawn_supervisor(state, record, &paths);
}

/// Signals that would end the command (INT, TERM, HUP, QUIT) are held back while this
/// lives, and delivered when it is dropped.
pub struct DeferSignals {
    old: Option<nix::sys::signal::SigSet>,
}

impl DeferSignals {
    pub fn new() -> DeferSignals {
        use nix::sys::signal::{SigSet, Signal};
        let mut set = SigSet::empty();
        for s in [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ] {
            set.add(s);
        }
        DeferSignals {
            old: set
                .thread_swap_mask(nix::sys::signal::SigmaskHow::SIG_BLOCK)
                .ok(),
        }
    }
}

impl Drop for DeferSignals {
    fn drop(&mut self) {
        if let Some(old) = self.old.take() {
            let _ = old.thread_set_mask();
        }
    }
}

/// Remove a pod that was never created: its name (if it still names it) and files.
fn forget(state: &StateRoot, record: &PodRecord, paths: &PodPaths) {
    if let Ok(_index) = crate::state::lock::lock(state) {
        record::unlink_name(state, record);
    }
    remove_files(paths);
}

impl Starting {
    /// Wait until the supervisor says the pod runs (or why not), passing on narrated
    /// steps meanwhile. A pod that could not start leaves nothing behind.
    pub fn wait(self, state: &StateRoot, on_step: &mut dyn FnMut(&Step)) -> Result<PodRecord> {
        let Starting {
            record,
            paths,
            mut child,
            ready,
        } = self;
        let readiness = wait_for_readiness(ready, &paths, on_step);
        // The supervisor lives on; reap it only if it already gave up.
        let err = match readiness {
            Ok(Some(Readiness::Started)) => return Ok(record),
            Ok(Some(Readiness::Failed(err))) => {
                let _ = child.wait();
                anyhow::anyhow!("{err}")
            }
            Ok(None) => {
                let _ = child.wait();
                let log = std::fs::read_to_string(paths.supervisor_log()).unwrap_or_default();
                anyhow::anyhow!(
                    "the pod's supervisor exited without starting the pod{}",
                    log.lines()
                        .last()
                        .map(|l| format!(": {l}"))
                        .unwrap_or_default()
                )
            }
            Err(err) => err,
        };
        // A supervisor that died (killed) may have left processes: the pod's delete
        // finds them through its cgroup and its status.
        if let Ok(Some(pod)) = record::find(state, record.namespace(), record.name()) {
            if pod.record.uid() == record.uid() {
                let _ = super::delete::delete(state, &pod, Some(0), &mut |_| {});
            }
        }
        forget(state, &record, &paths);
        Err(err).with_context(|| format!("create pod \"{}\"", record.name()))
    }
}

/// `minipod-shim <uid>`, found next to the running minipod, detached in its own
/// session, reporting on a pipe.
fn spawn_supervisor(
    state: &StateRoot,
    record: &PodRecord,
    paths: &PodPaths,
) -> Result<(std::process::Child, OwnedFd)> {
    let exe = supervisor::entry::program()?;
    let (ready_r, ready_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .context("pipe to hear from the supervisor")?;
    let log = std::fs::File::create(paths.supervisor_log())
        .with_context(|| format!("create {}", paths.supervisor_log().display()))?;
    let mut cmd = std::process::Command::new(&exe);
    cmd.arg(record.uid());
    if let Some(root) = &state.root {
        cmd.env("MINIPOD_ROOT", root);
    }
    // The pod network's directories as this command was given them: the supervisor
    // (which re-creates sandboxes) uses the same.
    if let Some(dir) = &state.cni_conf_dir {
        cmd.env("MINIPOD_CNI_CONF_DIR", dir);
    }
    if let Some(dirs) = &state.cni_bin_dir {
        cmd.env("MINIPOD_CNI_BIN_DIR", dirs);
    }
    cmd.env("MINIPOD_READY_FD", "3")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log);
    let ready_raw = ready_w.as_raw_fd();
    // SAFETY: between fork and exec this only calls sigprocmask, setsid and dup2, all
    // async-signal-safe; ready_raw stays open in the parent until after spawn.
    unsafe {
        cmd.pre_exec(move || {
            // The signals held back by DeferSignals are not the supervisor's to hold.
            nix::sys::signal::SigSet::empty()
                .thread_set_mask()
                .map_err(std::io::Error::from)?;
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::dup2(ready_raw, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("start the pod's supervisor {}", exe.display()))?;
    drop(ready_w);
    Ok((child, ready_r))
}

/// Read the supervisor's one readiness line, passing on narrated steps meanwhile.
fn wait_for_readiness(
    ready: OwnedFd,
    paths: &PodPaths,
    on_step: &mut dyn FnMut(&Step),
) -> Result<Option<Readiness>> {
    let mut steps = StepFollower::new(&paths.steps());
    let ready_file = std::fs::File::from(ready);
    let mut line = String::new();
    let mut reader = BufReader::new(ready_file);
    loop {
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(reader.get_ref()),
            nix::poll::PollFlags::POLLIN,
        )];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(50u16));
        steps.follow(on_step);
        if fds[0].revents().is_some_and(|r| !r.is_empty()) {
            let n = reader
                .read_line(&mut line)
                .context("read from the pod's supervisor")?;
            steps.follow(on_step);
            if n == 0 {
                return Ok(None);
            }
            return serde_json::from_str(line.trim())
                .map(Some)
                .context("decode the supervisor's report");
        }
    }
}

/// Reads new lines of a pod's `steps.jsonl` as they are appended.
pub struct StepFollower {
    path: std::path::PathBuf,
    offset: u64,
    pending: String,
}

impl StepFollower {
    pub fn new(path: &Path) -> StepFollower {
        StepFollower {
            path: path.to_path_buf(),
            offset: 0,
            pending: String::new(),
        }
    }

    pub fn follow(&mut self, on_step: &mut dyn FnMut(&Step)) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        if file.seek(std::io::SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut text = String::new();
        if let Ok(n) = file.read_to_string(&mut text) {
            self.offset += n as u64;
        }
        self.pending.push_str(&text);
        while let Some(nl) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=nl).collect();
            if let Ok(step) = serde_json::from_str::<Step>(line.trim()) {
                on_step(&step);
            }
        }
    }
}

/// Remove every file of a pod: records, volumes, writable layers, logs.
pub fn remove_files(paths: &PodPaths) {
    for dir in [&paths.run, &paths.lib, &paths.logs] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The node a pod runs on: this host, by its hostname.
pub fn node_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

/// A random (version 4) UUID, as the API server gives every object.
pub fn new_uid() -> Result<String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .context("read /dev/urandom for the pod's uid")?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

pub fn created_at(record: &PodRecord) -> Option<std::time::SystemTime> {
    let t = record.pod.metadata.creation_timestamp.as_ref()?;
    time::parse(&t.0.to_string())
}

//! `minipod-shim <uid>`: the per-pod supervisor (like conmon or containerd-shim),
//! started by `apply` next to it, detached; and `minipod-shim host-ports ...`, the
//! pod's hostPorts forwarder it starts itself. Its own program so that what stays
//! resident for a pod links only the pod and runtime layers (no CLI, YAML or
//! API-server code): see `src/pod/supervisor/entry.rs`.

fn main() {
    // The runtime re-executes this program's sealed copy for each container's stages.
    if let Some(code) = minipod::run_if_stage() {
        std::process::exit(code);
    }
    std::process::exit(minipod::shim_main());
}

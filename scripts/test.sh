#!/usr/bin/env bash
# The test command (README): on a fresh Debian/Ubuntu machine, as root, install what
# the tests need, build minipod and the images, then run every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: run as root (the tests create namespaces, mounts and device nodes)" >&2
    exit 1
fi

# rsvg-convert renders `explain pod -o svg` in tests/explain_svg.rs.
if ! command -v rsvg-convert >/dev/null; then
    echo "== installing librsvg2-bin (rsvg-convert)"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q librsvg2-bin
fi

# libseccomp compiles the containers' seccomp filters (crate libseccomp links it).
if ! [ -e /usr/include/seccomp.h ]; then
    echo "== installing libseccomp-dev"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libseccomp-dev
fi

# The pod network: the standard CNI plugins (bridge, host-local, portmap, in
# /usr/lib/cni) and iptables, which bridge (ipMasq) and portmap run.
if ! [ -x /usr/lib/cni/bridge ] && ! [ -x /opt/cni/bin/bridge ] || ! command -v iptables >/dev/null; then
    echo "== installing containernetworking-plugins iptables"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q containernetworking-plugins iptables
fi

# Real clients of minipod-runc (tests/runc_clients.rs): podman with conmon, its infra
# (catatonit) and network (netavark), and containerd 1.6 with its runc v2 shim; crun
# is podman's default runtime beside ours.
if ! command -v podman >/dev/null || ! command -v containerd >/dev/null || ! command -v crun >/dev/null \
    || ! [ -x /usr/libexec/podman/catatonit ] || ! [ -x /usr/lib/podman/netavark ]; then
    echo "== installing podman crun containerd catatonit netavark"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman crun containerd catatonit netavark aardvark-dns
fi

echo "== format and lints"
cargo fmt --check
rustfmt --edition 2021 --check src/pause/main.rs   # built by build.rs, not a cargo target
cargo clippy --all-targets -- -D warnings

echo "== build"
cargo build

echo "== images (busybox, debian, nginx, the documentation examples' stand-ins) into the shared test store"
export MINIPOD_TEST_IMAGES="${MINIPOD_TEST_IMAGES:-/var/lib/minipod}"
MINIPOD="${CARGO_TARGET_DIR:-$PWD/target}/debug/minipod" scripts/build-images.sh --root "$MINIPOD_TEST_IMAGES"

echo "== tests"
cargo test -- --test-threads="${MINIPOD_TEST_THREADS:-4}"

#!/usr/bin/env bash
# The sidecar demo, from a fresh machine: build minipod and the images, then run the
# seed's sidecar pod (examples/sidecar-pod.yaml, unchanged) the way a teacher shows it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "scripts/demo.sh: run as root (sudo scripts/demo.sh)" >&2
    exit 1
fi
if ! command -v cargo >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cargo
fi
# libseccomp compiles the containers' seccomp filters.
if ! [ -e /usr/include/seccomp.h ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev
fi

# The pod network: the standard CNI plugins and iptables (bridge ipMasq, portmap).
if ! [ -x /usr/lib/cni/bridge ] && ! [ -x /opt/cni/bin/bridge ] || ! command -v iptables >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containernetworking-plugins iptables
fi

show() { printf '\n$ %s\n' "$*"; "$@"; }

cargo build --release
M="$PWD/target/release/minipod"
MINIPOD="$M" scripts/build-images.sh
show "$M" image ls

show "$M" apply -f examples/sidecar-pod.yaml
for _ in $(seq 1 50); do
    "$M" get pods --no-headers | grep -q 'sidecar-pod *2/2 *Running' && break
    sleep 0.2
done
show "$M" get pods
for i in 1 2 3; do
    printf '\n$ %s\n' "$M exec sidecar-pod -c log-reader -- wget -qO- http://localhost/  (title only)"
    "$M" exec sidecar-pod -c log-reader -- wget -qO- http://localhost/ | grep -o '<title>.*</title>'
done
sleep 1
show "$M" logs sidecar-pod -c log-reader
show "$M" delete pod sidecar-pod --grace-period=0 --force

#!/usr/bin/env bash
# Check the images built by scripts/build-images.sh without minipod:
#   1. every digest and size in each OCI layout tarball (oci_image.py verify);
#   2. nginx's first layer is the very same blob as the debian image's layer;
#   3. the diff-layer code on a small synthetic tree (whiteouts, type changes);
#   4. unpack each image like a runtime would (layers in order, whiteouts) and
#      run something inside with chroot; nginx really serves its page, and with a
#      tmpfs on /var/log/nginx (the sidecar lesson) writes a real access.log.
#
#   scripts/test-images.sh [--out DIR]      (same --out as build-images.sh)
# Needs root. Mounts happen in a private mount namespace (unshare), so nothing
# is left mounted; temp dirs are removed on exit.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OCI=$SCRIPTS/oci_image.py
CACHE=${MINIPOD_BUILD_CACHE:-/var/lib/minipod/build}
while [[ $# -gt 0 ]]; do
    case $1 in
        --out) CACHE=${2:?}; shift 2 ;;
        --out=*) CACHE=${1#*=}; shift ;;
        *) echo "test-images.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "test-images.sh: must run as root" >&2; exit 1; }

msg() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
T=$(mktemp -d /tmp/minipod-test-images.XXXXXX)
trap 'rm -rf --one-file-system "$T"' EXIT

# ---- 1 + 2: layouts and the shared debian layer
for img in busybox debian nginx; do
    msg "verify $img.oci.tar"
    python3 "$OCI" verify "$CACHE/$img.oci.tar"
done
layers() { python3 "$OCI" verify --json "$1" | tail -n 1 | jq -r '.layers[]'; }
deb=$(layers "$CACHE/debian.oci.tar")
mapfile -t ngx < <(layers "$CACHE/nginx.oci.tar")
[[ ${#ngx[@]} -eq 2 ]] || fail "nginx has ${#ngx[@]} layers, expected 2"
[[ ${ngx[0]} == "$deb" ]] || fail "nginx layer 1 ${ngx[0]} != debian layer $deb"
msg "nginx layer 1 == debian layer ($deb)"

# ---- 3: diff layer + whiteouts on a synthetic tree
msg "diff-layer selftest"
s=$T/selftest
mkdir -p "$s/base/keep" "$s/base/gone-dir/sub" "$s/base/d2f" "$s/tree/keep" "$s/tree/new-dir"
echo same >"$s/base/keep/same";   echo same >"$s/tree/keep/same"
echo old >"$s/base/keep/changed"; echo new >"$s/tree/keep/changed"
echo x >"$s/base/gone-file";      echo x >"$s/base/gone-dir/sub/f"
echo y >"$s/base/keep/mode";      echo y >"$s/tree/keep/mode"; chmod 4755 "$s/tree/keep/mode"
echo f >"$s/tree/d2f"                                   # directory became a file
ln -s keep "$s/base/link";        ln -s new-dir "$s/tree/link"
echo n >"$s/tree/new-dir/a";      ln "$s/tree/new-dir/a" "$s/tree/new-dir/b"
python3 "$OCI" layer --tree "$s/base" --out "$s/l1.tar.gz" >/dev/null
python3 "$OCI" layer --tree "$s/tree" --base "$s/base" --out "$s/l2.tar.gz" >/dev/null
python3 "$OCI" image --layer "$s/l1.tar.gz" --layer "$s/l2.tar.gz" --name selftest --tag t \
    --out "$s/img.tar" >/dev/null
python3 "$OCI" extract "$s/img.tar" "$s/out" >/dev/null
listing() { (cd "$1" && find . -printf '%p %y %m %u %l\n' | sort; find . -type f -exec md5sum {} + | sort); }
diff <(listing "$s/tree") <(listing "$s/out") || fail "diff layer applied on base != tree"
got=$(tar -tzf "$s/l2.tar.gz" | tr '\n' ' ')
[[ $got == *".wh.gone-dir "* && $got == *".wh.gone-file "* && $got != *"keep/same"* \
    && $got != *"gone-dir/sub"* ]] || fail "unexpected diff layer entries: $got"
msg "diff layer ok: $got"

# ---- 4: unpack and run
run_in() {  # run_in DIR COMMAND...: chroot with /proc, /dev, and a private netns
    unshare --mount --net --pid --fork --mount-proc="$1/proc" \
        bash -c 'd=$1; shift; mount --bind /dev "$d/dev"; chroot "$d" "$@"' _ "$@"
}
for img in busybox debian nginx; do
    msg "extract $img"
    python3 "$OCI" extract "$CACHE/$img.oci.tar" "$T/$img"
done
msg "busybox: /bin/sh -c 'echo ok; ls /'"
chroot "$T/busybox" /bin/sh -c 'echo ok; ls /'
msg "debian: /bin/bash -c 'ls --version'"
chroot "$T/debian" /bin/bash -c 'ls --version | head -n 1; cat /etc/debian_version'
msg "nginx: nginx -t (plain chroot)"
chroot "$T/nginx" nginx -t
msg "nginx: serve / on 127.0.0.1:80 in a private netns; access log goes to stdout"
run_in "$T/nginx" /bin/sh -c '
    ip link set lo up
    nginx
    sleep 0.5
    curl -fsS http://127.0.0.1/ | grep -o "<h1>.*</h1>"
    ps -o user=,args= -C nginx
    nginx -s quit; sleep 0.3'
msg "nginx: with a tmpfs on /var/log/nginx (like the sidecar emptyDir) logs land in a file"
run_in "$T/nginx" /bin/sh -c '
    mount -t tmpfs tmpfs /var/log/nginx
    ip link set lo up
    nginx
    sleep 0.5
    curl -sS -o /dev/null http://127.0.0.1/sidecar-test     # a 404, logged all the same
    nginx -s quit; sleep 0.3
    ls -l /var/log/nginx
    grep -q "GET /sidecar-test" /var/log/nginx/access.log && echo "access.log has the request"'
msg "all image checks passed"

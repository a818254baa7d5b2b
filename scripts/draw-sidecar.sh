#!/usr/bin/env bash
# Regenerate docs/sidecar-pod.svg (and its terminal version docs/sidecar-pod.txt) from
# a real sidecar pod: apply examples/sidecar-pod.yaml in a throwaway --root that uses
# the shared image store, draw it with `minipod explain pod -o svg|text`, delete it.
# Run as root after scripts/build-images.sh. MINIPOD=path/to/minipod to choose a build.
set -euo pipefail
cd "$(dirname "$0")/.."

MINIPOD="${MINIPOD:-${CARGO_TARGET_DIR:-$PWD/target}/debug/minipod}"
IMAGES="${MINIPOD_TEST_IMAGES:-/var/lib/minipod}/images"
[ -x "$MINIPOD" ] || { echo "draw-sidecar.sh: no minipod at $MINIPOD (cargo build first)" >&2; exit 1; }
[ -f "$IMAGES/repositories.json" ] || { echo "draw-sidecar.sh: no images in $IMAGES (scripts/build-images.sh)" >&2; exit 1; }

root="$(mktemp -d /tmp/minipod-draw.XXXXXX)"
cleanup() {
    "$MINIPOD" --root "$root" delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1 || true
    rm -rf "$root"
}
trap cleanup EXIT
ln -s "$IMAGES" "$root/images"

"$MINIPOD" --root "$root" apply -f examples/sidecar-pod.yaml
# The sidecar waits for nginx's log file; let both settle into Running.
for _ in $(seq 50); do
    "$MINIPOD" --root "$root" get pods --no-headers | grep -q ' 2/2 .*Running' && break
    sleep 0.2
done
"$MINIPOD" --root "$root" explain pod sidecar-pod -o svg > docs/sidecar-pod.svg
"$MINIPOD" --root "$root" explain pod sidecar-pod -o text > docs/sidecar-pod.txt
echo "wrote docs/sidecar-pod.svg and docs/sidecar-pod.txt"

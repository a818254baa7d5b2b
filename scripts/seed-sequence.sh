#!/usr/bin/env bash
# The seed's kubectl sequence against the sidecar pod, with minipod in place of
# kubectl, asserting on what a user sees at each step. The interactive shell is
# driven in tmux with real keystrokes.
#
#   sudo scripts/seed-sequence.sh [--root DIR]      (MINIPOD=path/to/minipod to pick a binary)
#
# With --root, DIR must contain (or link) an image store with nginx:1.27 and busybox:1.36.
set -euo pipefail
cd "$(dirname "$0")/.."

MINIPOD="${MINIPOD:-${CARGO_TARGET_DIR:-$PWD/target}/debug/minipod}"
ROOT_ARGS=()
if [ "${1:-}" = "--root" ]; then
    ROOT_ARGS=(--root "$2")
fi
MANIFEST="${SEED_MANIFEST:-$PWD/../shared/manifests/sidecar-pod.yaml}"
SESSION="minipod-seed-$$"
mp() { "$MINIPOD" "${ROOT_ARGS[@]}" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    mp delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1 || true
}
trap cleanup EXIT

# 1. apply
out=$(mp apply -f "$MANIFEST")
[ "$out" = "pod/sidecar-pod created" ] || fail "apply printed: $out"
pass "apply: $out"

# 2. get pods: 2/2 Running
row=$(mp get pods --no-headers | awk '$1 == "sidecar-pod"')
read -r name ready status _ <<<"$row"
[ "$ready" = "2/2" ] && [ "$status" = "Running" ] || fail "get pods row: $row"
pass "get pods: $row"

# The emptyDir, kubelet-shaped, under the state root.
uid=$(mp get pod sidecar-pod -o 'jsonpath={.metadata.uid}')
state="${2:-/var/lib/minipod}"
ls -l "$state/pods/$uid/volumes/kubernetes.io~empty-dir" | grep -q shared-logs \
    || fail "no shared-logs emptyDir under $state/pods/$uid"
pass "emptyDir shared-logs under pods/$uid/volumes/kubernetes.io~empty-dir"

# 3. exec -it in tmux: three requests from inside the pod, then exit.
tmux new-session -d -s "$SESSION" -x 160 -y 50 "bash --norc --noprofile"
keys() { tmux send-keys -t "$SESSION" "$@"; }
screen() { tmux capture-pane -p -t "$SESSION" -S -200; }
wait_screen() { # wait_screen PATTERN COUNT: until PATTERN is on screen COUNT times
    for _ in $(seq 1 100); do
        [ "$(screen | grep -c -- "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    screen >&2
    fail "never saw '$1' x$2 on the terminal"
}
keys "$(printf '%q ' "$MINIPOD" "${ROOT_ARGS[@]}") exec -it sidecar-pod -c nginx -- /bin/sh; echo EXITED=\$?" Enter
wait_screen '^#' 1
for i in 1 2 3; do
    # One match per page: the page says "Welcome to nginx!" twice, its title once.
    keys "curl -s localhost | grep -o '<title>.*</title>'" Enter
    wait_screen '^<title>Welcome to nginx!</title>' "$i"
done
keys "tty" Enter
wait_screen '^/dev/pts/' 1
keys "exit" Enter
wait_screen 'EXITED=0' 1
pass "exec -it: three pages from localhost inside the pod, on a real terminal, exit 0"

# 4. logs of the sidecar: the three requests.
n=0
for _ in $(seq 1 50); do
    n=$(mp logs sidecar-pod -c log-reader | grep -c 'GET / HTTP/1.1' || true)
    [ "$n" -ge 3 ] && break
    sleep 0.1
done
[ "$n" = 3 ] || fail "logs -c log-reader shows $n requests, want 3"
pass "logs -c log-reader: 3 lines"

# 5. describe
d=$(mp describe pod sidecar-pod)
for want in "Name:             sidecar-pod" "Status:           Running" \
    "Type:       EmptyDir (a temporary directory that shares a pod's lifetime)" \
    "QoS Class:                   BestEffort" \
    'Container image "nginx:1.27" already present on machine' "Started container log-reader"; do
    grep -qF -- "$want" <<<"$d" || fail "describe lacks: $want"
done
pass "describe: fields, volumes and events"

# 6. delete
out=$(mp delete pod sidecar-pod)
[ "$out" = 'pod "sidecar-pod" deleted' ] || fail "delete printed: $out"
mp get pod sidecar-pod >/dev/null 2>&1 && fail "the pod is still there"
pass "delete: $out"
echo "seed sequence: all steps passed"

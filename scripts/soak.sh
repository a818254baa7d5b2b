#!/usr/bin/env bash
# Soak test: pods that keep their supervisors busy for N minutes, then deleted.
#
#   sudo scripts/soak.sh [MINUTES]        (default 10)
#
# Environment: MINIPOD (the binary; default target/debug/minipod, built if missing),
# MINIPOD_TEST_IMAGES (the image store with busybox:1.36; default /var/lib/minipod),
# SOAK_PODS (pods of each kind; default 2), SOAK_SAMPLE (seconds between samples; 15).
#
# Three kinds of pods, SOAK_PODS of each: a container that crashes and restarts
# (restartPolicy Always, with the kubelet's back-off), a container with liveness and
# readiness exec probes every second (and a postStart hook), and a log flood (a line
# every millisecond or so). Every SOAK_SAMPLE seconds the report shows each
# supervisor's resident memory (VmRSS, kB): it should stay flat. At the end every
# pod is deleted and the report counts what is left behind: processes, mounts,
# cgroups and files. Exit status 0 only when nothing is left.
set -euo pipefail

MINUTES=${1:-10}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINIPOD=${MINIPOD:-$REPO/target/debug/minipod}
IMAGES=${MINIPOD_TEST_IMAGES:-/var/lib/minipod}/images
PODS=${SOAK_PODS:-2}
SAMPLE=${SOAK_SAMPLE:-15}

[[ $(id -u) == 0 ]] || { echo "soak.sh: run as root" >&2; exit 2; }
[[ -x $MINIPOD ]] || (cd "$REPO" && cargo build --quiet)
[[ -f $IMAGES/repositories.json ]] || { echo "soak.sh: no images in $IMAGES" >&2; exit 2; }

ROOT=$(mktemp -d /tmp/minipod-soak.XXXXXX)
ln -s "$IMAGES" "$ROOT/images"
mp() { "$MINIPOD" --root "$ROOT" "$@"; }
trap 'mp get pods -o name 2>/dev/null | sed "s|pod/||" | xargs -r "$MINIPOD" --root "$ROOT" delete pod --grace-period=0 --force >/dev/null 2>&1 || true; rm -rf "$ROOT"' EXIT

manifest() { # kind index
    local name="$1-$2"
    case $1 in
    crash) cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: crash
    image: busybox:1.36
    command: [sh, -c, "echo starting; sleep 2; exit 3"]
EOF
    ;;
    probes) cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: probed
    image: busybox:1.36
    command: [sh, -c, "touch /tmp/ok; while true; do sleep 1; done"]
    lifecycle: {postStart: {exec: {command: [sh, -c, "echo hook > /tmp/hook"]}}}
    livenessProbe: {exec: {command: [test, -e, /tmp/ok]}, periodSeconds: 1}
    readinessProbe: {exec: {command: [sh, -c, "test \$((\$(date +%s) % 10)) -lt 7"]}, periodSeconds: 1}
EOF
    ;;
    flood) cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: flood
    image: busybox:1.36
    command: [sh, -c, "i=0; while true; do i=\$((i+1)); echo \"line \$i of a log flood, long enough to fill a buffer quickly\"; done"]
EOF
    ;;
    esac
}

# What the host holds that could be ours, before anything runs.
count_mounts() { grep -c "$ROOT" /proc/self/mountinfo || true; }
ours() { # processes whose command line or environment names our root
    local n=0 p
    for p in /proc/[0-9]*; do
        if grep -qs "$ROOT" "$p/environ" "$p/cmdline" 2>/dev/null; then n=$((n + 1)); fi
    done
    echo "$n"
}

echo "soak: $MINUTES min, $PODS pods each of crash/probes/flood, root $ROOT"
names=()
for kind in crash probes flood; do
    for i in $(seq 1 "$PODS"); do
        manifest "$kind" "$i" > "$ROOT/$kind-$i.yaml"
        mp apply -f "$ROOT/$kind-$i.yaml" >/dev/null
        names+=("$kind-$i")
    done
done
uids=()
for n in "${names[@]}"; do
    uids+=("$(mp get pod "$n" -o jsonpath='{.metadata.uid}')")
done

rss_line() {
    local line="" uid pid
    for uid in "${uids[@]}"; do
        pid=$(sed -n 's/.*"supervisor": *{ *"pid": *\([0-9]*\).*/\1/p' \
            <(tr -d '\n' < "$ROOT/run/pods/$uid/status.json" 2>/dev/null) || true)
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "-")
        line+=$(printf '%7s' "${rss:--}")
    done
    echo "$line"
}

printf '%6s' "t(s)"; for n in "${names[@]}"; do printf '%7s' "${n:0:6}"; done; echo "   (supervisor VmRSS, kB)"
start=$(date +%s)
end=$((start + MINUTES * 60))
first="" last=""
while :; do
    now=$(date +%s)
    line=$(rss_line)
    [[ -n $first ]] || first=$line
    last=$line
    printf '%6d%s\n' $((now - start)) "$line"
    ((now < end)) || break
    sleep "$(( SAMPLE < end - now ? SAMPLE : end - now ))"
done
echo
mp get pods
restarts=$(mp get pods --no-headers | awk '{s += $4} END {print s}')
echo "restarts in all: $restarts"

# RSS growth per supervisor, first sample to last.
read -ra a <<<"$first"; read -ra b <<<"$last"
growth=""
for i in "${!a[@]}"; do growth+="${names[$i]}:$(( ${b[$i]:-0} - ${a[$i]:-0} ))kB "; done
echo "supervisor RSS growth: $growth"

mp delete pod "${names[@]}" >/dev/null
sleep 1
left_procs=$(ours)
left_mounts=$(count_mounts)
left_cgroups=0
for uid in "${uids[@]}"; do
    for d in /sys/fs/cgroup/minipod/pod$uid /sys/fs/cgroup/*/minipod/pod$uid; do
        [[ -e $d ]] && left_cgroups=$((left_cgroups + 1))
    done
done
left_files=$(find "$ROOT/run/pods" "$ROOT/pods" "$ROOT/log/pods" -mindepth 1 2>/dev/null | wc -l)
echo "left after delete: processes=$left_procs mounts=$left_mounts cgroups=$left_cgroups files=$left_files"
if ((left_procs + left_mounts + left_cgroups + left_files == 0)); then
    echo "soak: OK"
else
    echo "soak: LEAKS"
    exit 1
fi

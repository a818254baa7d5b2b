#!/usr/bin/env bash
# Run the Kubernetes documentation's example manifests (../shared/k8s-examples,
# listed in INDEX.tsv) through minipod, each unchanged and in its own --root, and
# check each against what its documentation page shows.
#
#   scripts/k8s-examples.sh [--subset] [--wait SECS] [--host-writes] [PATH...]
#
#   PATH...        only these rows (paths as in INDEX.tsv); default: every row
#   --subset       only the rows that use the stand-in images (what tests/k8s_examples.rs
#                  runs in CI): the probe, resource-limit, environment, security-context,
#                  seccomp, storage and ambassador pages
#   --wait SECS    how long to wait for a file's outcome (default 30; the http-liveness and
#                  readiness pages get at least 45, the exec and nginx liveness pages 75)
#   --host-writes  also run application/basic-daemonset.yaml, whose init container
#                  writes the HOST's /var/log/machine-id.log through a hostPath
#
# Environment: MINIPOD (binary; default target/debug/minipod, else target/release),
# MINIPOD_TEST_IMAGES (image store, default /var/lib/minipod; built by
# scripts/build-images.sh), K8S_EXAMPLES (default ../shared/k8s-examples).
#
# One line per file:
#   ok       PATH  what was seen (Running, Completed, the restarts, OOMKilled, a log line)
#   refused  PATH  minipod's first error line, which names the field it refuses (or,
#                  for the guestbook frontend only, the image it has no stand-in for)
#   skipped  PATH  why (host writes)
#   FAIL     PATH  what went wrong (no image, an error naming no field, timeout)
# then a count. Exit status 1 when any file FAILs. Needs root (pods are real).
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$SCRIPTS")
EXAMPLES=${K8S_EXAMPLES:-$REPO/../shared/k8s-examples}
STORE=${MINIPOD_TEST_IMAGES:-/var/lib/minipod}
WAIT=30
HOST_WRITES=0
SUBSET=0
ONLY=()

SUBSET_FILES=(
    pods/probe/http-liveness.yaml
    pods/resource/memory-request-limit-2.yaml
    pods/resource/memory-request-limit.yaml
    pods/resource/cpu-request-limit.yaml
    pods/inject/envars.yaml
    pods/inject/envFrom.yaml
    pods/security/security-context.yaml
    pods/security/security-context-2.yaml
    pods/security/security-context-5.yaml
    pods/security/seccomp/ga/default-pod.yaml
    pods/probe/tcp-liveness-readiness.yaml
    pods/probe/grpc-liveness.yaml
    pods/probe/pod-with-tcp-socket-healthcheck.yaml
    pods/storage/redis.yaml
    pods/multi-container/ambassador.yaml
)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --subset) SUBSET=1; shift ;;
        --wait) WAIT=${2:?--wait needs seconds}; shift 2 ;;
        --host-writes) HOST_WRITES=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "k8s-examples.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
        *) ONLY+=("$1"); shift ;;
    esac
done
[[ $SUBSET -eq 0 ]] || ONLY+=("${SUBSET_FILES[@]}")

die() { printf 'k8s-examples.sh: error: %s\n' "$*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "must run as root (minipod makes real pods)"
[[ -f $EXAMPLES/INDEX.tsv ]] || die "no $EXAMPLES/INDEX.tsv"
[[ -f $STORE/images/repositories.json ]] || die "no images in $STORE (scripts/build-images.sh --root $STORE)"
if [[ -z ${MINIPOD:-} ]]; then
    for MINIPOD in "${CARGO_TARGET_DIR:-$REPO/target}"/{debug,release}/minipod ""; do
        [[ -z $MINIPOD || -x $MINIPOD ]] && break
    done
fi
[[ -n $MINIPOD && -x $MINIPOD ]] || die "no minipod binary (cargo build, or set MINIPOD=)"
command -v python3 >/dev/null || die "python3 is needed to read pod status"

ROOT=""
mp() { "$MINIPOD" --root "$ROOT" "$@"; }

# pods_json: every pod of the root, as `get pods -A -o json`.
pods_json() { mp get pods -A -o json 2>/dev/null || echo '{"items": []}'; }

# pod_query WHAT: phases, highest restart count, reasons seen, readiness, or the first pod.
pod_query() {
    pods_json | python3 -c '
import json, sys
what = sys.argv[1]
items = json.load(sys.stdin).get("items", [])
def statuses(p):
    s = p.get("status", {})
    return s.get("initContainerStatuses", []) + s.get("containerStatuses", [])
if what == "phases":
    print(" ".join(p.get("status", {}).get("phase", "?") for p in items))
elif what == "restarts":
    print(max([c.get("restartCount", 0) for p in items for c in statuses(p)] or [0]))
elif what == "reasons":
    out = set()
    for p in items:
        for c in statuses(p):
            for key in ("state", "lastState"):
                for st in c.get(key, {}).values():
                    if st.get("reason"):
                        out.add(st["reason"])
    print(" ".join(sorted(out)))
elif what == "ready":
    print(" ".join(str(bool(p.get("status", {}).get("containerStatuses"))
                       and all(c.get("ready") for c in p["status"]["containerStatuses"]))
                   for p in items))
elif what == "first":
    print(items[0]["metadata"]["name"] + " " + items[0]["metadata"].get("namespace", "default") if items else "")
' "$1"
}

# wait_until SECS CMD...: run CMD every second until it succeeds (0) or SECS pass (1).
wait_until() {
    local end=$((SECONDS + $1)); shift
    while ((SECONDS < end)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    "$@" >/dev/null 2>&1
}

all_started() {
    local phases
    phases=$(pod_query phases)
    [[ -n $phases ]] || return 1
    for p in $phases; do [[ $p == Running || $p == Succeeded ]] || return 1; done
}
restarted() { (($(pod_query restarts) >= 1)); }
reason_seen() { [[ " $(pod_query reasons) " == *" $1 "* ]]; }
all_ready() { local r; r=$(pod_query ready); [[ -n $r && " $r " != *" False "* ]]; }
# in_pod CONTAINER NEEDLE CMD...: exec CMD in the (first) pod's CONTAINER ("" = the
# default one); its output contains NEEDLE.
in_pod() {
    local c=$1 needle=$2 name ns out; shift 2
    read -r name ns <<<"$(pod_query first)"
    [[ -n $name ]] || return 1
    if [[ -n $c ]]; then
        out=$(mp exec -n "$ns" "$name" -c "$c" -- "$@" 2>&1) || return 1
    else
        out=$(mp exec -n "$ns" "$name" -- "$@" 2>&1) || return 1
    fi
    [[ $out == *"$needle"* ]]
}
# log_has CONTAINER NEEDLE: the first pod's CONTAINER logged NEEDLE.
log_has() {
    local name ns
    read -r name ns <<<"$(pod_query first)"
    [[ -n $name ]] && mp logs -n "$ns" "$name" -c "$1" 2>/dev/null | grep -qF -- "$2"
}
# top_line: CPU and memory of the first pod, as `top pod` prints them.
top_line() {
    local name ns
    read -r name ns <<<"$(pod_query first)"
    mp top pod -n "$ns" "$name" --no-headers 2>/dev/null | awk '{print $2 " CPU, " $3}'
}
pod_json_has() { pods_json | grep -qF -- "$1"; }
describe_has() {
    local name ns
    read -r name ns <<<"$(pod_query first)"
    [[ -n $name ]] && mp describe pod -n "$ns" "$name" 2>/dev/null | grep -qF -- "$1"
}

# check PATH: wait for what the documentation page shows; print what was seen, or
# return 1 with the reason printed.
check() {
    local long=$((WAIT > 45 ? WAIT : 45))
    case $1 in
        pods/probe/http-liveness.yaml)
            wait_until "$long" describe_has "Liveness probe failed: HTTP probe failed with statuscode: 500" \
                || { echo "no 'Liveness probe failed: HTTP probe failed with statuscode: 500' event"; return 1; }
            wait_until "$long" restarted || { echo "no restart after the failed probes"; return 1; }
            echo "restarted $(pod_query restarts)x after /healthz turned 500; event 'Liveness probe failed: HTTP probe failed with statuscode: 500'" ;;
        pods/resource/memory-request-limit-2.yaml)
            wait_until "$WAIT" reason_seen OOMKilled || { echo "never OOMKilled (reasons: $(pod_query reasons))"; return 1; }
            echo "OOMKilled under its 100Mi limit, restarts $(pod_query restarts)" ;;
        pods/probe/tcp-liveness-readiness.yaml)
            wait_until "$long" all_ready || { echo "not Ready after ${long}s"; return 1; }
            echo "Ready once the tcpSocket probe on :8080 passed (after initialDelaySeconds 15)" ;;
        pods/inject/envars.yaml)
            wait_until "$WAIT" in_pod "" "Hello from the environment" printenv DEMO_GREETING \
                || { echo "printenv DEMO_GREETING did not print 'Hello from the environment'"; return 1; }
            wait_until "$WAIT" in_pod "" "Hostname: envar-demo" wget -qO- http://localhost:8080/ \
                || { echo "hello-app did not answer 'Hostname: envar-demo' on :8080"; return 1; }
            echo "Running; printenv DEMO_GREETING: Hello from the environment; :8080 answers Hello, world! / Version: 2.0.0 / Hostname: envar-demo" ;;
        pods/security/seccomp/ga/default-pod.yaml)
            wait_until "$WAIT" in_pod "" "just made some more syscalls!" wget -qO- http://localhost:5678/ \
                || { echo "no 'just made some more syscalls!' on :5678"; return 1; }
            echo "Running; :5678 answers 'just made some more syscalls!'" ;;
        pods/security/security-context-2.yaml)
            wait_until "$WAIT" in_pod "" "2000" id -u || { echo "id -u is not 2000"; return 1; }
            echo "Running as uid 2000" ;;
        pods/security/security-context.yaml)
            wait_until "$WAIT" in_pod "" "Hello Kubernetes!" wget -qO- http://localhost:8080/ \
                || { echo "no 'Hello Kubernetes!' on :8080"; return 1; }
            echo "Running; :8080 answers 'Hello Kubernetes!'" ;;
        pods/storage/redis.yaml|pods/probe/pod-with-tcp-socket-healthcheck.yaml)
            wait_until "$WAIT" in_pod "" "PONG" redis-cli ping || { echo "redis-cli ping: no PONG"; return 1; }
            echo "Running; redis-cli ping: PONG" ;;
        pods/resource/cpu-request-limit.yaml|pods/resource/memory-request-limit.yaml)
            wait_until "$WAIT" all_started || { echo "not Running: $(pod_query phases)"; return 1; }
            sleep 3
            restarted && { echo "restarted under its limit (reasons: $(pod_query reasons))"; return 1; }
            echo "Running under its limit, no restart; top: $(top_line)" ;;
        pods/probe/exec-liveness.yaml|pods/probe/pod-with-http-healthcheck.yaml)
            # cat /tmp/healthy fails after 30 s / stock nginx answers 404 for the
            # probe's path (first probe at 30 s): kubelet restarts the container.
            local slow=$((WAIT > 75 ? WAIT : 75))
            wait_until "$slow" restarted || { echo "no restart after ${slow}s"; return 1; }
            describe_has "Liveness probe failed" || { echo "no 'Liveness probe failed' event"; return 1; }
            echo "restarted after failed liveness probes (event 'Liveness probe failed')" ;;
        debug/termination.yaml)
            wait_until "$WAIT" pod_json_has "Sleep expired" || { echo "no termination message 'Sleep expired'"; return 1; }
            echo "terminated with message 'Sleep expired' (from /dev/termination-log)" ;;
        pods/two-container-pod.yaml)
            wait_until "$WAIT" in_pod nginx-container "Hello from the debian container" curl -s http://localhost/ \
                || { echo "nginx does not serve 'Hello from the debian container'"; return 1; }
            echo "debian-container Completed; nginx serves 'Hello from the debian container'" ;;
        pods/lifecycle-events.yaml)
            wait_until "$WAIT" in_pod "" "Hello from the postStart handler" cat /usr/share/message \
                || { echo "/usr/share/message lacks 'Hello from the postStart handler'"; return 1; }
            echo "Running; postStart wrote 'Hello from the postStart handler'" ;;
        pods/inject/dapi-envars-container.yaml)
            wait_until "$WAIT" log_has test-container "33554432" || { echo "test-container logged no 33554432"; return 1; }
            echo "Running; logs show the requests and limits (33554432, 67108864)" ;;
        pods/multi-container/adapter.yaml)
            wait_until "$WAIT" log_has adapter "adapted:" || { echo "adapter logged no 'adapted:'"; return 1; }
            echo "Running; adapter logs 'adapted: ...'" ;;
        pods/multi-container/startup-coordination.yaml)
            wait_until "$WAIT" log_has main-app "greeting=hello" || { echo "main-app logged no 'greeting=hello'"; return 1; }
            echo "Running; main-app logs 'greeting=hello'" ;;
        admin/logging/two-files-counter-pod-streaming-sidecar.yaml)
            wait_until "$WAIT" log_has count-log-2 "INFO 0" || { echo "count-log-2 logged no 'INFO 0'"; return 1; }
            echo "Running; count-log-2 logs '<date> INFO 0'" ;;
        pods/init-containers.yaml)
            # Needs the Internet (wget http://info.cern.ch): offline the pod stays in Init.
            if wait_until "$WAIT" all_started; then echo "Running (the init container reached info.cern.ch)"
            else echo "in Init (no Internet for wget http://info.cern.ch, as the page says): $(pod_query reasons)"; fi ;;
        *)
            wait_until "$WAIT" all_started || { echo "not Running or Completed after ${WAIT}s: $(pod_query phases) $(pod_query reasons)"; return 1; }
            echo "$(pod_query phases | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s%s", sep, $2 ($1 > 1 ? " x" $1 : ""); sep=", "}')" ;;
    esac
}

# namespaces_of FILE: the namespaces a manifest names (the pages create them first).
namespaces_of() {
    sed -n 's/^[[:space:]]*"\{0,1\}namespace"\{0,1\}:[[:space:]]*"\{0,1\}\([a-z0-9-]*\).*/\1/p' "$1" | sort -u
}

# processes_of_root: host processes whose command line or environment names $ROOT
# (a pod's supervisor carries MINIPOD_ROOT; the controller manager its --root).
processes_of_root() {
    local p
    for p in /proc/[0-9]*; do
        grep -qsF -- "$ROOT" "$p/cmdline" "$p/environ" 2>/dev/null && echo "${p#/proc/}"
    done
    return 0
}
no_pods() { [[ -z $(pod_query phases) ]]; }
no_processes() { [[ -z $(processes_of_root) ]]; }

# cleanup_root PATH: the example's objects, the controller manager (it would make the
# pods again), every pod; then nothing of the root may remain.
cleanup_root() {
    [[ -n $ROOT && -d $ROOT ]] || return 0
    mp delete -f "$EXAMPLES/$1" --grace-period=0 --force >/dev/null 2>&1 || true
    local ns p
    for p in $(processes_of_root); do
        grep -qs controller-manager "/proc/$p/cmdline" && kill -KILL "$p" 2>/dev/null
    done
    for ns in default $(namespaces_of "$EXAMPLES/$1"); do
        mp delete pods --all -n "$ns" --grace-period=0 --force >/dev/null 2>&1 || true
    done
    wait_until 30 no_pods || echo "k8s-examples.sh: $1: pods left in $ROOT" >&2
    wait_until 30 no_processes || echo "k8s-examples.sh: $1: processes left: $(processes_of_root)" >&2
    rm -rf --one-file-system "$ROOT" || echo "k8s-examples.sh: $1: could not remove $ROOT" >&2
    ROOT=""
}
trap 'cleanup_root "${CURRENT:-}"' EXIT

n_ok=0 n_refused=0 n_noimage=0 n_skipped=0 n_fail=0
report() {
    printf '%-8s %-62s %s\n' "${1%-image}" "$2" "$3"
    case $1 in ok) n_ok=$((n_ok + 1)) ;; refused) n_refused=$((n_refused + 1)) ;;
        refused-image) n_noimage=$((n_noimage + 1)) ;;
        skipped) n_skipped=$((n_skipped + 1)) ;; *) n_fail=$((n_fail + 1)) ;; esac
}

while IFS=$'\t' read -r path _source _kind _images _features _expected _notes; do
    [[ $path == path ]] && continue
    if [[ ${#ONLY[@]} -gt 0 && " ${ONLY[*]} " != *" $path "* ]]; then continue; fi
    if [[ $path == application/basic-daemonset.yaml && $HOST_WRITES -eq 0 ]]; then
        report skipped "$path" "its init container writes the host's /var/log/machine-id.log (--host-writes runs it)"
        continue
    fi
    CURRENT=$path
    ROOT=$(mktemp -d /tmp/k8s-examples.XXXXXX)
    ln -s "$STORE/images" "$ROOT/images"
    for ns in $(namespaces_of "$EXAMPLES/$path"); do mp create namespace "$ns" >/dev/null 2>&1 || true; done
    if out=$(mp apply -f "$EXAMPLES/$path" 2>&1); then
        # A controller is created even without its image; its pods are not.
        missing=$(grep -m1 -i 'warning.*image' <<<"$out" || true)
        if [[ -n $missing && $path == controllers/frontend.yaml ]]; then
            # The guestbook's Apache+PHP image has no stand-in (yet).
            report refused-image "$path" "image not available offline: $(grep -o 'image "[^"]*"' <<<"$missing" | head -n1) is not in the local store (no stand-in)"
        elif [[ -n $missing ]]; then
            report FAIL "$path" "no image: $missing"
        elif detail=$(check "$path"); then report ok "$path" "$detail"
        else report FAIL "$path" "$detail"
        fi
    else
        first=$(grep -m1 -i 'error' <<<"$out" || head -n1 <<<"$out")
        first=${first#*"$path": }
        if [[ $first == *"not found in the local store"* ]]; then
            report FAIL "$path" "no image: $first"
        elif [[ $first =~ (spec|metadata)\.[A-Za-z] || $first == *"kind "* ]]; then
            report refused "$path" "$first"
        else
            report FAIL "$path" "refused, naming no field: $first"
        fi
    fi
    cleanup_root "$path"
    CURRENT=""
done <"$EXAMPLES/INDEX.tsv"

for path in "${ONLY[@]}"; do
    grep -q "^$path	" "$EXAMPLES/INDEX.tsv" || report FAIL "$path" "not in INDEX.tsv"
done
echo "$((n_ok + n_refused + n_noimage + n_skipped + n_fail)) files: $n_ok ran as documented," \
    "$n_refused refused naming a field, $n_noimage without an image offline (guestbook)," \
    "$n_skipped skipped, $n_fail failed"
[[ $n_fail -eq 0 ]]

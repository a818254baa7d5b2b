#!/usr/bin/env bash
# Benchmarks of minipod side by side with podman, crun and runc (issue 6).
#
#   sudo scripts/bench.sh [--runs N] [--warmup N] [--pods N] [--no-docs]
#
#   --runs N     timed runs per benchmark after warm-up (default 10, at least 10)
#   --warmup N   untimed warm-up runs per benchmark (default 2)
#   --pods N     pods for the scale scenario (default 50)
#   --no-docs    print the table only; do not rewrite docs/benchmarks.md
#
# Installs its peers from Debian packages if missing (podman crun runc catatonit
# hyperfine, with netavark/aardvark-dns/iptables for podman's network, jq, strace),
# builds minipod (release) and the images, prepares identical inputs under a private
# /tmp directory, runs the five scenarios of issue 6, prints one table and regenerates
# docs/benchmarks.md (everything after the "kept by bench.sh" marker is kept).
#
# podman runs with its own containers.conf / storage.conf under the work directory
# (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF): nothing is written to /etc/containers.
# The only runtime change to the host: a controller still attached to the cgroup2
# mount in hybrid mode (hugetlb here) is mounted as a v1 hierarchy so crun accepts the
# host; it is unmounted again at exit. Every pod, container, image, mount and process
# created here is removed at exit.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$SCRIPTS")
B=$SCRIPTS/bench
RUNS=10 WARMUP=2 NPODS=50 DOCS=1

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --pods) NPODS=$2; shift 2 ;;
        --no-docs) DOCS=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ $RUNS -ge 10 ]] || { echo "bench.sh: --runs must be at least 10" >&2; exit 2; }
[[ $NPODS -ge 20 ]] || { echo "bench.sh: --pods must be at least 20 (first 10 vs last 10)" >&2; exit 2; }

msg() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench.sh: error: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root"
T0=$(date +%s)

# ------------------------------------------------------------------ peers from Debian
PKGS=(podman crun runc catatonit hyperfine netavark aardvark-dns iptables jq strace)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    msg "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    # No recommends: uidmap, slirp4netns and fuse-overlayfs are for rootless podman;
    # as root on ext4 podman uses the kernel's overlay driver and netavark.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# ------------------------------------------------------------------ work dir and cleanup
WORK=$(mktemp -d /tmp/minipod-bench.XXXXXX)
MROOT=$WORK/minipod            # minipod --root
IN=$WORK/inputs                # identical inputs for every tool
OUT=$WORK/out                  # hyperfine JSON, raw samples
PODMAN_DIR=$WORK/podman
mkdir -p "$IN" "$OUT" "$PODMAN_DIR/tmp"
RES=$OUT/results.tsv; : >"$RES"
MOUNTED_CG=()                  # v1 hierarchies we mounted
CG_PARENT_EXISTED=()           # libpod_parent cgroups that existed before us
for d in /sys/fs/cgroup/*/libpod_parent; do [[ -d $d ]] && CG_PARENT_EXISTED+=("$d"); done
STATIC_PAUSE_PID=

prune_podman_cgroups() {   # empty cgroups podman leaves under libpod_parent (see PITFALLS)
    local d
    for d in /sys/fs/cgroup/*/libpod_parent; do
        [[ -d $d ]] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
}

cleanup() {
    local rc=$? p m d
    set +e
    trap - EXIT INT TERM
    msg "cleanup"
    if [[ -x ${M:-} && -d $MROOT ]]; then
        for p in $("$M" --root "$MROOT" get pods -A -o name 2>/dev/null); do
            "$M" --root "$MROOT" delete "$p" --grace-period=0 --force >/dev/null 2>&1
        done
    fi
    if command -v podman >/dev/null && [[ -n ${CONTAINERS_STORAGE_CONF:-} ]]; then
        podman pod rm -a -f -t 0 >/dev/null 2>&1
        podman rm -a -f -t 0 >/dev/null 2>&1
        podman volume prune -f >/dev/null 2>&1
        podman rmi -a -f >/dev/null 2>&1
    fi
    crun delete -f bench-crun >/dev/null 2>&1
    [[ -x ${MR:-} ]] && "$MR" --root "$WORK/mr-root" delete -f bench-mr >/dev/null 2>&1
    runc delete -f bench-runc >/dev/null 2>&1
    [[ -n $STATIC_PAUSE_PID ]] && kill "$STATIC_PAUSE_PID" 2>/dev/null
    # Any process still referring to the work dir (shim env, conmon args): by PID.
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" ]] && continue
        if cat "/proc/$p/cmdline" 2>/dev/null | tr '\0' '\n' | grep -q "$WORK" ||
           cat "/proc/$p/environ" 2>/dev/null | tr '\0' '\n' | grep -qx "MINIPOD_ROOT=$MROOT"; then
            kill -9 "$p" 2>/dev/null
        fi
    done
    sleep 0.2
    # Mounts under the work dir, deepest first.
    awk -v w="$WORK" '$2 ~ "^"w {print $2}' /proc/self/mounts | sort -r |
        while read -r m; do umount -l "$m"; done
    prune_podman_cgroups
    for d in /sys/fs/cgroup/*/libpod_parent; do
        [[ -d $d && ! " ${CG_PARENT_EXISTED[*]} " == *" $d "* ]] && rmdir "$d" 2>/dev/null
    done
    for m in "${MOUNTED_CG[@]}"; do
        find "$m" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
        umount "$m" && rmdir "$m" 2>/dev/null
        msg "unmounted the v1 hierarchy $m again"
    done
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ minipod and images
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
msg "cargo build --release (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$REPO" && cargo build --release -q)
M=$CARGO_TARGET_DIR/release/minipod
for b in minipod minipod-shim minipod-pause; do
    [[ -x $CARGO_TARGET_DIR/release/$b ]] || die "no $b in $CARGO_TARGET_DIR/release"
done

IMG_OUT=${MINIPOD_BUILD_CACHE:-/var/lib/minipod/build}
msg "images (scripts/build-images.sh --root $MROOT --out $IMG_OUT; cached when unchanged)"
MINIPOD=$M "$SCRIPTS/build-images.sh" --root "$MROOT" --out "$IMG_OUT" --no-load >/dev/null

# The build writes one OCI index with two tags per image (1.36 and latest); podman 4.3's
# `load` refuses an archive with more than one image. Every tool gets the same archive
# with the first tag only (same blobs, same digests).
for img in busybox nginx; do
    x=$WORK/x-$img; mkdir -p "$x"
    tar -xf "$IMG_OUT/$img.oci.tar" -C "$x"
    jq '.manifests |= [.[0]]' "$x/index.json" >"$x/index.new" && mv "$x/index.new" "$x/index.json"
    (cd "$x" && tar --sort=name --owner=0 --group=0 --numeric-owner -cf "$IN/$img.oci.tar" oci-layout index.json blobs)
    rm -rf "$x"
    "$M" --root "$MROOT" image load -i "$IN/$img.oci.tar" >/dev/null
done
# nginx layers as plain gzip tarballs, in manifest order, for `tar -xzf`.
mkdir -p "$IN/nginx-layers" "$WORK/x"
tar -xf "$IN/nginx.oci.tar" -C "$WORK/x"
mdig=$(jq -r '.manifests[0].digest' "$WORK/x/index.json"); mdig=${mdig#sha256:}
i=0
for l in $(jq -r '.layers[].digest' "$WORK/x/blobs/sha256/$mdig"); do
    i=$((i+1)); cp "$WORK/x/blobs/sha256/${l#sha256:}" "$IN/nginx-layers/$i.tar.gz"
done
NLAYERS=$i; rm -rf "$WORK/x"

# The busybox rootfs and an OCI bundle running /bin/true for crun and runc.
mkdir -p "$IN/bundle/rootfs"
tar -xf "$IN/busybox.oci.tar" -C "$WORK" blobs
mdig=$(tar -xOf "$IN/busybox.oci.tar" index.json | jq -r '.manifests[0].digest'); mdig=${mdig#sha256:}
for l in $(jq -r '.layers[].digest' "$WORK/blobs/sha256/$mdig"); do
    tar -xzf "$WORK/blobs/sha256/${l#sha256:}" -C "$IN/bundle/rootfs"
done
rm -rf "$WORK/blobs"
(cd "$IN/bundle" && runc spec && jq '.process.args = ["/bin/true"] | .process.terminal = false' config.json >c && mv c config.json)

# Manifests: the seed's sidecar pod unchanged, the /bin/true pod, the scale pod.
SIDECAR=$IN/sidecar-pod.yaml; cp "$REPO/examples/sidecar-pod.yaml" "$SIDECAR"
TRUEPOD=$IN/true-pod.yaml;    cp "$B/true-pod.yaml" "$TRUEPOD"
mkdir -p "$IN/scale"
for i in $(seq -w 1 "$NPODS"); do sed "s/NAME/scale-$i/" "$B/scale-pod.yaml" >"$IN/scale/scale-$i.yaml"; done

# ------------------------------------------------------------------ podman for this host
# No systemd: cgroupfs and file events. Root lacks CAP_SYS_RESOURCE, so every default
# rlimit must stay at or below the hard limits; podman itself lowers its own NPROC hard
# limit to 32768 before starting crun, so the containers' nproc must not exceed it.
hn=$(ulimit -Hn); hu=$(ulimit -Hu); [[ $hu == unlimited || $hu -gt 32768 ]] && hu=32768
cat >"$PODMAN_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$hn:$hn", "nproc=$hu:$hu"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
tmp_dir = "$PODMAN_DIR/tmp"
EOF
cat >"$PODMAN_DIR/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "$PODMAN_DIR/run"
graphroot = "$PODMAN_DIR/graph"
EOF
export CONTAINERS_CONF=$PODMAN_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf

# Hybrid cgroups: crun refuses a host where cgroup2 still owns controllers
# ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2").
U=/sys/fs/cgroup/unified
# (not `-s`: cgroupfs files report size 0)
if [[ -f $U/cgroup.controllers && -n $(cat "$U/cgroup.controllers") ]]; then
    for c in $(cat "$U/cgroup.controllers"); do
        mkdir -p "/sys/fs/cgroup/$c"
        mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" || die "cannot move $c off cgroup2"
        MOUNTED_CG+=("/sys/fs/cgroup/$c")
        msg "mounted $c as a v1 hierarchy at /sys/fs/cgroup/$c for crun (until exit)"
    done
fi

for img in busybox nginx; do podman load -q -i "$IN/$img.oci.tar" >/dev/null; done
podman image exists docker.io/library/nginx:1.27 && podman image exists docker.io/library/busybox:1.36 ||
    die "podman did not name the images docker.io/library/{nginx:1.27,busybox:1.36}"
msg "warm-up: podman's infra image and default network (first kube play)"
podman kube play "$SIDECAR" >/dev/null
podman pod rm -f -t 0 sidecar-pod >/dev/null
podman volume prune -f >/dev/null; prune_podman_cgroups

# ------------------------------------------------------------------ measuring helpers
HF=(hyperfine --style basic --runs "$RUNS" --warmup "$WARMUP")
# hf NAME [hyperfine options...] COMMAND: one benchmark, JSON in $OUT/NAME.json
hf() {
    local name=$1; shift
    msg "hyperfine: $name"
    "${HF[@]}" --export-json "$OUT/$name.json" "$@" >"$OUT/$name.log" 2>&1 ||
        { cat "$OUT/$name.log" >&2; die "benchmark $name failed"; }
}
# ms NAME -> "median min max" in ms
ms() { jq -r '.results[0] | [.median, .min, .max] | map(. * 1000 * 100 | round / 100) | map(tostring) | join(" ")' "$OUT/$1.json"; }
# stats FILE -> "median min max" of the numbers in FILE (one a line)
stats() { sort -n "$1" | awk '{a[NR]=$1} END {m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.2f %.2f %.2f\n", m, a[1], a[NR]}'; }
# row SCENARIO UNIT "MED MIN MAX" PEER "MED MIN MAX"
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RES"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# smaps_kb PID FIELD -> FIELD (Rss, Pss, ...) of /proc/PID/smaps_rollup, in kB
smaps_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/smaps_rollup"; }
mp() { "$M" --root "$MROOT" "$@"; }
MPDEL="$M --root $MROOT delete pod"
PRUNE="find /sys/fs/cgroup/*/libpod_parent -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; podman volume prune -f >/dev/null 2>&1; true"

# ------------------------------------------------------------------ 1. pod start
msg "1. pod start: the seed sidecar pod"
hf mp-apply --prepare "$MPDEL sidecar-pod --grace-period=0 --force >/dev/null 2>&1; true" \
    "$M --root $MROOT apply -f $SIDECAR"
mp delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1
hf mp-delete --prepare "$M --root $MROOT apply -f $SIDECAR >/dev/null" \
    "$MPDEL sidecar-pod --grace-period=0 --force"
hf mp-cycle "$M --root $MROOT apply -f $SIDECAR >/dev/null && $MPDEL sidecar-pod --grace-period=0 --force"
hf pm-play --prepare "podman pod rm -f -t 0 sidecar-pod >/dev/null 2>&1; $PRUNE" \
    "podman kube play $SIDECAR"
podman pod rm -f -t 0 sidecar-pod >/dev/null; eval "$PRUNE"
hf pm-down --prepare "podman kube play $SIDECAR >/dev/null" \
    --cleanup "$PRUNE" "podman pod rm -f -t 0 sidecar-pod"
hf pm-cycle --prepare "$PRUNE" "podman kube play $SIDECAR >/dev/null && podman pod rm -f -t 0 sidecar-pod"
podman pod rm -f -t 0 sidecar-pod >/dev/null 2>&1 || true
eval "$PRUNE"
row "1. sidecar pod: apply (until both run)" ms "$(ms mp-apply)" "podman kube play" "$(ms pm-play)"
row "1. sidecar pod: delete (force, grace 0)" ms "$(ms mp-delete)" "podman pod rm -f -t 0" "$(ms pm-down)"
row "1. sidecar pod: apply + delete" ms "$(ms mp-cycle)" "kube play + pod rm -f -t 0" "$(ms pm-cycle)"
# What seccomp costs at start: the same apply with no filter (a stock kubelet's default).
hf mp-apply-unconfined --prepare "$MPDEL sidecar-pod --grace-period=0 --force >/dev/null 2>&1; true" \
    "MINIPOD_SECCOMP_DEFAULT=Unconfined $M --root $MROOT apply -f $SIDECAR"
mp delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1
row "1. sidecar pod: apply, seccomp RuntimeDefault (peer: minipod Unconfined)" ms "$(ms mp-apply)" \
    "minipod, MINIPOD_SECCOMP_DEFAULT=Unconfined" "$(ms mp-apply-unconfined)"
# What the pod network costs at start: the same apply with no CNI plugin to find
# (the pod keeps loopback only, as before minipod had a pod network).
hf mp-apply-nonet --prepare "$MPDEL sidecar-pod --grace-period=0 --force >/dev/null 2>&1; true" \
    "MINIPOD_CNI_BIN_DIR=/nonexistent $M --root $MROOT apply -f $SIDECAR"
mp delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1
row "1. sidecar pod: apply, CNI bridge network (peer: minipod, no pod network)" ms "$(ms mp-apply)" \
    "minipod, MINIPOD_CNI_BIN_DIR with no plugin (lo only)" "$(ms mp-apply-nonet)"
# An exec round trip into the running pod: minipod re-executes a sealed, read-only
# view of its own binary that joins the container (runtime::exec); podman goes
# through conmon and crun exec.
# While each runs (after the exec runs): the sidecar pod's per-pod processes, minipod's
# supervisor (and its minipod-pause) against podman's conmons (one per container and
# one for the infra) and catatonit (the infra), as RSS and PSS.
mp apply -f "$SIDECAR" >/dev/null
hf mp-exec "$M --root $MROOT exec sidecar-pod -c log-reader -- true"
SC_SHIM=
for p in $(pgrep -x minipod-shim); do
    if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qx "MINIPOD_ROOT=$MROOT"; then SC_SHIM=$p; fi
done
[[ -n $SC_SHIM ]] || die "no supervisor found for the sidecar pod"
SC_PAUSE=$(pgrep -P "$SC_SHIM" -x minipod-pause | head -1 || true)
[[ -n $SC_PAUSE ]] || die "no minipod-pause under the sidecar pod's supervisor $SC_SHIM"
SC_SHIM_RSS=$(smaps_kb "$SC_SHIM" Rss) SC_SHIM_PSS=$(smaps_kb "$SC_SHIM" Pss)
SC_PAUSE_RSS=$(smaps_kb "$SC_PAUSE" Rss) SC_PAUSE_PSS=$(smaps_kb "$SC_PAUSE" Pss)
grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Private_Dirty|Anonymous)' "/proc/$SC_SHIM/smaps_rollup" >"$OUT/smaps-sidecar-shim"
mp delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1
podman kube play "$SIDECAR" >/dev/null
hf pm-exec "podman exec sidecar-pod-log-reader true"
SC_CONMONS=0 SC_CONMON_RSS=0 SC_CONMON_PSS=0 SC_CATA_RSS=0 SC_CATA_PSS=0
for p in $(pgrep -x conmon); do
    tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -q "$PODMAN_DIR" || continue
    SC_CONMONS=$((SC_CONMONS + 1))
    SC_CONMON_RSS=$((SC_CONMON_RSS + $(smaps_kb "$p" Rss))) SC_CONMON_PSS=$((SC_CONMON_PSS + $(smaps_kb "$p" Pss)))
    for c in $(pgrep -P "$p" -x catatonit); do
        SC_CATA_RSS=$((SC_CATA_RSS + $(smaps_kb "$c" Rss))) SC_CATA_PSS=$((SC_CATA_PSS + $(smaps_kb "$c" Pss)))
    done
done
[[ $SC_CONMONS -ge 3 && $SC_CATA_RSS -gt 0 ]] || die "podman's sidecar pod: found $SC_CONMONS conmons, catatonit ${SC_CATA_RSS} kB"
podman pod rm -f -t 0 sidecar-pod >/dev/null 2>&1 || true
eval "$PRUNE"
row "1. exec round trip: exec -c log-reader -- true" ms "$(ms mp-exec)" "podman exec (conmon + crun exec)" "$(ms pm-exec)"
one() { awk -v k="$1" 'BEGIN {x = k / 1024; printf "%.2f %.2f %.2f", x, x, x}'; }
PEERS="catatonit + $SC_CONMONS conmon"
row "3. sidecar pod (2 containers): supervisor RSS" MB "$(one "$SC_SHIM_RSS")" "$PEERS, RSS summed" "$(one $((SC_CATA_RSS + SC_CONMON_RSS)))"
row "3. sidecar pod: supervisor + minipod-pause RSS" MB "$(one $((SC_SHIM_RSS + SC_PAUSE_RSS)))" "$PEERS, RSS summed" "$(one $((SC_CATA_RSS + SC_CONMON_RSS)))"
row "3. sidecar pod: supervisor + minipod-pause PSS" MB "$(one $((SC_SHIM_PSS + SC_PAUSE_PSS)))" "$PEERS, PSS summed" "$(one $((SC_CATA_PSS + SC_CONMON_PSS)))"

# ------------------------------------------------------------------ 2. one short container
msg "2. one short container: /bin/true"
hf mp-true "$B/minipod-run-true.sh $M $MROOT $TRUEPOD"
hf mp-true-apply --prepare "$MPDEL true-pod --grace-period=0 --force >/dev/null 2>&1; true" \
    "$M --root $MROOT apply -f $TRUEPOD"
mp delete pod true-pod --grace-period=0 --force >/dev/null 2>&1 || true
hf pm-run --prepare "$PRUNE" "podman run --rm docker.io/library/busybox:1.36 /bin/true"
hf pm-run-nonet --prepare "$PRUNE" "podman run --rm --network none docker.io/library/busybox:1.36 /bin/true"
hf crun-run "crun run -b $IN/bundle bench-crun"
hf runc-run "runc run -b $IN/bundle bench-runc"
row "2. /bin/true pod: apply..Completed..delete" ms "$(ms mp-true)" "podman run --rm" "$(ms pm-run)"
row "2. /bin/true pod: apply..Completed..delete" ms "$(ms mp-true)" "podman run --rm --network none (lo only)" "$(ms pm-run-nonet)"
row "2. /bin/true pod: apply..Completed..delete" ms "$(ms mp-true)" "crun run" "$(ms crun-run)"
row "2. /bin/true pod: apply..Completed..delete" ms "$(ms mp-true)" "runc run" "$(ms runc-run)"
row "2. /bin/true pod: apply only (started)" ms "$(ms mp-true-apply)" "crun run" "$(ms crun-run)"
# The runtime layer alone, through runc's command line (minipod-runc, a link to the
# same binary), on the very bundle crun and runc run; then podman driving it.
mkdir -p "$WORK/bin" "$WORK/mr-root"; MR=$WORK/bin/minipod-runc; ln -sf "$M" "$MR"
hf mr-run "$MR --root $WORK/mr-root run -b $IN/bundle bench-mr"
hf pm-run-mr --prepare "$PRUNE" \
    "podman --runtime $MR run --rm --network none docker.io/library/busybox:1.36 /bin/true"
row "2. runc CLI: run -b BUNDLE (/bin/true)" ms "$(ms mr-run)" "crun run" "$(ms crun-run)"
row "2. runc CLI: run -b BUNDLE (/bin/true)" ms "$(ms mr-run)" "runc run" "$(ms runc-run)"
row "2. podman --runtime minipod-runc run --rm --network none /bin/true" ms "$(ms pm-run-mr)" \
    "podman (crun) run --rm --network none" "$(ms pm-run-nonet)"

# ------------------------------------------------------------------ 4. image load
msg "4. image load: nginx"
hf mp-load --prepare "rm -rf $WORK/imgload" "$M --root $WORK/imgload image load -i $IN/nginx.oci.tar"
rm -rf "$WORK/imgload"
hf pm-load --prepare "podman rmi -f docker.io/library/nginx:1.27 >/dev/null 2>&1; true" \
    "podman load -q -i $IN/nginx.oci.tar"
TARX="mkdir $WORK/tarx"
for i in $(seq 1 "$NLAYERS"); do TARX+=" && tar -xzf $IN/nginx-layers/$i.tar.gz -C $WORK/tarx"; done
hf tar-x --prepare "rm -rf $WORK/tarx" "$TARX"
rm -rf "$WORK/tarx"
podman image exists docker.io/library/nginx:1.27 || podman load -q -i "$IN/nginx.oci.tar" >/dev/null
row "4. image load nginx ($(du -m "$IN/nginx.oci.tar" | cut -f1) MB)" ms "$(ms mp-load)" "podman load" "$(ms pm-load)"
row "4. image load nginx" ms "$(ms mp-load)" "tar -xzf of its $NLAYERS layers" "$(ms tar-x)"

# ------------------------------------------------------------------ 5. scale (+ 3. resident memory)
mem_used_mb() { awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {printf "%.0f", (t-a)/1024}' /proc/meminfo; }
# start_all TOOL: start NPODS pods one after another, one duration (ms) a line
start_all() {
    local i f s e
    for f in "$IN"/scale/scale-*.yaml; do
        s=$(date +%s%N)
        if [[ $1 == minipod ]]; then mp apply -f "$f" >/dev/null; else podman kube play "$f" >/dev/null; fi
        e=$(date +%s%N)
        awk -v s="$s" -v e="$e" 'BEGIN {printf "%.2f\n", (e - s) / 1e6}'
    done
}
head10() { head -n 10 "$1" >"$1.first"; stats "$1.first"; }
tail10() { tail -n 10 "$1" >"$1.last"; stats "$1.last"; }

msg "5. scale: $NPODS minipod pods"
sync; MEM0=$(mem_used_mb)
start_all minipod >"$OUT/mp-scale.ms"
sleep 1; MEM1=$(mem_used_mb)
[[ $(mp get pods --no-headers | grep -c Running) -eq $NPODS ]] || die "not all $NPODS minipod pods run"
: >"$OUT/mp-shim.kb"; : >"$OUT/mp-pause.kb"
SHIM_PIDS=()
for p in $(pgrep -x minipod-shim); do
    cat "/proc/$p/environ" 2>/dev/null | tr '\0' '\n' | grep -qx "MINIPOD_ROOT=$MROOT" || continue
    SHIM_PIDS+=("$p"); rss_kb "$p" >>"$OUT/mp-shim.kb"
    for c in $(pgrep -P "$p" -x minipod-pause); do rss_kb "$c" >>"$OUT/mp-pause.kb"; done
done
[[ ${#SHIM_PIDS[@]} -eq $NPODS ]] || die "found ${#SHIM_PIDS[@]} shims for $NPODS pods"
ONE_SHIM=${SHIM_PIDS[0]}; ONE_PAUSE=$(pgrep -P "$ONE_SHIM" -x minipod-pause)
grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Private_Dirty|Anonymous)' "/proc/$ONE_SHIM/smaps_rollup" >"$OUT/smaps-shim"
grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Private_Dirty|Anonymous)' "/proc/$ONE_PAUSE/smaps_rollup" >"$OUT/smaps-pause"
hf mp-get "$M --root $MROOT get pods"
msg "deleting $NPODS minipod pods"
s=$(date +%s%N)
for i in $(seq -w 1 "$NPODS"); do mp delete pod "scale-$i" --grace-period=0 --force >/dev/null 2>&1; done
e=$(date +%s%N); MP_DEL_ALL=$(( (e - s) / 1000000 ))

msg "5. scale: $NPODS podman pods"
eval "$PRUNE"; sync; PMEM0=$(mem_used_mb)
start_all podman >"$OUT/pm-scale.ms"
sleep 1; PMEM1=$(mem_used_mb)
: >"$OUT/pm-catatonit.kb"; : >"$OUT/pm-conmon.kb"; CONMONS=0; CONMON_SUM=0; CATA_SUM=0
for p in $(pgrep -x conmon); do
    cat "/proc/$p/cmdline" 2>/dev/null | tr '\0' '\n' | grep -q "$PODMAN_DIR" || continue
    k=$(rss_kb "$p"); echo "$k" >>"$OUT/pm-conmon.kb"; CONMONS=$((CONMONS+1)); CONMON_SUM=$((CONMON_SUM+k))
    for c in $(pgrep -P "$p" -x catatonit); do
        k=$(rss_kb "$c"); echo "$k" >>"$OUT/pm-catatonit.kb"; CATA_SUM=$((CATA_SUM+k)); ONE_CATA=$c
    done
    ONE_CONMON=$p
done
grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Private_Dirty|Anonymous)' "/proc/$ONE_CATA/smaps_rollup" >"$OUT/smaps-catatonit"
grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Private_Dirty|Anonymous)' "/proc/$ONE_CONMON/smaps_rollup" >"$OUT/smaps-conmon"
hf pm-ps "podman pod ps"
msg "deleting $NPODS podman pods"
s=$(date +%s%N); podman pod rm -a -f -t 0 >/dev/null; e=$(date +%s%N); PM_DEL_ALL=$(( (e - s) / 1000000 ))
eval "$PRUNE"

# A static pause-equivalent (Kubernetes pause.c style), if a C compiler is here.
STATIC_PAUSE_KB=
if command -v gcc >/dev/null && gcc -static -Os -o "$WORK/pause-static" "$B/pause.c" 2>/dev/null; then
    "$WORK/pause-static" & STATIC_PAUSE_PID=$!
    sleep 0.3; STATIC_PAUSE_KB=$(rss_kb "$STATIC_PAUSE_PID")
    kill "$STATIC_PAUSE_PID"; wait "$STATIC_PAUSE_PID" 2>/dev/null || true; STATIC_PAUSE_PID=
fi

kb2mb() { awk '{printf "%.2f %.2f %.2f\n", $1/1024, $2/1024, $3/1024}'; }
row "3. infra RSS (per pod, $NPODS pods)" MB "$(stats "$OUT/mp-pause.kb" | kb2mb)" "catatonit" "$(stats "$OUT/pm-catatonit.kb" | kb2mb)"
[[ -n $STATIC_PAUSE_KB ]] &&
    row "3. infra RSS" MB "$(stats "$OUT/mp-pause.kb" | kb2mb)" "static pause.c (gcc -static)" "$(echo "$STATIC_PAUSE_KB" | awk '{printf "%s %s %s\n",$1,$1,$1}' | kb2mb)"
row "3. supervisor RSS (per pod / per container)" MB "$(stats "$OUT/mp-shim.kb" | kb2mb)" "conmon (one per container + infra)" "$(stats "$OUT/pm-conmon.kb" | kb2mb)"
MP_SUM=$(cat "$OUT/mp-shim.kb" "$OUT/mp-pause.kb" | awk '{s += $1} END {print s}')
v=$(awk -v s="$MP_SUM" -v n="$NPODS" 'BEGIN {x = s/n/1024; printf "%.2f %.2f %.2f", x, x, x}')
pv=$(awk -v s="$((CONMON_SUM + CATA_SUM))" -v n="$NPODS" 'BEGIN {x = s/n/1024; printf "%.2f %.2f %.2f", x, x, x}')
row "3. runtime RSS per 1-container pod (sum/$NPODS)" MB "$v" "catatonit + $((CONMONS / NPODS)) conmon" "$pv"
row "5. scale: apply, pods 1-10" ms "$(head10 "$OUT/mp-scale.ms")" "podman kube play, pods 1-10" "$(head10 "$OUT/pm-scale.ms")"
row "5. scale: apply, pods $((NPODS-9))-$NPODS" ms "$(tail10 "$OUT/mp-scale.ms")" "podman kube play, pods $((NPODS-9))-$NPODS" "$(tail10 "$OUT/pm-scale.ms")"
row "5. scale: get pods with $NPODS pods" ms "$(ms mp-get)" "podman pod ps" "$(ms pm-ps)"
v=$(awk -v a="$MEM0" -v b="$MEM1" -v n="$NPODS" 'BEGIN {x = (b-a); printf "%d %d %d", x, x, x}')
pv=$(awk -v a="$PMEM0" -v b="$PMEM1" -v n="$NPODS" 'BEGIN {x = (b-a); printf "%d %d %d", x, x, x}')
row "5. scale: host memory in use, +$NPODS pods" MB "$v" "podman, +$NPODS pods" "$pv"

# ------------------------------------------------------------------ 6. a Deployment of 10
msg "6. Deployment: 10 nginx replicas scaled 0 -> 10, then rolled (scripts/bench/deployment.sh)"
: >"$OUT/deploy.txt"
# Its two nginx tags (the scale-up's and the rollout's), built with the images above.
for img in nginx-1.17.8 nginx-1.17.10; do mp image load -i "$IMG_OUT/$img.oci.tar" >/dev/null; done
for i in 1 2 3; do "$B/deployment.sh" "$M" "$MROOT" >>"$OUT/deploy.txt"; done
dstat() { awk -v k="$1" '$1 == k {print $2}' "$OUT/deploy.txt" >"$OUT/deploy-$1"; stats "$OUT/deploy-$1"; }
SLO="5000 5000 5000"
row "6. Deployment of 10: scale 0->10 until rolled out (3 runs)" ms "$(dstat scale_0_to_10_ms)" "single-node cluster: pod start SLO p99" "$SLO"
row "6. Deployment of 10: slowest pod, created->Running (3 runs)" ms "$(dstat pod_start_max_ms)" "single-node cluster: pod start SLO p99" "$SLO"
row "6. Deployment of 10: rollout to a new image (3 runs)" ms "$(dstat rollout_10_ms)" "single-node cluster: pod start SLO p99" "$SLO"
DEPLOY_RSS=$(dstat manager_rss_kb)

# ------------------------------------------------------------------ the table
TABLE=$OUT/table.md
{
    echo "| scenario | minipod median | minipod min / max | peer | peer median | peer min / max | ratio minipod/peer |"
    echo "|---|---:|---:|---|---:|---:|---:|"
    while IFS=$'\t' read -r sc unit mv peer pv; do
        read -r mmed mmin mmax <<<"$mv"; read -r pmed pmin pmax <<<"$pv"
        ratio=$(awk -v a="$mmed" -v b="$pmed" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "n/a"}')
        if [[ $mmin == "$mmax" && $mmin == "$mmed" ]]; then mr="–"; else mr="$mmin / $mmax"; fi
        if [[ $pmin == "$pmax" && $pmin == "$pmed" ]]; then pr="–"; else pr="$pmin / $pmax"; fi
        echo "| $sc | $mmed $unit | $mr | $peer | $pmed $unit | $pr | $ratio |"
    done <"$RES"
} >"$TABLE"
echo
column -t -s '|' <(sed '2d' "$TABLE")
echo
printf 'memory in use (MemTotal-MemAvailable): minipod %s -> %s MB, podman %s -> %s MB\n' "$MEM0" "$MEM1" "$PMEM0" "$PMEM1"
printf 'deleting %s pods: minipod %s ms (one delete each), podman %s ms (pod rm -a -f -t 0)\n' "$NPODS" "$MP_DEL_ALL" "$PM_DEL_ALL"
printf 'controller manager resident memory with 10 pods (median min max kB): %s\n' "$DEPLOY_RSS"

# ------------------------------------------------------------------ where minipod's time goes
msg "profile: strace of one sidecar apply (CLI only) and its delete"
# No -f on apply: the supervisor it starts outlives it (strace -f would wait for it).
strace -c -o "$OUT/strace-apply-sidecar.txt" "$M" --root "$MROOT" apply -f "$SIDECAR" >/dev/null || true
sleep 0.5
strace -tt -e trace=kill,nanosleep,clock_nanosleep,unlinkat,rename,fdatasync \
    -o "$OUT/strace-delete-sidecar.txt" "$M" --root "$MROOT" delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1 || true
DEL_SLEEPS=$(grep -cE 'nanosleep' "$OUT/strace-delete-sidecar.txt" || true)
DEL_SPAN=$(awk 'NR==1 {split($1,a,":"); s=a[1]*3600+a[2]*60+a[3]} {split($1,a,":"); e=a[1]*3600+a[2]*60+a[3]} END {printf "%.0f", (e-s)*1000}' "$OUT/strace-delete-sidecar.txt")

{
    printf 'binary sizes (bytes): minipod %s, minipod-shim %s, minipod-pause %s, catatonit %s, conmon %s, static pause.c %s\n' \
        "$(stat -c %s "$M")" "$(stat -c %s "$CARGO_TARGET_DIR/release/minipod-shim")" \
        "$(stat -c %s "$CARGO_TARGET_DIR/release/minipod-pause")" \
        "$(stat -c %s "$(command -v catatonit)")" "$(stat -c %s "$(command -v conmon)")" \
        "$( [[ -f $WORK/pause-static ]] && stat -c %s "$WORK/pause-static" || echo n/a)"
    printf 'ldd minipod-pause: %s\n' "$(ldd "$CARGO_TARGET_DIR/release/minipod-pause" 2>&1 | awk '{print $1}' | paste -sd' ')"
    printf 'ldd minipod-shim: %s\n' "$(ldd "$CARGO_TARGET_DIR/release/minipod-shim" 2>&1 | awk '{print $1}' | paste -sd' ')"
    printf 'ldd catatonit: %s\n' "$(ldd "$(command -v catatonit)" 2>&1 | awk '{print $1}' | paste -sd' ' )"
    for f in pause shim sidecar-shim catatonit conmon; do printf 'smaps_rollup %s: %s\n' "$f" "$(awk '{printf "%s %s kB; ", $1, $2}' "$OUT/smaps-$f")"; done
    printf 'delete of the sidecar pod under strace (CLI process): %s ms, %s sleeps of 10 ms waiting for the supervisor\n' "$DEL_SPAN" "$DEL_SLEEPS"
    echo "strace -c of one sidecar apply, the CLI process only (top 12 by time):"
    sed -n '1,2p;3,15p' "$OUT/strace-apply-sidecar.txt"
} >"$OUT/profile.txt"
mp delete pod sidecar-pod --grace-period=0 --force >/dev/null 2>&1 || true
cat "$OUT/profile.txt"

# ------------------------------------------------------------------ docs/benchmarks.md
if [[ $DOCS -eq 1 ]]; then
    DOC=$REPO/docs/benchmarks.md
    MARK='<!-- Everything below this line is kept by scripts/bench.sh. -->'
    KEEP=$OUT/keep.md
    if [[ -f $DOC ]] && grep -qF "$MARK" "$DOC"; then
        awk -v m="$MARK" 'index($0, m) == 1 {k = 1} k' "$DOC" >"$KEEP"
    else
        echo "$MARK" >"$KEEP"
    fi
    mkdir -p "$REPO/docs"
    {
        echo "# Benchmarks: minipod beside podman, crun and runc"
        echo
        echo "Generated by \`sudo scripts/bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (took $(( $(date +%s) - T0 )) s)."
        echo "Medians over $RUNS runs after $WARMUP warm-up runs (hyperfine), unless a row says otherwise."
        echo "Timings are never asserted in tests. **The machine was shared**: other engineers were"
        echo "compiling and running tests on it at the same time (several minipod test suites in"
        echo "parallel), so expect noise, and trust ratios more than absolute figures: every ratio"
        echo "below compares two figures of this same run."
        echo
        echo "## Machine"
        echo
        echo "- $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")"
        echo "- cgroups: hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified), no systemd; root without CAP_SYS_RESOURCE (hard nofile $(ulimit -Hn))"
        echo "- minipod $("$M" --version | awk '{print $2}') (git $(git -C "$REPO" rev-parse --short HEAD), release build), $(podman --version), $(crun --version | head -1), $(runc --version | head -1), conmon $(conmon --version | awk 'NR==1 {print $3}'), catatonit $(dpkg-query -W -f '${Version}' catatonit), netavark $(dpkg-query -W -f '${Version}' netavark), $(hyperfine --version), $(tar --version | head -1)"
        echo
        echo "## Results"
        echo
        cat "$TABLE"
        echo
        echo "Memory in use on the host (MemTotal − MemAvailable; noisy on a shared machine): before/after $NPODS minipod pods $MEM0 → $MEM1 MB, before/after $NPODS podman pods $PMEM0 → $PMEM1 MB."
        echo "Deleting the $NPODS pods: minipod $MP_DEL_ALL ms (one \`delete pod --grace-period=0 --force\` each), podman $PM_DEL_ALL ms (\`podman pod rm -a -f -t 0\`)."
        echo
        echo "## What is timed"
        echo
        echo "- **1. sidecar pod**: the seed's \`examples/sidecar-pod.yaml\`, unchanged, for both tools. minipod \`apply -f\` returns once both containers run; \`podman kube play\` returns once they are started. Delete is \`minipod delete pod sidecar-pod --grace-period=0 --force\` (returns when everything is gone) against \`podman pod rm -f -t 0 sidecar-pod\` (the log-reader's PID 1 is \`sh\`, which ignores SIGTERM, so neither pays a grace timeout). Both give the pod a bridge network: podman its default one (netavark; \`kube play --network none\` of this manifest fails in podman 4.3 with exit 125), minipod its CNI network (Debian's \`bridge\`, \`host-local\` and \`portmap\` plugins, \`minipod0\`)."
        echo "- **1. the pod network at start**: the same sidecar apply with \`MINIPOD_CNI_BIN_DIR=/nonexistent\`: no plugin is found, so the pod keeps loopback only (a \`NetworkNotReady\` event); the difference is what the CNI ADD (bridge, veth, host-local lease, iptables NAT rules, portmap) costs."
        echo "- **1. seccomp and devices at start**: the same sidecar apply with \`MINIPOD_SECCOMP_DEFAULT=Unconfined\` (the app containers get no filter; the infra keeps its RuntimeDefault filter). The device rules (cgroup v1 \`devices.deny\`/\`devices.allow\` writes, or the cgroup v2 BPF program) cannot be switched off, so they are in both figures."
        echo "- **1. exec round trip**: \`minipod exec sidecar-pod -c log-reader -- true\` (the CLI re-executes a sealed, read-only view of its own binary, which joins the container's cgroup and namespaces, forks the command under the container's seccomp filter and waits for it) against \`podman exec sidecar-pod-log-reader true\` (conmon + crun exec), each with its pod running."
        echo "- **2. one short container**: minipod = \`apply\` of a one-container pod running \`/bin/true\` with \`restartPolicy: Never\`, polling \`get pods true-pod\` (no sleep) until it shows \`Completed\`, then \`delete --grace-period=0 --force\` (\`scripts/bench/minipod-run-true.sh\`). Peers: \`podman run --rm busybox:1.36 /bin/true\`, and \`crun run\` / \`runc run\` of an OCI bundle made with \`runc spec\` (args \`/bin/true\`, no terminal) over the same busybox rootfs; each of these creates, starts, waits for and deletes the container. The \"apply only\" row stops when apply returns."
        echo "- **2. runc CLI**: \`minipod-runc run -b BUNDLE\` (minipod started through a link named \`minipod-runc\`: runc's command line over the same runtime layer pods use) of the very bundle \`crun run\` and \`runc run\` get; each creates, starts, waits for and deletes the container. Then \`podman --runtime minipod-runc run --rm --network none busybox:1.36 /bin/true\` against the same podman with crun (conmon, storage and podman's own work are in both)."
        echo "- **3. resident memory**: VmRSS of each per-pod process while the $NPODS scale pods run (one busybox \`sleep\` container each): minipod-pause vs catatonit (podman's infra), minipod-shim vs conmon (podman runs one conmon per container, plus one for the infra), and a static \`pause.c\` (\`scripts/bench/pause.c\`, \`gcc -static -Os\`). RSS counts shared file pages (libc, the binary) in every process; see the smaps figures below for PSS. The **sidecar pod** rows compare the seed's 2-container pod as a whole, read from \`/proc/PID/smaps_rollup\` while each pod runs (after the exec runs of 1): minipod's one supervisor (and its minipod-pause) against the sum over podman's $SC_CONMONS conmons and catatonit of the same pod. After the pod has started (and after each container restart) the supervisor unmaps the code and read-only data it only needed to build the pod (\`src/pod/supervisor/resident.rs\`: \`madvise(MADV_DONTNEED)\` of every read-only file mapping with no private page, then \`malloc_trim\`); the pages stay in the page cache, and come back on their next use."
        echo "- **4. image load**: the nginx OCI archive (one tag; podman 4.3's \`load\` refuses the two-tag archive that build-images.sh writes, so every tool gets the same one-tag archive with the same blobs) into an empty minipod root, against \`podman load\` after \`podman rmi\`, and GNU \`tar -xzf\` of its layer blobs into an empty directory (no whiteouts, no digests: a floor)."
        echo "- **6. Deployment**: \`scripts/bench/deployment.sh\`: a Deployment of 10 nginx:1.17.8 replicas, \`scale\` 0 -> 10 until \`rollout status\` returns, each pod watched from its first listing to Running (\`get pods\` every 100 ms), then \`set image\` to nginx:1.17.10 until \`rollout status\` returns; three runs. The peer column is no measurement: it is Kubernetes' pod start SLO (5 s at the 99th percentile) that a single-node cluster is held to. The controller manager's resident memory: $DEPLOY_RSS kB (median min max)."
        echo "- **5. scale**: $NPODS pods (\`scripts/bench/scale-pod.yaml\`) applied one after another, each \`apply\` / \`kube play\` timed with \`date +%s%N\`; first 10 vs last 10 (median of 10). \`get pods\` vs \`podman pod ps\` with the $NPODS pods running."
        echo
        echo "## Environment tweaks this host needed (done by the script, undone at exit)"
        echo
        echo "- podman gets its own \`containers.conf\` and \`storage.conf\` under the private work directory (\`CONTAINERS_CONF\`, \`CONTAINERS_STORAGE_CONF\`); nothing is written to \`/etc/containers\`: \`cgroup_manager = \"cgroupfs\"\` and \`events_logger = \"file\"\` (no systemd), storage driver \`overlay\` (kernel overlayfs on ext4, no fuse-overlayfs), \`runtime = \"crun\"\`."
        echo "- \`default_ulimits = [\"nofile=$hn:$hn\", \"nproc=$hu:$hu\"]\`: root here lacks CAP_SYS_RESOURCE, so podman's default nofile (1048576) fails in crun with \`setrlimit RLIMIT_NOFILE: Operation not permitted\`. nproc needs the same treatment *and* must be at most 32768: podman 4.3 lowers its own RLIMIT_NPROC hard limit to 32768 before it starts crun, so the host's hard limit ($(ulimit -Hu)) is refused with \`setrlimit RLIMIT_NPROC: Operation not permitted\`."
        echo "- Hybrid cgroups: the cgroup2 mount owned \`hugetlb\`, and crun refuses that (\"cgroups in hybrid mode not supported\"); the script mounts each controller still on cgroup2 as a v1 hierarchy (\`mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb\`) for the run and unmounts it at exit. Empty cgroups podman leaves under \`libpod_parent\` are pruned between runs (not timed)."
        echo "- The two-tag OCI archives are rewritten with one tag (see 4); \`podman load\` then names them \`docker.io/library/nginx:1.27\` and \`docker.io/library/busybox:1.36\` from the \`io.containerd.image.name\` annotation, so \`kube play\` of the unchanged seed finds them locally."
        echo "- Packages: \`apt-get install --no-install-recommends podman crun runc catatonit hyperfine netavark aardvark-dns iptables jq strace\` when missing; uidmap, slirp4netns and fuse-overlayfs are not needed as root."
        echo "- First \`podman kube play\` (builds podman's \`localhost/podman-pause\` infra image) is a warm-up outside the timed runs."
        echo
        echo "## Raw profile (regenerated)"
        echo
        echo '```'
        cat "$OUT/profile.txt"
        echo '```'
        echo
        cat "$KEEP"
    } >"$DOC"
    msg "wrote $DOC"
fi
msg "done in $(( $(date +%s) - T0 )) s"

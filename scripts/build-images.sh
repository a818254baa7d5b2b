#!/usr/bin/env bash
# Build minipod's local images (busybox, debian, nginx and the stand-ins the
# Kubernetes documentation's examples name) from Debian packages and our own code as
# OCI image layout tarballs, then load them with `minipod image load`.
#
#   scripts/build-images.sh [--root DIR] [--out DIR] [--no-load]
#
#   --root DIR   minipod state root passed to `minipod --root DIR image load`
#                (default: $MINIPOD_ROOT if set, else minipod's own default)
#   --out DIR    build cache: rootfs trees, layers, <image>.oci.tar
#                (default: ${MINIPOD_BUILD_CACHE:-/var/lib/minipod/build})
#   --no-load    only build and verify the tarballs
#   --only IMG   build IMG (and the images it is built FROM) and load only IMG;
#                repeatable (default: every image)
#
# Environment: MINIPOD (binary; default target/release/minipod, else minipod on
# PATH), DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR.
#
# Each image has a recipe in rootfs/<image>/recipe.sh (see rootfs/README.md).
# Everything is cached under --out and keyed by a hash of the recipe files, so a
# second run with nothing changed does no apt work and rebuilds nothing.
# Needs root (mmdebstrap --mode=root, chown). Host packages it apt-installs if
# missing: mmdebstrap. busybox-static is only downloaded, never installed.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$SCRIPTS")
RECIPES=$REPO/rootfs
OCI=$SCRIPTS/oci_image.py
# bases before the images built FROM them
IMAGES=(busybox debian nginx nginx-1.17.8 nginx-1.17.10
        pause agnhost goproxy http-echo hello-app node-hello vish-stress   # minipod's own programs
        stress socat redis etcd)                                         # Debian packages
# More names for images built above, given with `minipod image tag` after loading: the
# tags the Kubernetes documentation's examples ask for (rootfs/README.md says what each
# really is). SOURCE TARGET...
ALIASES=(
    "busybox:1.36 busybox:1.28 busybox:1.37 registry.k8s.io/busybox:1.27.2 registry.k8s.io/busybox:latest alpine:latest"
    "nginx:1.27 nginx:1.14.2 nginx:1.29"
    "debian:12 fedora:latest"
)
PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

CACHE=${MINIPOD_BUILD_CACHE:-/var/lib/minipod/build}
STATE_ROOT=${MINIPOD_ROOT:-}
LOAD=1
ONLY=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --root) STATE_ROOT=${2:?--root needs a directory}; shift 2 ;;
        --root=*) STATE_ROOT=${1#*=}; shift ;;
        --out) CACHE=${2:?--out needs a directory}; shift 2 ;;
        --out=*) CACHE=${1#*=}; shift ;;
        --no-load) LOAD=0; shift ;;
        --only) ONLY+=("${2:?--only needs an image}"); shift 2 ;;
        --only=*) ONLY+=("${1#*=}"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build-images.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done

msg()  { printf '==> %s\n' "$*" >&2; }
step() { printf '    %s\n' "$*" >&2; }
die()  { printf 'build-images.sh: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap --mode=root, numeric owners)"
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

if [[ $LOAD -eq 1 ]]; then
    if [[ -n ${MINIPOD:-} ]]; then :
    elif [[ -x $REPO/target/release/minipod ]]; then MINIPOD=$REPO/target/release/minipod
    elif command -v minipod >/dev/null; then MINIPOD=$(command -v minipod)
    else die "no minipod binary (build it with cargo build --release, set MINIPOD=, or pass --no-load)"
    fi
fi

# ---------------------------------------------------------------- helpers for recipes

# Once per run, also from the subshells recipes run in: a marker file for this run.
APT_UPDATED=$CACHE/.apt-updated.$$
trap 'rm -f "$APT_UPDATED"' EXIT
apt_update_once() {
    if [[ ! -e $APT_UPDATED ]]; then
        step "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        : >"$APT_UPDATED"
    fi
}

# need_host_packages PKG...: apt-get install on the host, only those missing.
need_host_packages() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    apt_update_once
    step "installing on the host: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# fetch_deb PKG: download PKG's .deb (not installed), print its path.
fetch_deb() {
    local dir=$WORK/debs
    apt_update_once
    mkdir -p "$dir"
    step "apt-get download $1"
    (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$1" >/dev/null)
    ls "$dir"/"$1"_*.deb
}

# deb_extract DEST PKG...: download each PKG's .deb and unpack its files into DEST
# (dpkg-deb -x: no maintainer scripts, no dpkg database). For images FROM busybox
# that need one program and the libraries it links; the recipe names them all.
deb_extract() {
    local dest=$1 dir=$WORK/debs p; shift
    apt_update_once
    mkdir -p "$dir"
    step "apt-get download $*"
    (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$@" >/dev/null)
    for p in "$@"; do
        dpkg-deb -x "$(ls "$dir"/"$p"_*.deb)" "$dest"
    done
}

# copy_libs SRC DEST: the shared libraries deb_extract unpacked into SRC (lib/,
# lib64/, usr/lib/<triplet>/, without gconv modules) copied into DEST at the same paths
# (symlinks kept as they are: their absolute targets are right inside the image).
copy_libs() {
    local src=$1 dest=$2 dir
    for dir in lib lib64 usr/lib; do
        [[ -d $src/$dir ]] || continue
        mkdir -p "$dest/$dir"
        (cd "$src/$dir" && find . \( -name gconv -prune \) -o \( -type f -o -type l \) -name '*.so*' -print0 |
            xargs -0 -r cp -a --parents -t "$dest/$dir")
    done
}

# standin_program DEST NAME: compile src/bin/minipod-standin.rs (std only) as a static
# executable and install it as DEST/NAME (the name picks the part it plays).
standin_program() {
    local out
    out=$CACHE/.minipod-standin.$(sha256 <"$REPO/src/bin/minipod-standin.rs")
    if [[ ! -x $out ]]; then
        command -v rustc >/dev/null || die "rustc not found (needed to compile src/bin/minipod-standin.rs)"
        step "rustc -C target-feature=+crt-static src/bin/minipod-standin.rs"
        rm -f "$CACHE"/.minipod-standin.*      # builds of older sources
        rustc --edition 2021 -O -C target-feature=+crt-static -C strip=symbols \
            -o "$out.new" "$REPO/src/bin/minipod-standin.rs" >&2
        ldd "$out.new" 2>&1 | grep -q 'statically linked' || die "minipod-standin is not static: $(ldd "$out.new" 2>&1)"
        mv "$out.new" "$out"
    fi
    install -D -m 0755 -o 0 -g 0 "$out" "$2"
}

# minipod_program NAME: the path of one of minipod's built programs (minipod-pause),
# beside $MINIPOD or in target/release or target/debug.
minipod_program() {
    local dir
    for dir in ${MINIPOD:+"$(dirname "$MINIPOD")"} "${CARGO_TARGET_DIR:-$REPO/target}/release" \
        "${CARGO_TARGET_DIR:-$REPO/target}/debug"; do
        [[ -x $dir/$1 ]] && { echo "$dir/$1"; return 0; }
    done
    die "no $1 binary built (cargo build)"
}

# label KEY VALUE: record an image config label (from inside build_rootfs).
label() { printf '%s=%s\n' "$1" "$2" >>"$LABELS_FILE"; }

# read_list FILE: the words of FILE without # comments.
read_list() { sed 's/#.*//' "$1" | tr -s ' \t' '\n\n' | sed '/^$/d'; }

sha256() { sha256sum | cut -d' ' -f1; }

# recipe_key IMAGE: hash of the recipe directory, of the files its RECIPE_INPUTS name
# (paths in the repository, e.g. the source of a program it compiles) and of its base
# image's key.
recipe_key() {
    local img=$1 base inputs
    base=$( (IMAGE_BASE=""; source_recipe_vars "$img"; echo "$IMAGE_BASE") )
    inputs=$( (RECIPE_INPUTS=(); source_recipe_vars "$img"; printf '%s\n' "${RECIPE_INPUTS[@]}") )
    {
        (cd "$RECIPES/$img" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
        [[ -z $inputs ]] || (cd "$REPO" && sha256sum $inputs)
        [[ -z $base ]] || recipe_key "$base"
    } | sha256
}

# base_layers IMAGE: the layer tarballs of IMAGE and of the images it is built FROM,
# bottom first (nothing for no image).
base_layers() {
    local img=$1 base
    [[ -n $img ]] || return 0
    base=$( (IMAGE_BASE=""; source_recipe_vars "$img"; echo "$IMAGE_BASE") )
    base_layers "$base"
    echo "$CACHE/$img/layer.tar.gz"
}

source_recipe_vars() {
    RECIPE_DIR=$RECIPES/$1
    # shellcheck disable=SC1090
    source "$RECIPE_DIR/recipe.sh"
}

rm_tree() { [[ ! -e $1 ]] || rm -rf --one-file-system "$1"; }

# ---------------------------------------------------------------- one image

build_image() (
    local img=$1
    local c=$CACHE/$img
    local IMAGE_BASE="" IMAGE_CMD="" IMAGE_ENTRYPOINT="" IMAGE_WORKDIR="" IMAGE_USER=""
    local IMAGE_STOP_SIGNAL="" IMAGE_COMMENT="" IMAGE_TAGS=() IMAGE_EXPOSE=() IMAGE_ENV=("$PATH_ENV")
    local IMAGE_NAME=""
    source_recipe_vars "$img"
    mkdir -p "$c"
    local t0=$SECONDS

    # 1. root filesystem tree: $c/rootfs, valid when $c/rootfs.key matches
    local rkey lkey ikey base_lkey=""
    rkey=$(recipe_key "$img")
    if [[ $(cat "$c/rootfs.key" 2>/dev/null) == "$rkey" && -d $c/rootfs ]]; then
        step "rootfs: cached"
    else
        msg "$img: building rootfs (recipe rootfs/$img changed or not built yet)"
        rm -f "$c/rootfs.key" "$c/layer.key" "$c/image.key"
        rm_tree "$c/rootfs.new"
        WORK=$(mktemp -d "$CACHE/.work-$img.XXXXXX")
        # on failure nothing half-built is left looking complete (no key file is written)
        trap 'rm_tree "$WORK"; rm_tree "$c/rootfs.new"; rm -f "$c/labels.new"' EXIT
        LABELS_FILE=$c/labels.new
        : >"$LABELS_FILE"
        build_rootfs "$c/rootfs.new"
        rm_tree "$c/rootfs"
        mv "$c/rootfs.new" "$c/rootfs"
        mv "$c/labels.new" "$c/labels"
        echo "$rkey" >"$c/rootfs.key"
        step "rootfs: $(du -sh "$c/rootfs" | cut -f1)"
    fi

    # 2. this image's own layer: the whole tree, or the diff against the base tree
    if [[ -n $IMAGE_BASE ]]; then
        base_lkey=$(cat "$CACHE/$IMAGE_BASE/layer.key")
    fi
    lkey=$({ echo "$rkey $base_lkey"; sha256 <"$OCI"; } | sha256)
    if [[ $(cat "$c/layer.key" 2>/dev/null) == "$lkey" && -f $c/layer.tar.gz ]]; then
        step "layer: cached"
    else
        rm -f "$c/layer.key" "$c/image.key"
        if [[ -n $IMAGE_BASE ]]; then
            msg "$img: layer = diff of rootfs against $IMAGE_BASE's rootfs"
            python3 "$OCI" layer --tree "$c/rootfs" --base "$CACHE/$IMAGE_BASE/rootfs" \
                --out "$c/layer.tar.gz" --comment "$IMAGE_COMMENT" >&2
        else
            msg "$img: layer = whole rootfs"
            python3 "$OCI" layer --tree "$c/rootfs" --out "$c/layer.tar.gz" --comment "$IMAGE_COMMENT" >&2
        fi
        echo "$lkey" >"$c/layer.key"
    fi

    # 3. the OCI image layout tarball
    local out=$CACHE/$img.oci.tar
    ikey=$(echo "$lkey" | sha256)
    if [[ $(cat "$c/image.key" 2>/dev/null) == "$ikey" && -f $out ]]; then
        step "image: cached ($out)"
    else
        msg "$img: writing OCI image layout $out"
        local args=(--name "${IMAGE_NAME:-$img}" --out "$out") x
        for x in $(base_layers "$IMAGE_BASE"); do args+=(--layer "$x"); done
        args+=(--layer "$c/layer.tar.gz")
        for x in "${IMAGE_TAGS[@]}"; do args+=(--tag "$x"); done
        for x in "${IMAGE_ENV[@]}"; do args+=(--env "$x"); done
        for x in "${IMAGE_EXPOSE[@]}"; do args+=(--expose "$x"); done
        [[ -z $IMAGE_CMD ]] || args+=(--cmd "$IMAGE_CMD")
        [[ -z $IMAGE_ENTRYPOINT ]] || args+=(--entrypoint "$IMAGE_ENTRYPOINT")
        [[ -z $IMAGE_WORKDIR ]] || args+=(--workdir "$IMAGE_WORKDIR")
        [[ -z $IMAGE_USER ]] || args+=(--user "$IMAGE_USER")
        [[ -z $IMAGE_STOP_SIGNAL ]] || args+=(--stop-signal "$IMAGE_STOP_SIGNAL")
        while IFS= read -r x; do args+=(--label "$x"); done <"$c/labels"
        python3 "$OCI" image "${args[@]}" >&2
        python3 "$OCI" verify "$out" >/dev/null
        echo "$ikey" >"$c/image.key"
    fi
    step "$img: ok ($((SECONDS - t0))s)"
)

# --only: the named images and, first, the images they are built FROM
if [[ ${#ONLY[@]} -gt 0 ]]; then
    wanted=()
    add_with_bases() {
        local base
        base=$( (IMAGE_BASE=""; source_recipe_vars "$1"; echo "$IMAGE_BASE") )
        [[ -z $base ]] || add_with_bases "$base"
        [[ " ${wanted[*]} " == *" $1 "* ]] || wanted+=("$1")
    }
    for img in "${ONLY[@]}"; do
        [[ -f $RECIPES/$img/recipe.sh ]] || die "--only $img: no recipe rootfs/$img/recipe.sh"
        add_with_bases "$img"
    done
    IMAGES=("${wanted[@]}")
    LOAD_IMAGES=("${ONLY[@]}")
else
    LOAD_IMAGES=("${IMAGES[@]}")
fi

START=$SECONDS
for img in "${IMAGES[@]}"; do
    msg "image $img (rootfs/$img)"
    build_image "$img"
done

if [[ $LOAD -eq 1 ]]; then
    ROOT_ARGS=()
    [[ -z $STATE_ROOT ]] || ROOT_ARGS=(--root "$STATE_ROOT")
    for img in "${LOAD_IMAGES[@]}"; do
        msg "loading $img: $MINIPOD ${ROOT_ARGS[*]} image load -i $CACHE/$img.oci.tar"
        "$MINIPOD" "${ROOT_ARGS[@]}" image load -i "$CACHE/$img.oci.tar"
    done
fi

if [[ $LOAD -eq 1 && ${#ONLY[@]} -eq 0 ]]; then
    for line in "${ALIASES[@]}"; do
        read -r source targets <<<"$line"
        for target in $targets; do
            "$MINIPOD" "${ROOT_ARGS[@]}" image tag "$source" "$target"
        done
        msg "tagged $source as: $targets"
    done
fi

msg "done in $((SECONDS - START))s:"
for img in "${IMAGES[@]}"; do
    printf '    %-40s %s\n' "$CACHE/$img.oci.tar" "$(du -h "$CACHE/$img.oci.tar" | cut -f1)" >&2
done

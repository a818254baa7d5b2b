# Shared by the recipes of the test-server stand-ins (agnhost, goproxy, http-echo,
# hello-app, node-hello, vish-stress); sourced, not run.
#
# standin_rootfs DEST PROGRAM WHAT: the busybox tree (the originals have a shell:
# the documentation execs `sh`, `id`, `ps` in them) plus minipod's multi-call
# stand-in (src/bin/minipod-standin.rs) installed as /PROGRAM, and the labels that
# say what the image really is. WHAT: what the original is, for the note.

RECIPE_INPUTS=(rootfs/standin.sh src/bin/minipod-standin.rs)
IMAGE_BASE=busybox

standin_rootfs() {
    local dest=$1 program=$2 what=$3
    cp -a "$CACHE/busybox/rootfs" "$dest"
    standin_program "$dest" "$dest/$program"
    local busybox
    busybox=$(cat "$CACHE/busybox/labels" | sed -n 's/^org.opencontainers.image.version=//p')
    label org.opencontainers.image.description \
        "minipod stand-in for $what: /$program is minipod-standin (src/bin/minipod-standin.rs), on Debian busybox-static $busybox"
    label minipod.image.note \
        "stand-in, not the original: /$program is minipod's own static program answering as the Kubernetes documentation describes $what; sh and the rest are busybox"
    label minipod.image.standin "true"
}

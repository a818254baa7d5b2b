# Recipe for `vish/stress` (sourced by scripts/build-images.sh): a stand-in for the
# CPU-limit tutorial, which passes the original's Go flags (`-cpus 2`): Debian's
# stress does not read them, so minipod-standin plays /stress (busy threads).
source "$RECIPES/standin.sh"
IMAGE_NAME=vish/stress
IMAGE_TAGS=(latest)
IMAGE_ENTRYPOINT='["/stress", "-logtostderr"]'
IMAGE_COMMENT="minipod-standin as /stress (-cpus, -mem-total) on busybox"
build_rootfs() {
    standin_rootfs "$1" stress "vish/stress (-cpus N busy threads, -mem-total SIZE held)"
    label org.opencontainers.image.version "minipod-standin"
}

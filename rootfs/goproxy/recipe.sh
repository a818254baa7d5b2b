# Recipe for `registry.k8s.io/goproxy:0.1` (sourced by scripts/build-images.sh): a
# stand-in for the TCP readiness/liveness tutorial, which needs something on :8080.
source "$RECIPES/standin.sh"
IMAGE_NAME=registry.k8s.io/goproxy
IMAGE_TAGS=(0.1)
IMAGE_ENTRYPOINT='["/goproxy"]'
IMAGE_EXPOSE=(8080/tcp)
IMAGE_COMMENT="minipod-standin as /goproxy (a TCP listener on :8080) on busybox"
build_rootfs() {
    standin_rootfs "$1" goproxy "goproxy (a listener on :8080 that answers 501: it does not proxy)"
    label org.opencontainers.image.version "minipod-standin"
}

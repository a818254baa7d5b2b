# Recipe for `hashicorp/http-echo:1.0` (sourced by scripts/build-images.sh): a
# stand-in for the seccomp tutorial (`-text=...`, answers on :5678).
source "$RECIPES/standin.sh"
IMAGE_NAME=hashicorp/http-echo
IMAGE_TAGS=(1.0)
IMAGE_ENTRYPOINT='["/http-echo"]'
IMAGE_EXPOSE=(5678/tcp)
IMAGE_COMMENT="minipod-standin as /http-echo on busybox"
build_rootfs() {
    standin_rootfs "$1" http-echo "http-echo (-text=TEXT answered with a newline on -listen=:5678, /health)"
    label org.opencontainers.image.version "minipod-standin"
}

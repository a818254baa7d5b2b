# Recipe for `registry.k8s.io/e2e-test-images/agnhost` (sourced by
# scripts/build-images.sh): a stand-in. The tags are the ones the documentation's
# examples use (http-liveness 2.40, security-context-5/7 2.45).
source "$RECIPES/standin.sh"
IMAGE_NAME=registry.k8s.io/e2e-test-images/agnhost
IMAGE_TAGS=(2.40 2.45)
IMAGE_ENTRYPOINT='["/agnhost"]'
IMAGE_COMMENT="minipod-standin as /agnhost (liveness, netexec, serve-hostname) on busybox"
build_rootfs() {
    standin_rootfs "$1" agnhost "agnhost (subcommands liveness: /healthz 200 for 10 s then 500 on :8080; netexec: HTTP part; serve-hostname)"
    label org.opencontainers.image.version "minipod-standin"
}

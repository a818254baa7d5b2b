# Recipe for `gcr.io/google-samples/node-hello:1.0` (sourced by
# scripts/build-images.sh): a stand-in for the security-context tutorial
# ("Hello Kubernetes!" on :8080; the original is a Node.js server).
source "$RECIPES/standin.sh"
IMAGE_NAME=gcr.io/google-samples/node-hello
IMAGE_TAGS=(1.0)
IMAGE_ENTRYPOINT='["/node-hello"]'
IMAGE_EXPOSE=(8080/tcp)
IMAGE_COMMENT="minipod-standin as /node-hello on busybox"
build_rootfs() {
    standin_rootfs "$1" node-hello "node-hello 1.0 (Hello Kubernetes! on :8080; no Node.js inside)"
    label org.opencontainers.image.version "minipod-standin"
}

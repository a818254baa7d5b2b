# Recipe for `gcr.io/google-samples/hello-app:2.0` (sourced by
# scripts/build-images.sh): a stand-in for the environment and security-context
# tutorials ("Hello, world!", "Version: 2.0.0", "Hostname: <pod>" on :8080).
source "$RECIPES/standin.sh"
IMAGE_NAME=gcr.io/google-samples/hello-app
IMAGE_TAGS=(2.0)
IMAGE_ENTRYPOINT='["/hello-app"]'
IMAGE_EXPOSE=(8080/tcp)
IMAGE_COMMENT="minipod-standin as /hello-app on busybox"
build_rootfs() {
    standin_rootfs "$1" hello-app "hello-app 2.0 (Hello, world! / Version: 2.0.0 / Hostname: <pod> on \$PORT, default 8080)"
    label org.opencontainers.image.version "minipod-standin"
}

# Recipe for the `debian` image (sourced by scripts/build-images.sh).
# A minimal Debian 12 userland, one layer.

IMAGE_TAGS=(12 latest)
IMAGE_CMD='["bash"]'
IMAGE_COMMENT="mmdebstrap --variant=minbase bookworm + rootfs/debian/packages"

source "$RECIPE_DIR/bootstrap.sh"

build_rootfs() {
    local dest=$1
    debian_bootstrap "$dest" $(read_list "$RECIPE_DIR/packages")
    label org.opencontainers.image.version "$(cat "$dest/etc/debian_version")"
    label org.opencontainers.image.description \
        "Debian $DEBIAN_SUITE minbase + $(read_list "$RECIPE_DIR/packages" | tr '\n' ' ')(built by minipod scripts/build-images.sh)"
    label minipod.image.note "docs, man pages and locales excluded via /etc/dpkg/dpkg.cfg.d/99mmdebstrap"
}

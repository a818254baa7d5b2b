# Recipe for the `redis` image (sourced by scripts/build-images.sh), used by the
# storage and probe tutorials. Built like the official image: FROM debian, Debian's
# redis-server, working directory /data owned by the redis user, port 6379, an
# entrypoint that runs redis-server as redis (rootfs/redis/files).
IMAGE_BASE=debian
IMAGE_TAGS=(7 latest)
IMAGE_ENTRYPOINT='["docker-entrypoint.sh"]'
IMAGE_CMD='["redis-server"]'
IMAGE_WORKDIR=/data
IMAGE_EXPOSE=(6379/tcp)
IMAGE_COMMENT="apt-get install redis-server; /data; docker-entrypoint.sh"

source "$RECIPES/debian/bootstrap.sh"

build_rootfs() {
    local dest=$1 version
    debian_bootstrap "$dest" $(read_list "$RECIPES/debian/packages") redis-server
    install -d -m 0755 "$dest/data"
    chroot "$dest" chown redis:redis /data
    install -D -m 0755 -o 0 -g 0 "$RECIPE_DIR/files/docker-entrypoint.sh" \
        "$dest/usr/local/bin/docker-entrypoint.sh"
    version=$(dpkg-query --admindir="$dest/var/lib/dpkg" -W -f '${Version}' redis-server)
    label org.opencontainers.image.version "$version"
    label org.opencontainers.image.description "Debian bookworm redis-server $version on the minipod debian image"
    label minipod.image.note "tag 7 matches Debian's redis-server $version (the official image is built from source)"
}

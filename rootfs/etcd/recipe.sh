# Recipe for `registry.k8s.io/etcd:3.5.1-0` (sourced by scripts/build-images.sh):
# the gRPC liveness-probe tutorial runs /usr/local/bin/etcd and probes its gRPC
# health service on 2379. Debian bookworm ships etcd 3.4, which registers that
# service (grpc.health.v1.Health) too: the tag is a stand-in, the version label says
# what is inside. On busybox for the shell, with libc6 unpacked beside it.
IMAGE_NAME=registry.k8s.io/etcd
IMAGE_BASE=busybox
IMAGE_TAGS=(3.5.1-0)
IMAGE_CMD='["/usr/local/bin/etcd"]'
IMAGE_EXPOSE=(2379/tcp 2380/tcp)
IMAGE_COMMENT="Debian etcd-server unpacked (dpkg-deb -x) as /usr/local/bin/etcd, libc6, on busybox"

build_rootfs() {
    local dest=$1 version
    cp -a "$CACHE/busybox/rootfs" "$dest"
    deb_extract "$WORK/debs-x" etcd-server libc6 libgcc-s1
    install -D -m 0755 "$WORK/debs-x/usr/bin/etcd" "$dest/usr/local/bin/etcd"
    copy_libs "$WORK/debs-x" "$dest"
    install -d -m 0700 "$dest/var/lib/etcd"
    chroot "$dest" /usr/local/bin/etcd --version >/dev/null || die "etcd does not run in its image"
    version=$(dpkg-deb --field "$(ls "$WORK"/debs/etcd-server_*.deb)" Version)
    label org.opencontainers.image.version "$version"
    label org.opencontainers.image.description "Debian bookworm etcd-server $version as /usr/local/bin/etcd on busybox"
    label minipod.image.note "stand-in for registry.k8s.io/etcd:3.5.1-0: Debian's etcd $version (serves grpc.health.v1.Health), busybox for the shell"
    label minipod.image.standin "true"
}

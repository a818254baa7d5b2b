# Recipe for `docker.io/alpine/socat:1.8.0.3` (sourced by scripts/build-images.sh):
# the ambassador pattern's sidecar passes socat's address arguments, so the
# entrypoint is socat as in the original. Debian bookworm ships socat 1.7.4, not
# 1.8.0.3: the tag is a stand-in; the version label says what is inside.
IMAGE_NAME=alpine/socat
IMAGE_BASE=busybox
IMAGE_TAGS=(1.8.0.3 latest)
IMAGE_ENTRYPOINT='["socat"]'
IMAGE_COMMENT="Debian socat and the libraries it links, unpacked (dpkg-deb -x) on busybox"

build_rootfs() {
    local dest=$1 version
    cp -a "$CACHE/busybox/rootfs" "$dest"
    deb_extract "$WORK/debs-x" socat libc6 libgcc-s1 libssl3 libwrap0 \
        libnsl2 libtirpc3 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0 libkeyutils1
    install -D -m 0755 "$WORK/debs-x/usr/bin/socat" "$dest/usr/bin/socat"
    copy_libs "$WORK/debs-x" "$dest"
    chroot "$dest" /usr/bin/socat -V >/dev/null || die "socat does not run in its image"
    version=$(dpkg-deb --field "$(ls "$WORK"/debs/socat_*.deb)" Version)
    label org.opencontainers.image.version "$version"
    label org.opencontainers.image.description "Debian bookworm socat $version on busybox"
    label minipod.image.note "stand-in for alpine/socat:1.8.0.3: Debian's socat $version with its libraries, busybox for the shell"
    label minipod.image.standin "true"
}

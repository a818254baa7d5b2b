# Recipe for `polinux/stress` (sourced by scripts/build-images.sh): the memory-limit
# tutorial runs `stress --vm 1 --vm-bytes 250M --vm-hang 1` under a 100Mi limit.
# The original is stress 1.0.4 on Alpine; this is Debian's stress (/usr/bin/stress,
# the same program) with libc, on busybox for the shell.
IMAGE_NAME=polinux/stress
IMAGE_BASE=busybox
IMAGE_TAGS=(latest)
IMAGE_CMD='["stress", "--help"]'
IMAGE_COMMENT="Debian stress + libc6 unpacked (dpkg-deb -x) on busybox"

build_rootfs() {
    local dest=$1 version
    cp -a "$CACHE/busybox/rootfs" "$dest"
    deb_extract "$WORK/debs-x" stress libc6 libgcc-s1
    install -D -m 0755 "$WORK/debs-x/usr/bin/stress" "$dest/usr/bin/stress"
    copy_libs "$WORK/debs-x" "$dest"
    chroot "$dest" /usr/bin/stress --version >/dev/null || die "stress does not run in its image"
    version=$(dpkg-deb --field "$(ls "$WORK"/debs/stress_*.deb)" Version)
    label org.opencontainers.image.version "$version"
    label org.opencontainers.image.description "Debian bookworm stress $version on busybox"
    label minipod.image.note "stand-in for polinux/stress: Debian's stress $version (same program, other build) with glibc from libc6, busybox for the shell"
    label minipod.image.standin "true"
}

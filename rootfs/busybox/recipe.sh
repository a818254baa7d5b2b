# Recipe for the `busybox` image (sourced by scripts/build-images.sh).
# One static binary from Debian's busybox-static package plus the symlinks
# that make it answer to `sh`, `ls`, `tail`, ... One layer.

IMAGE_TAGS=(1.36 latest)
IMAGE_CMD='["sh"]'
IMAGE_COMMENT="busybox-static .deb from Debian bookworm, applet symlinks, /etc/passwd"

build_rootfs() {
    local dest=$1
    local deb version
    deb=$(fetch_deb busybox-static)      # apt-get download; never installed on the host
    version=$(dpkg-deb --field "$deb" Version)

    dpkg-deb -x "$deb" "$WORK/busybox-static"      # only /bin/busybox is used
    mkdir -p "$dest"
    install -D -m 0755 -o 0 -g 0 "$WORK/busybox-static/bin/busybox" "$dest/bin/busybox"

    # `busybox --list-full` prints where each applet lives (bin/sh, usr/bin/tail, ...).
    local applet
    for applet in $("$dest/bin/busybox" --list-full); do
        case $applet in
            bin/busybox|linuxrc) continue ;;   # the binary itself; initrd-only init
        esac
        mkdir -p "$dest/$(dirname "$applet")"
        ln -s /bin/busybox "$dest/$applet"
    done

    # A few directories every container expects; the runtime mounts over
    # /proc, /sys and /dev.
    install -d -m 0755 "$dest/etc" "$dest/var" "$dest/proc" "$dest/sys" "$dest/dev" \
        "$dest/usr/bin" "$dest/usr/sbin"
    install -d -m 0700 "$dest/root"
    install -d -m 1777 "$dest/tmp"
    install -m 0644 -o 0 -g 0 "$RECIPE_DIR/files/etc/passwd" "$dest/etc/passwd"
    install -m 0644 -o 0 -g 0 "$RECIPE_DIR/files/etc/group" "$dest/etc/group"
    # Debian's busybox-static lacks a printenv applet; a small sh script stands in.
    install -m 0755 -o 0 -g 0 "$RECIPE_DIR/files/usr/bin/printenv" "$dest/usr/bin/printenv"

    label org.opencontainers.image.version "$version"
    label org.opencontainers.image.description "Debian busybox-static $version"
    label minipod.image.note "tag 1.36 kept so the seed manifests run unchanged; contents are Debian's busybox-static $version"
}

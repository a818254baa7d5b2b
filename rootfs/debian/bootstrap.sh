# Shared by the debian and nginx recipes (sourced, not run).
#
# debian_bootstrap DEST PACKAGE...
#   Build a Debian bookworm root filesystem in DEST (which must not exist) with
#   mmdebstrap: variant "minbase" = the Essential:yes packages + apt, plus PACKAGEs.
#   mmdebstrap downloads the .debs, unpacks them, runs the maintainer scripts inside
#   a chroot (services are not started), then removes the apt lists and caches.

DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# A fixed SOURCE_DATE_EPOCH makes mmdebstrap's output reproducible (no logs,
# fixed dates in /etc/shadow); 2024-01-01T00:00:00Z.
DEBIAN_EPOCH=1704067200

debian_bootstrap() {
    local dest=$1; shift
    local include
    include=$(IFS=,; echo "$*")
    need_host_packages mmdebstrap
    # merged-usr hook: /bin -> usr/bin etc. set up front, usr-is-merged instead of
    # the usrmerge converter (which would drag perl in).
    # .debs downloaded by one run are reused by the next (the nginx image
    # bootstraps the same base packages again): synced in and out of the chroot.
    local archives=$CACHE/apt-archives
    mkdir -p "$archives"
    local log=$WORK/mmdebstrap.log
    step "mmdebstrap $DEBIAN_SUITE minbase + $*"
    if ! SOURCE_DATE_EPOCH=$DEBIAN_EPOCH mmdebstrap \
        --mode=root --variant=minbase --include="$include" \
        --dpkgopt="$RECIPES/debian/dpkg-excludes.cfg" \
        --aptopt='Acquire::Languages "none"' \
        --aptopt='APT::Install-Recommends "false"' \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --skip=essential/unlink \
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
        --setup-hook="sync-in $archives /var/cache/apt/archives/" \
        --customize-hook="sync-out /var/cache/apt/archives $archives" \
        "$DEBIAN_SUITE" "$dest" \
        "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
        "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main" \
        "deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main" \
        >"$log" 2>&1
    then
        tail -n 30 "$log" >&2
        cp "$log" "$CACHE/mmdebstrap-failed.log"
        die "mmdebstrap failed; full log in $CACHE/mmdebstrap-failed.log"
    fi

    # The container runtime provides these (bind mounts / its own /dev tmpfs).
    rm -f "$dest/etc/hostname" "$dest/etc/resolv.conf" "$dest/etc/hosts"
    find "$dest/dev" -mindepth 1 -delete
    # mmdebstrap already emptied /var/lib/apt/lists and /var/cache/apt; be sure.
    find "$dest/var/lib/apt/lists" "$dest/var/cache/apt" -type f -delete
}

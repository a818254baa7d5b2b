# Recipe for `nginx:1.17.8` (sourced by scripts/build-images.sh): the tag the Pods
# chapter's Deployment starts from. A stand-in like nginx:1.27: FROM
# our nginx image, one small layer that says which tag it is (a file and the
# welcome page), so that two tags are two image IDs and a rolling update shows in
# `describe` and in `curl`. The nginx inside is Debian's (its version in a label).

IMAGE_NAME=nginx
IMAGE_BASE=nginx
IMAGE_TAGS=(1.17.8)
IMAGE_CMD='["nginx", "-g", "daemon off;"]'
IMAGE_EXPOSE=(80/tcp)
IMAGE_STOP_SIGNAL=SIGQUIT
IMAGE_COMMENT="the tag 1.17.8 written to /etc/minipod-image-tag and the welcome page"

build_rootfs() {
    local dest=$1 base=$CACHE/nginx/rootfs version
    cp -a "$base" "$dest"
    printf '%s\n' "1.17.8" >"$dest/etc/minipod-image-tag"
    sed -i 's|<h1>\(.*\)</h1>|<h1>\1 (tag 1.17.8)</h1>|' "$dest/usr/share/nginx/html/index.html"
    version=$(dpkg-query --admindir="$dest/var/lib/dpkg" -W -f '${Version}' nginx)
    label org.opencontainers.image.version "$version"
    label org.opencontainers.image.description "Debian bookworm nginx $version, tagged 1.17.8 for the Pods chapter"
    label minipod.image.note "tag 1.17.8 is a stand-in: contents are Debian's nginx $version plus /etc/minipod-image-tag"
}

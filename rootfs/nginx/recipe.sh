# Recipe for the `nginx` image (sourced by scripts/build-images.sh).
# Built the way the official image is: FROM debian, then one layer holding what
# `apt-get install nginx curl` (plus our configuration) changed. The build
# bootstraps debian + nginx + curl in one tree; scripts/oci_image.py then keeps
# only the difference against the debian tree (new/changed files, whiteouts for
# removed ones), and the image reuses the debian layer blob as layer 1.

IMAGE_BASE=debian
IMAGE_TAGS=(1.27 latest)
IMAGE_CMD='["nginx", "-g", "daemon off;"]'
IMAGE_EXPOSE=(80/tcp)
IMAGE_STOP_SIGNAL=SIGQUIT            # graceful shutdown, as in the official image
IMAGE_COMMENT="apt-get install nginx curl; nginx user 101; conf.d/default.conf; logs to stdout/stderr"

source "$RECIPES/debian/bootstrap.sh"

build_rootfs() {
    local dest=$1
    debian_bootstrap "$dest" \
        $(read_list "$RECIPES/debian/packages") $(read_list "$RECIPE_DIR/packages")

    # The official image's user: nginx, uid/gid 101, no home, no shell.
    # (Debian's www-data (33) still exists; our nginx.conf says `user nginx;`.)
    groupadd --root "$dest" --system --gid 101 nginx
    useradd --root "$dest" --system --uid 101 --gid nginx --no-create-home \
        --home-dir /nonexistent --comment "nginx user" --shell /bin/false nginx

    # Configuration like the official image: nginx.conf + conf.d/*.conf, no
    # Debian sites-enabled/default, our own welcome page.
    rm -f "$dest/etc/nginx/sites-enabled/default"
    install -m 0644 -o 0 -g 0 "$RECIPE_DIR/files/etc/nginx/nginx.conf" "$dest/etc/nginx/nginx.conf"
    install -D -m 0644 -o 0 -g 0 "$RECIPE_DIR/files/etc/nginx/conf.d/default.conf" \
        "$dest/etc/nginx/conf.d/default.conf"
    install -D -m 0644 -o 0 -g 0 -t "$dest/usr/share/nginx/html" \
        "$RECIPE_DIR/files/usr/share/nginx/html/index.html" \
        "$RECIPE_DIR/files/usr/share/nginx/html/50x.html"

    # Logs go to the container's stdout/stderr (`minipod logs`). An emptyDir
    # mounted on /var/log/nginx hides these links, and nginx writes real files.
    install -d -m 0755 -o 0 -g 0 "$dest/var/log/nginx"
    ln -sfn /dev/stdout "$dest/var/log/nginx/access.log"
    ln -sfn /dev/stderr "$dest/var/log/nginx/error.log"

    # Debian's nginx keeps its temp dirs (body, proxy, fastcgi, ...) under
    # /var/lib/nginx (compiled in); the master creates them on start.
    install -d -m 0755 -o 0 -g 0 "$dest/var/lib/nginx"

    local version
    version=$(dpkg-query --admindir="$dest/var/lib/dpkg" -W -f '${Version}' nginx)
    label org.opencontainers.image.version "$version"
    label org.opencontainers.image.description "Debian bookworm nginx $version + curl on the minipod debian image"
    label minipod.image.note "tag 1.27 kept so the seed manifests run unchanged; contents are Debian's nginx $version"
}

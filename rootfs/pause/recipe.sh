# Recipe for `registry.k8s.io/pause` (sourced by scripts/build-images.sh): the
# DaemonSet example runs the pause image as an app container. Its content is
# minipod's own infra program (src/bin/minipod-pause.rs, the one every pod runs)
# as /pause, with the shared libraries it links (copied from the host, as ldd
# resolves them) and nothing else, user 65535 like the original.
RECIPE_INPUTS=(src/bin/minipod-pause.rs)
IMAGE_NAME=registry.k8s.io/pause
IMAGE_TAGS=(3.10 latest)
IMAGE_ENTRYPOINT='["/pause"]'
IMAGE_USER=65535:65535
IMAGE_COMMENT="minipod-pause as /pause + the libraries it links"

build_rootfs() {
    local dest=$1 pause lib
    pause=$(minipod_program minipod-pause)
    install -D -m 0755 -o 0 -g 0 "$pause" "$dest/pause"
    strip "$dest/pause" 2>/dev/null || true
    # ldd prints "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and the loader.
    for lib in $(ldd "$pause" | grep -o '/[^ ]*'); do
        install -D -m 0755 -o 0 -g 0 "$(readlink -f "$lib")" "$dest$lib"
    done
    install -d -m 0755 "$dest/proc" "$dest/sys" "$dest/dev" "$dest/etc"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65535:65535:nobody:/:/sbin/nologin\n' >"$dest/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65535:\n' >"$dest/etc/group"
    label org.opencontainers.image.version "minipod-pause"
    label org.opencontainers.image.description "minipod's infra program (src/bin/minipod-pause.rs) as /pause"
    label minipod.image.note "stand-in, not the original: /pause is minipod-pause (pause(2) until SIGTERM/SIGINT, reaps children), with the host's libc it links"
    label minipod.image.standin "true"
}

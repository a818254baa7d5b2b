#!/bin/sh
# The official redis image's entrypoint, in its essentials: options alone mean
# `redis-server OPTIONS`; redis-server started as root drops to the redis user
# after taking ownership of the working directory (/data). Protected mode is off
# as in the official image (whose build patches it off): a pod's port is reached
# from outside the container's loopback.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
    shift
    if [ "${1%.conf}" != "${1:-}" ]; then
        conf=$1; shift
        set -- redis-server "$conf" --protected-mode no "$@"
    else
        set -- redis-server --protected-mode no "$@"
    fi
    if [ "$(id -u)" = 0 ]; then
        find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
fi
exec "$@"

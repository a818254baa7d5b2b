#!/usr/bin/env bash
# One timed run of scenario 2 for minipod, the equivalent of `crun run` / `podman run --rm`:
# apply the one-container pod (returns once /bin/true is started), poll `get pods` until
# the pod shows Completed, then delete it (returns when everything is gone).
# Usage: minipod-run-true.sh MINIPOD ROOT MANIFEST
set -eu
M=$1 R=$2 F=$3
"$M" --root "$R" apply -f "$F" >/dev/null
for _ in $(seq 1 2000); do
    case $("$M" --root "$R" get pods true-pod --no-headers) in *Completed*) break ;; esac
done
"$M" --root "$R" delete pod true-pod --grace-period=0 --force >/dev/null 2>&1

#!/usr/bin/env bash
# A Deployment of 10 nginx replicas: scaled 0 -> 10, then rolled to a new image, and
# what the controller manager costs in memory.
#
#   scripts/bench/deployment.sh MINIPOD ROOT    (ROOT: a state root with the images)
#
# Prints one `key value` line each (milliseconds, kB): scale_0_to_10_ms,
# pod_start_p50_ms, pod_start_max_ms (created -> Running as `get pods` sees it,
# polled every 100 ms), rollout_10_ms, manager_rss_kb. Kubernetes' SLO for a pod's
# start is 5 s at the 99th percentile (the max of 10 is our p99). Leaves nothing
# running.
set -euo pipefail
M=$1 ROOT=$2
mp() { "$M" --root "$ROOT" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
D=$(mktemp -d /tmp/minipod-bench-deploy.XXXXXX)
trap 'mp delete deploy bench-web --cascade=foreground >/dev/null 2>&1 || true; rm -rf "$D"' EXIT

cat >"$D/d.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bench-web
spec:
  replicas: 0
  selector:
    matchLabels:
      app: bench-web
  template:
    metadata:
      labels:
        app: bench-web
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: nginx
        image: nginx:1.17.8
YAML
mp apply -f "$D/d.yaml" >/dev/null
mp rollout status deploy/bench-web >/dev/null

# Scale 0 -> 10, watching each pod from the moment it is listed until Running.
t0=$(now_ms)
mp scale deploy/bench-web --replicas=10 >/dev/null
declare -A seen=() running=()
while :; do
    t=$(now_ms)
    while read -r name _ status _; do
        [[ -n $name ]] || continue
        [[ -n ${seen[$name]:-} ]] || seen[$name]=$t
        if [[ $status == Running && -z ${running[$name]:-} ]]; then running[$name]=$t; fi
    done < <(mp get pods -l app=bench-web --no-headers 2>/dev/null)
    [[ ${#running[@]} -ge 10 ]] && break
    (( t - t0 > 120000 )) && { echo "bench-deployment: 10 pods not Running after 120 s" >&2; exit 1; }
    sleep 0.1
done
mp rollout status deploy/bench-web >/dev/null
t1=$(now_ms)
for n in "${!running[@]}"; do echo $(( running[$n] - t0 )); done | sort -n >"$D/start"
echo "scale_0_to_10_ms $(( t1 - t0 ))"
echo "pod_start_p50_ms $(sed -n '5p' "$D/start")"
echo "pod_start_max_ms $(tail -1 "$D/start")"
pid=$(cat "$ROOT/run/apps/controller-manager.pid")
echo "manager_rss_kb $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"

# Roll the 10 pods to another image.
t0=$(now_ms)
mp set image deploy/bench-web nginx=nginx:1.17.10 >/dev/null
mp rollout status deploy/bench-web >/dev/null
echo "rollout_10_ms $(( $(now_ms) - t0 ))"

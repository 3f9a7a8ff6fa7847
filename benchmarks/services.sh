#!/usr/bin/env bash
# Start-to-ready time and idle RSS of each service.
#
#   benchmarks/services.sh [runs]   # default 5 starts per service
#
# With a broker already up (its own, on 127.0.0.1:5681), it starts each release binary, times
# from exec to its first 200 from GET /healthz (curl in a loop; the service answers 200 once its
# broker connection is up), lets it idle for 5 s, reads VmRSS from /proc, and stops it with SIGTERM.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
RUNS=${1:-5}
PORT=${BENCH_RMQ_PORT:-5681}
install_packages
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
start_epmd
start_rabbitmq iceshelves-svcbench "$PORT"
export ICESHELVES_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/"
export ICESHELVES_LOG_LEVEL=warning

printf '%-22s %12s %12s %10s\n' service "ready p50 ms" "ready max ms" "idle RSS MB"
for service in api-gateway egg-catalog cloud-init-renderer lxd-deployer kvm-deployer agent-broker; do
  times=()
  rss=0
  for run in $(seq 1 "$RUNS"); do
    start=$(date +%s%N)
    "$BIN/$service" --metrics-port 9190 >/dev/null 2>&1 &
    pid=$!
    until curl -sf -o /dev/null http://127.0.0.1:9190/healthz; do :; done
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
    if [ "$run" -eq 1 ]; then
      sleep 5
      rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    fi
    kill -TERM "$pid"; wait "$pid" || true
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  printf '%-22s %12s %12s %10s\n' "$service" "${sorted[$(( ${#sorted[@]} / 2 ))]}" "${sorted[-1]}" "$rss"
done

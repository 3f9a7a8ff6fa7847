#!/usr/bin/env bash
# Start-to-ready time and idle RSS of each service.
#
#   benchmarks/services.sh [runs]   # default 5 starts per service
#
# With a broker already up (its own, on 127.0.0.1:5681), it starts each release binary, times
# from exec to its first 200 from GET /healthz (curl in a loop; the service answers 200 once its
# broker connection is up), lets it idle for 5 s, reads VmRSS from /proc, and stops it with SIGTERM.
# Prints RESULT lines too (benchmarks/result.sh). Env: BENCH_RMQ_PORT, BENCH_RMQ_NAME,
# BENCH_CONFIG (default release), BENCH_METRICS_PORT (default 9190).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/result.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
RUNS=${1:-5}
PORT=${BENCH_RMQ_PORT:-5681}
CONFIG=${BENCH_CONFIG:-release}
METRICS=${BENCH_METRICS_PORT:-9190}
install_packages
swift build -c "$CONFIG" >/dev/null
BIN=$(swift build -c "$CONFIG" --show-bin-path)
start_epmd
start_rabbitmq "${BENCH_RMQ_NAME:-iceshelves-svcbench}" "$PORT"
export ICESHELVES_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/"
export ICESHELVES_LOG_LEVEL=warning
# Data folders of their own and any free port for the HTTP listeners, beside a running scripts/up.
DATA=$(mktemp -d)
trap 'stop_started; rm -rf "$DATA"' EXIT
export ICESHELVES_DATA_DIR=$DATA/catalog ICESHELVES_GATEWAY_DATA_DIR=$DATA/gw ICESHELVES_AGENT_BROKER_DATA_DIR=$DATA/broker
export ICESHELVES_HTTP_PORT=0 ICESHELVES_AGENT_PORT=0

printf '%-22s %12s %12s %10s\n' service "ready p50 ms" "ready max ms" "idle RSS MB"
for service in api-gateway egg-catalog cloud-init-renderer lxd-deployer kvm-deployer agent-broker; do
  times=()
  rss=0
  for run in $(seq 1 "$RUNS"); do
    start=$(date +%s%N)
    "$BIN/$service" --metrics-port "$METRICS" >/dev/null 2>&1 &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$METRICS/healthz"; do
      (( $(date +%s%N) - start < 60000000000 )) || { echo "$service: no 200 from /healthz within 60 s" >&2; exit 1; }
    done
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
  bench_result "services.$service.ready_p50" "${sorted[$(( ${#sorted[@]} / 2 ))]}" ms "<= 1000" -
  bench_result "services.$service.idle_rss" "$rss" MB "<= 40" -
done

#!/usr/bin/env bash
# LXD deployments through IceShelves against `lxc launch` + `cloud-init status --wait` with the
# same image and user-data, in the same run: one at a time (medians, ratio), 10 at once with 2
# deployer processes, and the deployer's own overhead (job taken -> create request sent).
#
#   benchmarks/lxd.sh [runs] [parallel]         # default 5 and 10
#   benchmarks/lxd.sh [runs] [parallel] pool    # warm pools instead, through REST (a real gateway):
#                                                # without a pool, with a pool of 1, and [parallel] at
#                                                # once with a pool of [parallel]
#
# Needs LXD up (scripts/lxd-env up). Starts its own broker on 127.0.0.1:5683 and the services
# (ICESHELVES_BUILD_CONFIG, default release), and stops them at the end. LXD_BENCH_TRACE=1 prints
# every event of our deployments with its time since the request was published.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
RUNS=${1:-5}
PARALLEL=${2:-10}
PORT=${BENCH_RMQ_PORT:-5683}
install_packages
scripts/lxd-env up >/dev/null
eval "$(scripts/lxd-env env)"
CONFIG=${ICESHELVES_BUILD_CONFIG:-release}
swift build -c "$CONFIG" >/dev/null
BIN=$(swift build -c "$CONFIG" --show-bin-path)
start_epmd
start_rabbitmq iceshelves-lxdbench "$PORT"
export ICESHELVES_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/"
export ICESHELVES_LOG_LEVEL=warning
DATA=$(mktemp -d)
"$BIN/egg-catalog" --metrics-port=-1 --eggs-dir eggs --data-dir "$DATA" & STARTED_PIDS+=($!)
"$BIN/cloud-init-renderer" --metrics-port=-1 & STARTED_PIDS+=($!)
POOL_ARGS=(--warm-pool-prefix bench-pool --warm-pool-interval 1)
"$BIN/lxd-deployer" --metrics-port=-1 --concurrency 8 "${POOL_ARGS[@]}" & STARTED_PIDS+=($!)
"$BIN/lxd-deployer" --metrics-port=-1 --concurrency 8 "${POOL_ARGS[@]}" & STARTED_PIDS+=($!)
if [ "${3:-}" = pool ]; then
  # Warm pools through REST, as the issue asks: a real gateway (its own data folder), a cluster
  # registered through the API, pools set with PUT /api/clusters/{id}/warm-pools.
  HTTP=${BENCH_HTTP_PORT:-8021}
  "$BIN/api-gateway" --metrics-port=-1 --http-port "$HTTP" --data-dir "$DATA/gw" --max-concurrent-deployments 1000 \
    --deployer-users guest & STARTED_PIDS+=($!)
  for _ in $(seq 1 300); do [ -s "$DATA/gw/admin.key" ] && curl -sf "http://127.0.0.1:$HTTP/iceshelves/healthz" >/dev/null && break; sleep 0.1; done
  export LXD_BENCH_API="http://127.0.0.1:$HTTP/iceshelves/api" LXD_BENCH_KEY
  LXD_BENCH_KEY=$(cat "$DATA/gw/admin.key")
fi
"$BIN/lxd-bench" "$ICESHELVES_AMQP_URL" "$ICESHELVES_TEST_LXD_IMAGE" "$ICESHELVES_TEST_LXD_SOCKET" "$RUNS" "$PARALLEL" ${3:+"$3"}
rm -rf "$DATA"

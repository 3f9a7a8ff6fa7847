#!/usr/bin/env bash
# LXD deployments through IceShelves against `lxc launch` + `cloud-init status --wait` with the
# same image and user-data, in the same run: one at a time (medians, ratio), 10 at once with 2
# deployer processes, and the deployer's own overhead (job taken -> create request sent).
#
#   benchmarks/lxd.sh [runs] [parallel]         # default 5 and 10
#   benchmarks/lxd.sh [runs] [parallel] pool    # warm pools instead: without a pool, with a pool
#                                                # of 1, and [parallel] at once with a pool of [parallel]
#
# Needs LXD up (scripts/lxd-env up). Starts its own broker on 127.0.0.1:5683 and the release
# services, and stops them at the end.
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
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
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
"$BIN/lxd-bench" "$ICESHELVES_AMQP_URL" "$ICESHELVES_TEST_LXD_IMAGE" "$ICESHELVES_TEST_LXD_SOCKET" "$RUNS" "$PARALLEL" ${3:+"$3"}
rm -rf "$DATA"

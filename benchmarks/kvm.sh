#!/usr/bin/env bash
# KVM deployments through IceShelves against plain libvirt (virsh), in the same run: the
# deployer's overhead (job taken -> virDomainCreate, without the seed upload), the seed upload
# against `virsh vol-upload`, and a whole deployment to cloud-init's end against virsh + the
# same serial-console marker. See benchmarks/kvm-bench.
#
#   benchmarks/kvm.sh [runs] [uploads] [deploys]    # default 10, 5 and 1
#
# Needs scripts/kvm-env (started here if not up). Starts its own broker on 127.0.0.1:5684 and
# the services (ICESHELVES_BUILD_CONFIG or BENCH_CONFIG, default release), and stops them at the
# end. kvm-bench prints RESULT lines for benchmarks/run. BENCH_RMQ_NAME names the broker node.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
PORT=${BENCH_RMQ_PORT:-5684}
CONFIG=${ICESHELVES_BUILD_CONFIG:-${BENCH_CONFIG:-release}}
install_packages
scripts/kvm-env up >/dev/null
eval "$(scripts/kvm-env env)"
swift build -c "$CONFIG" >/dev/null
BIN=$(swift build -c "$CONFIG" --show-bin-path)
start_epmd
start_rabbitmq "${BENCH_RMQ_NAME:-iceshelves-kvmbench}" "$PORT"
export ICESHELVES_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/"
export ICESHELVES_LOG_LEVEL=warning
DATA=$(mktemp -d)
"$BIN/egg-catalog" --metrics-port=-1 --eggs-dir eggs --data-dir "$DATA" & STARTED_PIDS+=($!)
"$BIN/cloud-init-renderer" --metrics-port=-1 & STARTED_PIDS+=($!)
"$BIN/kvm-deployer" --metrics-port=-1 --allow-insecure 1 & STARTED_PIDS+=($!)
"$BIN/kvm-bench" "$ICESHELVES_AMQP_URL" "$ICESHELVES_TEST_KVM_URI" "$ICESHELVES_TEST_KVM_POOL" "$ICESHELVES_TEST_KVM_NETWORK" \
  "$ICESHELVES_TEST_KVM_BASE_VOLUME" "${1:-10}" "${2:-5}" "${3:-1}"
rm -rf "$DATA"

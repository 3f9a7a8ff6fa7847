#!/usr/bin/env bash
# The gateway under load, with the whole stack running (broker, catalog, renderer, gateway):
# GET /iceshelves/api/eggs and GET /iceshelves/api/deployments/{id} with wrk, 50 connections,
# 2 threads, 10 s each (req/s and p99); then POST /iceshelves/api/deploy acceptance latency
# (request to response, the deploy message already confirmed by the broker), 300 sequential
# requests, p50 and p99. No deployer runs, so the deployments stay queued and nothing is created.
# In the same run, a bare Hummingbird server (../shared/bench/hummingbird-baseline: a fixed JSON
# body of the same size after an Authorization check) takes the same wrk load, and the script
# prints the gateway's ratio to it for each read.
#
#   benchmarks/gateway.sh [seconds]
#
# Prints RESULT lines too (benchmarks/result.sh). Env: BENCH_RMQ_PORT, BENCH_RMQ_NAME,
# BENCH_CONFIG (default release), BENCH_HTTP_PORT, BENCH_BASELINE_PORT, BENCH_DEPLOYS (default 300).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/result.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
SECONDS_EACH=${1:-10}
PORT=${BENCH_RMQ_PORT:-5684}
HTTP=${BENCH_HTTP_PORT:-8020}
CONFIG=${BENCH_CONFIG:-release}
DEPLOYS=${BENCH_DEPLOYS:-300}
install_packages wrk
swift build -c "$CONFIG" >/dev/null
BIN=$(swift build -c "$CONFIG" --show-bin-path)
BASELINE_SRC=${HB_BASELINE:-$ICESHELVES_ROOT/../shared/bench/hummingbird-baseline}
BASELINE_BUILD=${HB_BASELINE_BUILD:-/tmp/hb-baseline-build}
BASE_PORT=${BENCH_BASELINE_PORT:-8030}
if [ -d "$BASELINE_SRC" ]; then
  swift build -c release --package-path "$BASELINE_SRC" --scratch-path "$BASELINE_BUILD" >/dev/null
else
  echo "no Hummingbird baseline at $BASELINE_SRC (set HB_BASELINE); ratios are skipped" >&2
fi
start_epmd
start_rabbitmq "${BENCH_RMQ_NAME:-iceshelves-gwbench}" "$PORT"
export ICESHELVES_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/" ICESHELVES_LOG_LEVEL=warning
DATA=$(mktemp -d)
"$BIN/egg-catalog" --metrics-port=-1 --eggs-dir eggs --data-dir "$DATA/catalog" & STARTED_PIDS+=($!)
"$BIN/cloud-init-renderer" --metrics-port=-1 & STARTED_PIDS+=($!)
"$BIN/api-gateway" --metrics-port=-1 --http-port "$HTTP" --data-dir "$DATA/gw" --max-concurrent-deployments 10000 & STARTED_PIDS+=($!)
for _ in $(seq 1 300); do [ -s "$DATA/gw/admin.key" ] && curl -sf "http://127.0.0.1:$HTTP/iceshelves/healthz" >/dev/null && break; sleep 0.1; done
KEY=$(cat "$DATA/gw/admin.key")
API="http://127.0.0.1:$HTTP/iceshelves/api"
H="Authorization: Bearer $KEY"
until curl -sf -H "$H" "$API/eggs/debian-hello" >/dev/null; do sleep 0.2; done
curl -sf -H "$H" -X POST "$API/clusters" -d '{"name":"bench","connection_method":"unix-socket","socket_path":"/nonexistent/bench.socket"}' >/dev/null
ID=$(curl -sf -H "$H" -X POST "$API/deploy" -d '{"egg_id":"debian-hello","cluster_id":1,"instance_name":"bench-0"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployment_id"])')

# rps URL: wrk's requests per second for one URL (the full output goes to stderr and to $DATA/wrk.out).
rps() {
  wrk -t2 -c50 -d"${SECONDS_EACH}s" --latency -H "$H" "$1" | tee "$DATA/wrk.out" /dev/stderr | awk '/Requests\/sec/ {print $2}'
}
# p99_ms: the 99th percentile latency of the last wrk run, in ms.
p99_ms() {
  awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    printf "%.1f", v * (u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1) }' "$DATA/wrk.out"
}
for path in "eggs" "deployments/$ID"; do
  name=${path%%/*}
  bytes=$(curl -s -H "$H" "$API/$path" | wc -c)
  echo "== GET /iceshelves/api/$path ($bytes bytes), 50 connections, ${SECONDS_EACH} s"
  ours=$(rps "$API/$path" 2> >(grep -E "Latency  | 99%|Non-2xx" >&2))
  echo "gateway: $ours req/s"
  bench_result "gateway.get_${name}_p99" "$(p99_ms)" ms "<= 50" -
  ratio=-
  if [ -x "$BASELINE_BUILD/release/HBBaseline" ]; then
    "$BASELINE_BUILD/release/HBBaseline" "$bytes" "$BASE_PORT" >/dev/null 2>&1 & base_pid=$!
    until curl -s -o /dev/null -H "$H" "http://127.0.0.1:$BASE_PORT/json"; do sleep 0.1; done
    bare=$(rps "http://127.0.0.1:$BASE_PORT/json" 2> >(grep -E "Latency  | 99%" >&2))
    kill "$base_pid"; wait "$base_pid" 2>/dev/null || true
    echo "bare Hummingbird ($bytes bytes): $bare req/s"
    awk -v a="$ours" -v b="$bare" -v p="$path" 'BEGIN {printf "GET /iceshelves/api/%s: %.2f of the bare server (target 0.5)\n", p, a / b}'
    ratio=$(awk -v a="$ours" -v b="$bare" 'BEGIN {printf "%.2f", a / b}')
    bench_result "gateway.bare_hummingbird_${name}" "$(printf '%.0f' "$bare")" req/s - -
  fi
  bench_result "gateway.get_${name}" "$(printf '%.0f' "$ours")" req/s "ratio >= 0.5" "$ratio"
done

echo "== POST /iceshelves/api/deploy, $DEPLOYS sequential requests (each confirmed by the broker before the answer)"
for i in $(seq 1 "$DEPLOYS"); do
  curl -s -o /dev/null -w '%{time_total}\n' -H "$H" -X POST "$API/deploy" -d "{\"egg_id\":\"debian-hello\",\"cluster_id\":1,\"instance_name\":\"bench-$i\"}"
done | sort -n | awk '{a[NR]=$1} END {
  p50 = a[int(NR*0.5) > 0 ? int(NR*0.5) : 1] * 1000; p99 = a[int(NR*0.99) > 0 ? int(NR*0.99) : 1] * 1000
  printf "deploy acceptance: p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d\n", p50, p99, a[NR]*1000, NR
  printf "RESULT gateway.deploy_acceptance_p50\t%.1f\tms\t-\t-\n", p50
  printf "RESULT gateway.deploy_acceptance_p99\t%.1f\tms\t<= 20\t-\n", p99 }'
rm -rf "$DATA"

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
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
SECONDS_EACH=${1:-10}
PORT=${BENCH_RMQ_PORT:-5684}
HTTP=${BENCH_HTTP_PORT:-8020}
install_packages wrk
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
BASELINE_SRC=${HB_BASELINE:-$ICESHELVES_ROOT/../shared/bench/hummingbird-baseline}
BASELINE_BUILD=${HB_BASELINE_BUILD:-/tmp/hb-baseline-build}
BASE_PORT=${BENCH_BASELINE_PORT:-8030}
if [ -d "$BASELINE_SRC" ]; then
  swift build -c release --package-path "$BASELINE_SRC" --scratch-path "$BASELINE_BUILD" >/dev/null
else
  echo "no Hummingbird baseline at $BASELINE_SRC (set HB_BASELINE); ratios are skipped" >&2
fi
start_epmd
start_rabbitmq iceshelves-gwbench "$PORT"
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

# rps URL: wrk's requests per second for one URL (the full output goes to stderr).
rps() {
  wrk -t2 -c50 -d"${SECONDS_EACH}s" --latency -H "$H" "$1" | tee /dev/stderr | awk '/Requests\/sec/ {print $2}'
}
for path in "eggs" "deployments/$ID"; do
  bytes=$(curl -s -H "$H" "$API/$path" | wc -c)
  echo "== GET /iceshelves/api/$path ($bytes bytes), 50 connections, ${SECONDS_EACH} s"
  ours=$(rps "$API/$path" 2> >(grep -E "Latency  | 99%|Non-2xx" >&2))
  echo "gateway: $ours req/s"
  if [ -x "$BASELINE_BUILD/release/HBBaseline" ]; then
    "$BASELINE_BUILD/release/HBBaseline" "$bytes" "$BASE_PORT" >/dev/null 2>&1 & base_pid=$!
    until curl -s -o /dev/null -H "$H" "http://127.0.0.1:$BASE_PORT/json"; do sleep 0.1; done
    bare=$(rps "http://127.0.0.1:$BASE_PORT/json" 2> >(grep -E "Latency  | 99%" >&2))
    kill "$base_pid"; wait "$base_pid" 2>/dev/null || true
    echo "bare Hummingbird ($bytes bytes): $bare req/s"
    awk -v a="$ours" -v b="$bare" -v p="$path" 'BEGIN {printf "GET /iceshelves/api/%s: %.2f of the bare server (target 0.5)\n", p, a / b}'
  fi
done

echo "== POST /iceshelves/api/deploy, 300 sequential requests (each confirmed by the broker before the answer)"
for i in $(seq 1 300); do
  curl -s -o /dev/null -w '%{time_total}\n' -H "$H" -X POST "$API/deploy" -d "{\"egg_id\":\"debian-hello\",\"cluster_id\":1,\"instance_name\":\"bench-$i\"}"
done | sort -n | awk '{a[NR]=$1} END {printf "deploy acceptance: p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d\n", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000, NR}'
rm -rf "$DATA"

#!/usr/bin/env bash
# Simulated agents against the agent-broker, on loopback, through the URL real agents use (the
# broker's own listener), with the whole deploy path running (broker, catalog, renderer,
# gateway, agent-broker):
#   1. 5,000 agents (one agent-poll cluster each) long-poll at once; 200 deployments are POSTed to
#      the gateway at 10/s to random clusters; prints the pickup latency p50/p99 (deploy request
#      sent -> the job in an agent's poll answer) and the RSS of every process on that path.
#   2. 10,000 agents poll with the original protocol every 60 s (random phase) for 75 s; prints
#      the poll latency p99.
# No agent deploys anything: nothing is created. Bounded in count and time.
#
#   benchmarks/agents.sh [long-poll agents] [plain agents]
# BENCH_CONFIG=debug uses a debug build; BENCH_SKIP_BUILD=1 uses what is built; BENCH_SETTLE=N
# sends the first deployment N s (default 20) after every agent's first poll went out;
# BENCH_RMQ_NAME names the broker node. Prints RESULT lines too (benchmarks/result.sh).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/result.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
LONG=${1:-5000}
PLAIN=${2:-10000}
PORT=${BENCH_RMQ_PORT:-5686}
HTTP=${BENCH_HTTP_PORT:-8040}
AGENTS=${BENCH_AGENT_PORT:-8041}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
CONFIG=${BENCH_CONFIG:-release}  # BENCH_CONFIG=debug for a quick look without a release build
[ "${BENCH_SKIP_BUILD:-0}" = 1 ] || for product in egg-catalog cloud-init-renderer api-gateway agent-broker; do swift build -c "$CONFIG" --product "$product" >/dev/null; done
BIN=$(swift build -c "$CONFIG" --show-bin-path)
start_epmd
start_rabbitmq "${BENCH_RMQ_NAME:-iceshelves-agentbench}" "$PORT"
RMQ=${STARTED_PIDS[-1]}
export ICESHELVES_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/" ICESHELVES_LOG_LEVEL=warning
DATA=$(mktemp -d)
"$BIN/egg-catalog" --metrics-port=-1 --eggs-dir eggs --data-dir "$DATA/catalog" & STARTED_PIDS+=($!)
CATALOG=$!
"$BIN/cloud-init-renderer" --metrics-port=-1 & STARTED_PIDS+=($!)
RENDERER=$!
"$BIN/api-gateway" --metrics-port=-1 --http-port "$HTTP" --data-dir "$DATA/gw" --max-concurrent-deployments 10000 & STARTED_PIDS+=($!)
GATEWAY=$!
"$BIN/agent-broker" --metrics-port=-1 --port "$AGENTS" --data-dir "$DATA/broker" & STARTED_PIDS+=($!)
BROKER=$!
for _ in $(seq 1 300); do [ -s "$DATA/gw/admin.key" ] && curl -sf "http://127.0.0.1:$HTTP/iceshelves/healthz" >/dev/null && break; sleep 0.1; done
KEY=$(cat "$DATA/gw/admin.key")
API="http://127.0.0.1:$HTTP/iceshelves/api"
until curl -sf -H "Authorization: Bearer $KEY" "$API/eggs/debian-hello" >/dev/null; do sleep 0.2; done
N=$(( LONG > PLAIN ? LONG : PLAIN ))
echo "registering $N agent-poll clusters" >&2
python3 - "$API" "$KEY" "$N" > "$DATA/clusters.json" <<'PY'
import json, sys, urllib.request
api, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = []
for i in range(n):
    req = urllib.request.Request(api + "/clusters", method="POST", data=json.dumps(
        {"name": f"bench-{i}", "connection_method": "agent-poll", "agent_poll_interval": 60}).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    r = json.load(urllib.request.urlopen(req))
    out.append({"id": r["cluster_id"], "key": r["agent_key"]})
json.dump(out, sys.stdout)
PY
# rss PID: the resident MB of PID and its descendants.
rss() {
  local kb=0 p
  for p in $1 $(ps -o pid= --ppid "$1" 2>/dev/null); do
    [ "$p" = "$1" ] || { kb=$((kb + $(rss "$p") * 1024)); continue; }
    kb=$((kb + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo $((kb / 1024))
}
python3 benchmarks/agent-bench.py long --server "http://127.0.0.1:$AGENTS/iceshelves" --clusters "$DATA/clusters.json" --agents "$LONG" \
  --gateway "http://127.0.0.1:$HTTP/iceshelves" --admin-key "$KEY" --deploys 200 --rate 10 --settle "${BENCH_SETTLE:-20}" &
BENCH=$!
sleep 30  # while every poll is held and the deployments arrive
B=$(rss $BROKER) G=$(rss $GATEWAY) R=$(rss $RENDERER) C=$(rss $CATALOG) Q=$(rss $RMQ)
echo "RSS with $LONG long-polls held: the agents' path (the one process agents connect to): agent-broker $B MB"
echo "  the deploy path behind it: api-gateway $G MB, cloud-init-renderer $R MB, egg-catalog $C MB, RabbitMQ $Q MB; all five $((B + G + R + C + Q)) MB"
bench_result agents.broker_rss_long_polls "$B" MB "<= 300" -
bench_result agents.deploy_path_rss_long_polls "$((B + G + R + C + Q))" MB - -
wait $BENCH
[ "$PLAIN" -gt 0 ] || exit 0
/usr/bin/time -f "load generator: %U s user, %S s system CPU, %M KB max RSS" python3 benchmarks/agent-bench.py plain --server "http://127.0.0.1:$AGENTS/iceshelves" --clusters "$DATA/clusters.json" --agents "$PLAIN" --interval 60 --seconds 75
B=$(rss $BROKER)
echo "RSS after $PLAIN plain pollers: agent-broker $B MB"
bench_result agents.broker_rss_plain "$B" MB - -

#!/usr/bin/env bash
# Catalogue import time and list/search latency with 1,000 eggs.
#
#   benchmarks/catalog.sh [eggs]   # default 1000
#
# Makes N eggs (copies of debian-hello with their own names, tags and text) in a temporary
# folder, starts its own RabbitMQ on 127.0.0.1:5682 and the release egg-catalog on a fresh
# database, reads the import time from the catalogue's log, then runs catalog-bench. Prints
# RESULT lines too (benchmarks/result.sh). Env: BENCH_RMQ_PORT (default 5682), BENCH_RMQ_NAME,
# BENCH_CONFIG (default release), BENCH_CALLS (catalog-bench's calls, default 2000).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/result.sh"
cd "$ICESHELVES_ROOT"
trap 'stop_started; rm -rf "$WORK"' EXIT
N=${1:-1000}
PORT=${BENCH_RMQ_PORT:-5682}
CONFIG=${BENCH_CONFIG:-release}
WORK=$(mktemp -d)
install_packages
swift build -c "$CONFIG" --product egg-catalog >/dev/null
swift build -c "$CONFIG" --product catalog-bench >/dev/null
BIN=$(swift build -c "$CONFIG" --show-bin-path)
python3 - "$WORK/eggs" "$N" <<'PY'
import json, os, shutil, sys
root, n = sys.argv[1], int(sys.argv[2])
src = "eggs/debian-hello"
for i in range(n):
    name = f"bench-{i:04d}"
    d = os.path.join(root, name); os.makedirs(d)
    m = json.load(open(f"{src}/metadata.json")); m["name"] = name; m["tags"] = ["bench", f"t{i % 10}"]
    m["description"] = f"Benchmark egg {i}: " + m["description"]
    json.dump(m, open(f"{d}/metadata.json", "w"))
    shutil.copy(f"{src}/cloud-init.yaml", d); shutil.copy(f"{src}/README.md", d)
PY
start_epmd
start_rabbitmq "${BENCH_RMQ_NAME:-iceshelves-catbench}" "$PORT"
export ICESHELVES_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/"
"$BIN/egg-catalog" --eggs-dir "$WORK/eggs" --data-dir "$WORK/data" --metrics-port 0 >"$WORK/catalog.log" 2>&1 &
STARTED_PIDS+=($!)
# The catalogue imports before it serves: wait (bounded) for the import's log line, then for a
# first answer over the bus.
for _ in $(seq 1 600); do grep -q 'seconds=' "$WORK/catalog.log" && break; sleep 0.2; done
import=$(grep -o 'created=[0-9]*.*seconds=[0-9.]*' "$WORK/catalog.log") || { cat "$WORK/catalog.log" >&2; exit 1; }
for _ in $(seq 1 50); do "$BIN/catalog-bench" "$ICESHELVES_AMQP_URL" 2 >/dev/null 2>&1 && break; sleep 0.2; done
echo "import: $import"
target=-
[ "$N" = 1000 ] && target="<= 3"
bench_result "catalog.import_$N" "$(printf '%.2f' "$(sed 's/.*seconds=//' <<<"$import")")" s "$target" -
"$BIN/catalog-bench" "$ICESHELVES_AMQP_URL" "${BENCH_CALLS:-2000}"

#!/usr/bin/env bash
# Bus throughput and RPC latency, beside the raw rabbitmq-c baseline, in the same run.
#
#   benchmarks/bus.sh [count]      # default 100000 messages of 32 bytes
#
# Starts its own RabbitMQ on 127.0.0.1:5680 (stopped by PID at the end), builds both
# benchmarks in release mode, runs the baseline and ours, and prints both and the ratios.
# The baseline is ../shared/bench/amqp-baseline when it exists (it is not part of this repo).
# Env: BENCH_RMQ_PORT (default 5680), RMQ_BASE (node state), AMQP_BASELINE, BENCH_SCRATCH_PATH
# (a separate SwiftPM build folder for ours, e.g. .build-bus; default: the package's .build),
# BENCH_RPC_CALLS (default 2000), BENCH_ROUNDS (default 1: rounds of baseline-then-ours against
# the same broker, each with its own ratios, since the broker's speed drifts between runs),
# BENCH_CONFIG (default release), BENCH_RMQ_NAME (the node's name, default iceshelves-bench),
# AMQP_BASELINE_BUILD (the baseline's build folder, default /tmp/amqp-baseline-build).
# Besides what it prints for people, each round prints RESULT lines (benchmarks/result.sh).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/result.sh"
cd "$ICESHELVES_ROOT"
trap stop_started EXIT
COUNT=${1:-100000}
PORT=${BENCH_RMQ_PORT:-5680}
BASELINE=${AMQP_BASELINE:-$ICESHELVES_ROOT/../shared/bench/amqp-baseline}
BASELINE_BUILD=${AMQP_BASELINE_BUILD:-/tmp/amqp-baseline-build}
CONFIG=${BENCH_CONFIG:-release}

SCRATCH=()
[ -n "${BENCH_SCRATCH_PATH:-}" ] && SCRATCH=(--scratch-path "$BENCH_SCRATCH_PATH")
RPC_CALLS=${BENCH_RPC_CALLS:-2000}
ROUNDS=${BENCH_ROUNDS:-1}

install_packages
swift build -c "$CONFIG" "${SCRATCH[@]}" --product bus-bench >/dev/null
BIN=$(swift build -c "$CONFIG" "${SCRATCH[@]}" --show-bin-path)
if [ -d "$BASELINE" ]; then
  swift build -c release --package-path "$BASELINE" --scratch-path "$BASELINE_BUILD" --product amqp-bench >/dev/null
fi
start_epmd
start_rabbitmq "${BENCH_RMQ_NAME:-iceshelves-bench}" "$PORT"

# One round: the baseline and ours against the same broker, then that round's ratios. Whoever
# runs second publishes while the broker still cleans up after the first one's 100k persistent
# messages, so even rounds run ours first.
run_baseline() {
  local out
  out=$("$BASELINE_BUILD/release/amqp-bench" "$PORT" "$COUNT" 32 1000 1000 1)
  echo "$out"
  base_pub=$(echo "$out" | sed -n 's/^publish+confirm:.* = \([0-9]*\) msg\/s.*/\1/p')
  base_con=$(echo "$out" | sed -n 's/^consume+ack:.* = \([0-9]*\) msg\/s.*/\1/p')
}
run_ours() {
  local out
  out=$("$BIN/bus-bench" "amqp://guest:guest@127.0.0.1:$PORT/" "$COUNT" 32 1000 1000 "$RPC_CALLS")
  echo "$out"
  ours_pub=$(echo "$out" | sed -n 's/^RESULT publish_msgs_per_s=\([0-9]*\).*/\1/p')
  ours_con=$(echo "$out" | sed -n 's/^RESULT.*consume_msgs_per_s=\([0-9]*\).*/\1/p')
  ours_man=$(echo "$out" | sed -n 's/^RESULT.*mandatory_publish_msgs_per_s=\([0-9]*\).*/\1/p')
  rpc_p50=$(echo "$out" | sed -n 's/^RESULT.*rpc_p50_ms=\([0-9.]*\).*/\1/p')
  rpc_p99=$(echo "$out" | sed -n 's/^RESULT.*rpc_p99_ms=\([0-9.]*\).*/\1/p')
}
# results SUFFIX: this round's RESULT lines (ratios only when the baseline ran).
results() {
  local rp=- rc=-
  if [ -n "$base_pub" ]; then
    rp=$(awk -v a="$ours_pub" -v b="$base_pub" 'BEGIN {printf "%.2f", a / b}')
    rc=$(awk -v a="$ours_con" -v b="$base_con" 'BEGIN {printf "%.2f", a / b}')
    bench_result "bus.baseline_publish_confirm$1" "$base_pub" msg/s - -
    bench_result "bus.baseline_consume_ack$1" "$base_con" msg/s - -
  fi
  bench_result "bus.publish_confirm$1" "$ours_pub" msg/s "ratio >= 0.80" "$rp"
  bench_result "bus.consume_ack$1" "$ours_con" msg/s "ratio >= 0.80" "$rc"
  bench_result "bus.publish_mandatory$1" "$ours_man" msg/s - -
  bench_result "bus.rpc_p50$1" "$rpc_p50" ms "<= 1" -
  bench_result "bus.rpc_p99$1" "$rpc_p99" ms "<= 5" -
}
round() {
  base_pub=""; base_con=""
  if [ ! -d "$BASELINE" ]; then run_ours; results "$2"; return; fi
  if (( $1 % 2 == 1 )); then run_baseline; run_ours; else run_ours; run_baseline; fi
  awk -v a="$ours_pub" -v b="$base_pub" -v c="$ours_con" -v d="$base_con" -v m="$ours_man" 'BEGIN {
    printf "ratio publish+confirm: %.2f (ours %d / baseline %d msg/s; target >= 0.80)\n", a / b, a, b
    printf "ratio consume+ack:     %.2f (ours %d / baseline %d msg/s; target >= 0.80)\n", c / d, c, d
    printf "(ours mandatory publish: %d msg/s, %.2f of the baseline'"'"'s plain publish; no baseline twin)\n", m, m / b }'
  results "$2"
}

for ((r = 1; r <= ROUNDS; r++)); do
  if [ "$ROUNDS" -gt 1 ]; then echo "--- round $r of $ROUNDS"; fi
  suffix=""
  [ "$ROUNDS" -gt 1 ] && suffix=".round$r"
  round "$r" "$suffix"
done

#!/usr/bin/env bash
# Render-plus-validate time per built-in egg and NoCloud seed time (render-bench), no daemon.
#
#   benchmarks/render.sh [iterations]    # default 500 renders per egg, then 50 seeds
#
# Env: BENCH_CONFIG (default release). Prints RESULT lines too (benchmarks/result.sh).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ICESHELVES_ROOT"
CONFIG=${BENCH_CONFIG:-release}
install_packages
swift build -c "$CONFIG" --product render-bench >/dev/null
"$(swift build -c "$CONFIG" --show-bin-path)/render-bench" eggs "${1:-500}"

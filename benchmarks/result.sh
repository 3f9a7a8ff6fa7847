# Machine-readable result lines for benchmarks/run. Source it; do not run it.
#
#   bench_result NAME VALUE UNIT TARGET RATIO
#
# prints `RESULT NAME<TAB>VALUE<TAB>UNIT<TAB>TARGET<TAB>RATIO` on stdout, beside what a benchmark
# prints for people. TARGET is `-` or `<= N` / `>= N` on VALUE (in UNIT), or `ratio <= N` /
# `ratio >= N` on RATIO; RATIO is the figure divided by its same-run baseline, or `-`.
# The Swift benchmarks and benchmarks/agent-bench.py print the same lines themselves.
bench_result() {
  printf 'RESULT %s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:--}" "${5:--}"
}

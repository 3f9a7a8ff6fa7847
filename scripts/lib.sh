# Shared helpers for scripts/up, scripts/test and .ci/run. Source it; do not run it.
# Every process a script starts is recorded by PID and stopped by that PID only.

ICESHELVES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STARTED_PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# missing_packages P...: those of the Debian packages P... that are not installed, one per line.
missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# Installs the Debian packages the project needs, when any is missing.
install_packages() {
  local wanted=(rabbitmq-server librabbitmq-dev libssh2-1-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libvirt-dev pkg-config cloud-init genisoimage socat sqlite3 docker-compose "$@")
  local missing=()
  mapfile -t missing < <(missing_packages "${wanted[@]}")
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Starts epmd on loopback unless one already answers; records its PID when we started it.
start_epmd() {
  if epmd_bin=$(command -v epmd || ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -1); then
    if ! "$epmd_bin" -names >/dev/null 2>&1; then
      ERL_EPMD_ADDRESS=127.0.0.1 "$epmd_bin" -address 127.0.0.1 >/dev/null 2>&1 &
      STARTED_PIDS+=($!)
      sleep 0.3
    fi
  fi
}

# start_rabbitmq NAME PORT: a node on 127.0.0.1:PORT with fresh state; waits until it is ready.
start_rabbitmq() {
  local name=$1 port=$2
  local dir=${RMQ_BASE:-/var/tmp/iceshelves-rmq}/$name
  rm -rf "$dir/mnesia"
  mkdir -p "$dir"
  RMQ_NAME=$name RMQ_PORT=$port RMQ_DIR=$dir "$ICESHELVES_ROOT/scripts/rabbitmq-node" run >"$dir/stdout.log" 2>&1 &
  STARTED_PIDS+=($!)
  RMQ_NAME=$name RMQ_PORT=$port RMQ_DIR=$dir "$ICESHELVES_ROOT/scripts/rabbitmq-node" wait
  log "rabbitmq $name ready on 127.0.0.1:$port"
}

# start_rabbitmq_cluster NAME PORT...: one node NAME-1, NAME-2, ... per port on 127.0.0.1, with fresh
# state and one Erlang cookie, every node after the first joined to NAME-1; waits until all run.
# Each node's distribution port is PORT+20000 on 127.0.0.1 (scripts/rabbitmq-node); PIDs are recorded.
start_rabbitmq_cluster() {
  local name=$1 i port cookie
  shift
  local base=${RMQ_BASE:-/var/tmp/iceshelves-rmq}
  rmq_cluster_node() { RMQ_NAME=$name-$1 RMQ_PORT=$2 RMQ_DIR=$base/$name-$1 "$ICESHELVES_ROOT/scripts/rabbitmq-node" "${@:3}"; }
  cookie=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
  i=0
  for port in "$@"; do
    i=$((i + 1))
    rm -rf "$base/$name-$i/mnesia" "$base/$name-$i/.erlang.cookie"
    mkdir -p "$base/$name-$i"
    (umask 077 && printf '%s' "$cookie" >"$base/$name-$i/.erlang.cookie")
    # The script itself in the background (not the function), so that $! is the node's PID.
    RMQ_NAME=$name-$i RMQ_PORT=$port RMQ_DIR=$base/$name-$i "$ICESHELVES_ROOT/scripts/rabbitmq-node" run >"$base/$name-$i/stdout.log" 2>&1 &
    STARTED_PIDS+=($!)
  done
  i=0
  for port in "$@"; do
    i=$((i + 1))
    rmq_cluster_node "$i" "$port" wait
    [ "$i" = 1 ] && continue
    rmq_cluster_node "$i" "$port" ctl -q stop_app >/dev/null
    rmq_cluster_node "$i" "$port" ctl -q join_cluster "$name-1@localhost" >/dev/null
    rmq_cluster_node "$i" "$port" ctl -q start_app >/dev/null
    rmq_cluster_node "$i" "$port" wait
  done
  log "rabbitmq cluster $name ready: $# nodes on 127.0.0.1 ports $*"
}

# check_format: swift-format's lint with the repository's .swift-format finds nothing (every finding is an error).
check_format() {
  log "swift format lint (.swift-format)"
  local out
  if ! out=$(cd "$ICESHELVES_ROOT" && swift format lint --strict --recursive --configuration .swift-format \
        Package.swift Services Shared Tests benchmarks 2>&1) || [ -n "$out" ]; then
    sed -n 1,50p <<<"$out" >&2
    log "swift format lint: $(grep -c ': error: ' <<<"$out" || true) finding(s) (the first 50 above); run: swift format --in-place --recursive --configuration .swift-format Package.swift Services Shared Tests benchmarks"
    return 1
  fi
}

# check_openapi: Services/api-gateway/openapi.json is exactly what scripts/openapi.py writes.
check_openapi() {
  local fresh
  fresh=$(mktemp)
  python3 "$ICESHELVES_ROOT/scripts/openapi.py" >"$fresh"
  if ! diff -u "$ICESHELVES_ROOT/Services/api-gateway/openapi.json" "$fresh" >&2; then
    rm -f "$fresh"
    log "Services/api-gateway/openapi.json is not what scripts/openapi.py writes; run: python3 scripts/openapi.py > Services/api-gateway/openapi.json"
    return 1
  fi
  rm -f "$fresh"
}

# Stops everything this script started, newest first, by PID: SIGTERM, then SIGKILL after 30 s
# (above the services' default shutdown budget of 25 s, --shutdown-grace-seconds).
stop_started() {
  local i pid
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${STARTED_PIDS[$i]}
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}

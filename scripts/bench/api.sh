#!/usr/bin/env bash
# API throughput and latency: wrk, 64 connections for 10 s, against an authenticated GET (/api/me: token lookup
# plus organization lookup) on loopback, on SQLite and on PostgreSQL, with the release build; each followed by the
# same load on /healthz, the floor this HTTP stack reaches on this machine with no work behind the route.
# Targets on a 2-core machine: p99 < 10 ms and >= 5,000 requests/s.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh
source scripts/lib/postgres.sh

require_swift
ensure_packages wrk curl postgresql
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
# One wrk thread: it keeps 64 connections busy at 20k requests/s with a third of a core, and on a 2-core machine a
# second wrk thread is one more busy thread taking turns with the server's two event loops. In alternating runs
# against one server, -t1 gave 4-23% more requests/s and a lower p99 than -t2 in every round.
threads=${BENCH_THREADS:-1}

echo "building arrow (release)…"
swift build -c release --product arrow >/tmp/arrow-bench-build.log 2>&1 || { tail -40 /tmp/arrow-bench-build.log; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
work=$(mktemp -d /tmp/arrow-bench.XXXXXX)
chmod 755 "$work"
start_postgres "$work/pg" "${BENCH_PG_PORT:-54339}"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; stop_postgres; rm -rf "$work"; }
trap cleanup EXIT

# bench NAME ENV...: start a server with ENV, make a token, run wrk, print one result row.
bench() {
    local name=$1; shift
    local port=$((18000 + RANDOM % 1000))
    env "$@" "$bin" admin init --email bench@arrow.test --password-stdin <<<"bench-password" >"$work/$name.init" 2>&1
    local token
    token=$(tail -n 1 "$work/$name.init")
    env "$@" ARROW_LOG_LEVEL=warning "$bin" serve --port "$port" >"$work/$name.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/me" >/dev/null
    # Warm-up, then the measured run.
    wrk -t"$threads" -c"$connections" -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/me" >/dev/null
    measure "$work/$name.wrk" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/me"
    row "$name" "$work/$name.wrk"
    # The floor under the same load: /healthz, no authentication, no database, no JSON body: what the HTTP stack,
    # the middleware and loopback TCP cost on their own on this machine.
    measure "$work/$name-floor.wrk" "http://127.0.0.1:$port/healthz"
    row "  /healthz" "$work/$name-floor.wrk"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

# measure OUTPUT WRK_ARGS...: the measured wrk run, and the CPU time the server used during it (appended to OUTPUT).
# Requests/s and latency follow this VM's load from one minute to the next; CPU per request much less so, which
# makes it the figure to compare builds by.
measure() {
    local out=$1; shift
    local before after
    before=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
    wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" >"$out"
    after=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
    echo "server-cpu-ticks $((after - before)) $(getconf CLK_TCK)" >>"$out"
}

# row LABEL WRK_OUTPUT: one result row.
row() {
    local rps p50 p99 cpu errors
    rps=$(awk '/Requests\/sec/ {print $2}' "$2")
    p50=$(awk '$1=="50%" {print $2}' "$2")
    p99=$(awk '$1=="99%" {print $2}' "$2")
    cpu=$(awk '/requests in/ {n = $1} /server-cpu-ticks/ {t = $2; hz = $3} END {printf "%.0fus", t / hz * 1e6 / n}' "$2")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' "$2" | tr '\n' ' ')
    printf "%-10s %12s %10s %10s %15s   %s\n" "$1" "$rps" "$p50" "$p99" "$cpu" "${errors:-no errors}"
}

echo
echo "GET /api/me, wrk -t$threads -c$connections -d$duration, $(nproc) cores"
printf "%-10s %12s %10s %10s %15s\n" backend "requests/s" p50 p99 "server CPU/req"
bench sqlite ARROW_DATA_DIR="$work/sqlite"
bench postgres ARROW_DATABASE_URL="postgres://arrow@127.0.0.1:${BENCH_PG_PORT:-54339}/postgres" ARROW_DATA_DIR="$work/pgdata"
echo "targets: p99 < 10ms, >= 5000 requests/s"

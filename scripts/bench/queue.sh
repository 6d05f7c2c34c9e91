#!/usr/bin/env bash
# The build queue under concurrent builders: claims per second, p50/p99 claim latency and duplicates (must be 0) with
# 1, 4 and 16 builders claiming BENCH_TASKS queued tasks through the queue's own code (BuildQueue: claim transaction,
# lease, builder record), on SQLite (the embedded default) and PostgreSQL (a cluster this script starts on loopback).
# Then the wake-up: milliseconds from a trigger's commit on one node to a long-polling claimer's return on another
# (PostgreSQL: through LISTEN/NOTIFY only). Targets: >= 1,000 claims/s at 16 builders on PostgreSQL, 0 duplicates
# everywhere, and every PostgreSQL wake-up within 100 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh
source scripts/lib/postgres.sh

require_swift
ensure_packages postgresql
tasks=${BENCH_TASKS:-4000}

echo "building arrow (release)…"
swift build -c release --product arrow >/tmp/arrow-bench-build.log 2>&1 || { tail -40 /tmp/arrow-bench-build.log; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
work=$(mktemp -d /tmp/arrow-bench-queue.XXXXXX)
chmod 755 "$work"
trap 'stop_postgres; rm -rf "$work"' EXIT
start_postgres "$work/pg" "${BENCH_PG_PORT:-54360}"
pg_url="postgres://arrow@127.0.0.1:${BENCH_PG_PORT:-54360}/postgres?sslmode=disable"

echo "claiming $tasks tasks with 1, 4 and 16 concurrent builders ($(nproc) cores)"
"$bin" bench queue --data-dir "$work/sqlite" --tasks "$tasks" | tee "$work/results"
"$bin" bench queue --database-url "$pg_url" --tasks "$tasks" | tee -a "$work/results"

status=0
if grep -q "duplicates=[1-9]" "$work/results"; then echo "FAIL: a task was claimed twice" >&2; status=1; fi
if awk '$2 ~ /^builders=/ {split($3,a,"[=/]"); if (a[2] != a[3]) exit 1}' "$work/results"; then :; else
    echo "FAIL: not every task was claimed" >&2; status=1
fi
pg16=$(awk '$1 == "postgres" && $2 == "builders=16" {split($6,a,"="); print a[2]}' "$work/results")
echo "postgres, 16 builders: ${pg16} claims/s; target 1000 (ratio $(awk -v v="$pg16" 'BEGIN {printf "%.2f", v / 1000}'))"
awk -v v="$pg16" 'BEGIN {exit !(v >= 1000)}' || { echo "FAIL: under the 1,000 claims/s target" >&2; status=1; }
wake_max=$(awk '$1 == "postgres" && $2 == "wake" {split($6,a,"="); print a[2]}' "$work/results")
echo "postgres wake-up, slowest of $(awk '$1 == "postgres" && $2 == "wake" {print $3}' "$work/results"): ${wake_max} ms; target 100 ms"
awk -v v="$wake_max" 'BEGIN {exit !(v != "" && v <= 100)}' || { echo "FAIL: a wake-up took over 100 ms" >&2; status=1; }
exit "$status"

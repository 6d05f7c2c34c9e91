#!/usr/bin/env bash
# Image upload throughput and server memory, on loopback (local store, SQLite), next to `cp` of the same file on the
# same disk, with the server's peak RSS:
#   1. a 2 GiB image sent with curl through POST /api/vm_images/upload (one request);
#   2. the same file through the multipart path with `arrow image upload` (sign, PUT each part to its presigned
#      URL, complete: the server assembles the parts, hashes them on the way, inspects with ranged reads).
# Each is run BENCH_RUNS times (default 3), interleaved with cp, and the median is compared: on a VM, writing to
# page-cache memory the host has not backed yet costs several times more than rewriting memory it has, so single
# runs of cp vary by 2x or more.
# Targets: >= 0.6x cp; server peak RSS < 100 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh

require_swift
ensure_packages curl bc
size_mib=${BENCH_SIZE_MIB:-2048}
runs=${BENCH_RUNS:-3}
port=${BENCH_PORT:-54360}

echo "building arrow (release)…"
swift build -c release --product arrow >/tmp/arrow-bench-build.log 2>&1 || { tail -40 /tmp/arrow-bench-build.log; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
work=$(mktemp -d "${BENCH_DIR:-$PWD/.bench}.XXXXXX")
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# A raw disk image of random bytes (raw is what the inspector sees; every byte still goes through it).
head -c $((size_mib << 20)) /dev/urandom >"$work/disk.raw"
sync

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

token=$("$bin" admin init --data-dir "$work/data" --email bench@arrow.test --password bench-password 2>/dev/null | tail -1)
ARROW_UPLOADS_PER_HOUR=0 ARROW_LOG_LEVEL=warning "$bin" serve --data-dir "$work/data" --host 127.0.0.1 --port "$port" &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

cp_runs=(); single_runs=(); multipart_runs=(); parts=""; rss_single_kib=0
for run in $(seq 1 "$runs"); do
    drop_caches
    start=$(now); cp "$work/disk.raw" "$work/copy.raw"; sync; end=$(now)
    cp_runs+=("$(echo "$end - $start" | bc -l)")
    rm -f "$work/copy.raw"

    drop_caches
    result=$(curl -sS -o "$work/response.json" -w "%{http_code} %{time_total}" -H "Authorization: Bearer $token" \
        -F name=bench -F "file=@$work/disk.raw;filename=disk.raw" "http://127.0.0.1:$port/api/vm_images/upload")
    read -r status seconds <<<"$result"
    [ "$status" = "201" ] || { echo "upload failed: HTTP $status: $(cat "$work/response.json")" >&2; exit 1; }
    single_runs+=("$seconds")
    [ "$run" = 1 ] && rss_single_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

    drop_caches
    start=$(now)
    ARROW_API="http://127.0.0.1:$port" ARROW_TOKEN="$token" XDG_CACHE_HOME="$work/cache" \
        "$bin" image upload "$work/disk.raw" --name bench-multipart --multipart-threshold 64 >"$work/multipart.out" 2>"$work/multipart.err" \
        || { echo "multipart upload failed: $(tail -3 "$work/multipart.err")" >&2; exit 1; }
    end=$(now)
    multipart_runs+=("$(echo "$end - $start" | bc -l)")
    parts=$(grep -o 'in [0-9]* part(s)' "$work/multipart.err" | tail -1)
    # Keep the disk from filling: each run stores two more copies.
    rm -rf "$work/data/storage/objects/images"
    echo "run $run: cp ${cp_runs[-1]} s, single ${single_runs[-1]} s, multipart ${multipart_runs[-1]} s"
done
rss_all_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

cp_s=$(median "${cp_runs[@]}"); single_s=$(median "${single_runs[@]}"); multipart_s=$(median "${multipart_runs[@]}")
mib_s() { echo "scale=1; $size_mib / $1" | bc -l; }
echo "median of $runs runs, $size_mib MiB:"
printf '%-34s %8.2f s %8s MiB/s\n' "cp (same disk, synced)" "$cp_s" "$(mib_s "$cp_s")"
printf '%-34s %8.2f s %8s MiB/s   ratio %.2fx cp (target >= 0.6)\n' "POST /api/vm_images/upload (curl)" "$single_s" \
    "$(mib_s "$single_s")" "$(echo "$cp_s / $single_s" | bc -l)"
printf '%-34s %8.2f s %8s MiB/s   ratio %.2fx cp (target >= 0.6); %s\n' "multipart (arrow image upload)" "$multipart_s" \
    "$(mib_s "$multipart_s")" "$(echo "$cp_s / $multipart_s" | bc -l)" "$parts"
printf '%-34s %8d MiB after one single upload, %d MiB after everything (target < 100)\n' "server peak RSS" \
    "$((rss_single_kib / 1024))" "$((rss_all_kib / 1024))"

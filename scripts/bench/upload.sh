#!/usr/bin/env bash
# Image upload throughput and server memory, on loopback (local store, SQLite), next to `cp` of the same file on the
# same disk, with the server's peak RSS:
#   1. a 2 GiB image sent with curl through POST /api/vm_images/upload (one request);
#   2. the same file through the multipart path with `arrow image upload` (sign, PUT each part to its presigned
#      URL, complete: the server assembles the parts, hashes them on the way, inspects with ranged reads).
# Each is run BENCH_RUNS times (default 5), each run right after its own cp, and the ratio is taken per run (cp of
# that run / upload of that run) and reported as the median of those ratios, beside the median times: on a VM,
# writing to page-cache memory the host has not backed yet costs several times more than rewriting memory it has,
# and the disk's speed drifts, so cp alone varies by 2x or more between runs (2.8 s to 8.1 s seen in one run of this
# script); a ratio taken within one run sees the same conditions on both sides.
# Targets: >= 0.6x cp; server peak RSS < 100 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh

require_swift
ensure_packages curl bc
size_mib=${BENCH_SIZE_MIB:-2048}
runs=${BENCH_RUNS:-5}
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

cp_runs=(); single_runs=(); multipart_runs=(); single_ratios=(); multipart_ratios=(); parts=""; rss_single_kib=0
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
    single_ratios+=("$(echo "${cp_runs[-1]} / ${single_runs[-1]}" | bc -l)")
    multipart_ratios+=("$(echo "${cp_runs[-1]} / ${multipart_runs[-1]}" | bc -l)")
    printf 'run %d: cp %.2f s, single %.2f s (%.2fx), multipart %.2f s (%.2fx)\n' "$run" "${cp_runs[-1]}" "${single_runs[-1]}" \
        "${single_ratios[-1]}" "${multipart_runs[-1]}" "${multipart_ratios[-1]}"
done
rss_all_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

# The client's own ceiling: the same curl command sending to a socket that discards everything (cold cache, as
# above). When this is near the single upload's time, curl, not the server, sets the pace.
sink_port=$((port + 1))
python3 - "$sink_port" <<'PY' &
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(1)
connection, _ = server.accept()
buffer = bytearray(1 << 20)
head = b""
while b"\r\n\r\n" not in head:
    head += connection.recv(4096)
header, _, body = head.partition(b"\r\n\r\n")
length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length:"))
if b"100-continue" in header.lower():
    connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
left = length - len(body)
while left > 0:
    left -= connection.recv_into(buffer, min(left, len(buffer)))
connection.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
connection.close()
PY
sink=$!
sleep 0.5
drop_caches
start=$(now)
curl -sS -o /dev/null -m 120 -F name=bench -F "file=@$work/disk.raw;filename=disk.raw" "http://127.0.0.1:$sink_port/" 2>/dev/null || true
end=$(now)
kill "$sink" 2>/dev/null || true
ceiling_s=$(echo "$end - $start" | bc -l)

cp_s=$(median "${cp_runs[@]}"); single_s=$(median "${single_runs[@]}"); multipart_s=$(median "${multipart_runs[@]}")
mib_s() { echo "scale=1; $size_mib / $1" | bc -l; }
echo "median of $runs runs, $size_mib MiB:"
printf '%-34s %8.2f s %8s MiB/s\n' "cp (same disk, synced)" "$cp_s" "$(mib_s "$cp_s")"
printf '%-34s %8.2f s %8s MiB/s   ratio %.2fx cp, median of per-run ratios (target >= 0.6)\n' "POST /api/vm_images/upload (curl)" \
    "$single_s" "$(mib_s "$single_s")" "$(median "${single_ratios[@]}")"
printf '%-34s %8.2f s %8s MiB/s   ratio %.2fx cp, median of per-run ratios (target >= 0.6); %s\n' "multipart (arrow image upload)" \
    "$multipart_s" "$(mib_s "$multipart_s")" "$(median "${multipart_ratios[@]}")" "$parts"
printf '%-34s %8.2f s %8s MiB/s   (curl sending the same form to a discarding socket: the pace of curl alone)\n' \
    "curl to a null sink" "$ceiling_s" "$(mib_s "$ceiling_s")"
printf '%-34s %8d MiB after one single upload, %d MiB after everything (target < 100)\n' "server peak RSS" \
    "$((rss_single_kib / 1024))" "$((rss_all_kib / 1024))"

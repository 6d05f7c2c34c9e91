#!/usr/bin/env bash
# Object storage throughput and memory: put then get a 1 GiB object through each store with `arrow storage`,
# next to `cp` of the same file on the same disk, with each process's peak RSS.
# Targets: local store >= 0.7x cp; peak RSS < 64 MiB whatever the object size.
# The S3 store talks to moto_server on loopback (an in-memory Python server: its numbers measure moto as much as us).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh
source scripts/lib/moto.sh

require_swift
ensure_packages time curl bc
size_mib=${BENCH_SIZE_MIB:-1024}

echo "building arrow (release)…"
swift build -c release --product arrow >/tmp/arrow-bench-build.log 2>&1 || { tail -40 /tmp/arrow-bench-build.log; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
work=$(mktemp -d "${BENCH_DIR:-$PWD/.bench}.XXXXXX")
trap 'stop_moto; rm -rf "$work"' EXIT
start_moto "$work/moto" "${BENCH_MOTO_PORT:-54350}" "${BENCH_MOTO_OPEN_PORT:-54351}"

head -c $((size_mib << 20)) /dev/urandom >"$work/source.bin"
sync

# measure NAME COMMAND...: wall seconds and peak RSS (KiB) of one command; prints "seconds rss".
measure() {
    sync
    echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$(echo "$end - $start" | bc -l) $(cat "$work/rss")"
}

read -r cp_s cp_rss < <(measure cp "$work/source.bin" "$work/copy.bin")
rm -f "$work/copy.bin"
# cp leaves the copy dirty in the page cache; our put fsyncs before the object exists. The durable peer: dd with fsync.
read -r dd_s dd_rss < <(measure dd if="$work/source.bin" of="$work/copy.bin" bs=1M conv=fsync status=none)
rm -f "$work/copy.bin"
mibps() { echo "scale=0; $size_mib / $1" | bc -l; }

row() {
    printf "%-22s %8s s %7s MiB/s %6s x cp %6s x dd-fsync %6s MiB peak RSS\n" "$1" "$(printf %.2f "$2")" "$(mibps "$2")" \
        "$(printf %.2f "$(echo "$cp_s / $2" | bc -l)")" "$(printf %.2f "$(echo "$dd_s / $2" | bc -l)")" "$(( $3 / 1024 ))"
}

echo
echo "$size_mib MiB object, $(nproc) cores"
row "cp (same disk)" "$cp_s" "$cp_rss"
row "dd conv=fsync" "$dd_s" "$dd_rss"

local_env=(env ARROW_DATA_DIR="$work/data")
read -r s rss < <(measure "${local_env[@]}" "$bin" storage put bench/object.bin "$work/source.bin"); row "local put" "$s" "$rss"
read -r s rss < <(measure "${local_env[@]}" "$bin" storage get bench/object.bin "$work/out.bin"); row "local get" "$s" "$rss"
cmp -s "$work/source.bin" "$work/out.bin" || { echo "local get returned different bytes" >&2; exit 1; }
rm -f "$work/out.bin"

s3_env=(env B2_BUCKET=arrow-test B2_ENDPOINT="$ARROW_TEST_S3_ENDPOINT" B2_REGION=us-east-1
        B2_KEY_ID="$ARROW_TEST_S3_KEY_ID" B2_APP_KEY="$ARROW_TEST_S3_SECRET")
read -r s rss < <(measure "${s3_env[@]}" "$bin" storage put bench-object.bin "$work/source.bin"); row "s3 (moto) put" "$s" "$rss"
read -r s rss < <(measure "${s3_env[@]}" "$bin" storage get bench-object.bin "$work/out.bin"); row "s3 (moto) get" "$s" "$rss"
cmp -s "$work/source.bin" "$work/out.bin" || { echo "s3 get returned different bytes" >&2; exit 1; }
echo "targets: local >= 0.70x cp; peak RSS < 64 MiB (puts are durable: compare them with dd conv=fsync too)"

#!/usr/bin/env bash
# `arrow image inspect` next to `qemu-img info` on the same test images, per file and in total, in one run.
# Both judge the same files; qemu-img is told the format (-f), as a safe pipeline must do. Each figure is the
# median of BENCH_RUNS (default 15) runs of a fresh process, so it includes process start-up for both; the last
# line runs every file through one arrow process, which shows the inspection cost without start-up.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh

require_swift
ensure_packages qemu-utils genisoimage
runs=${BENCH_RUNS:-15}

echo "building arrow (release)…"
swift build -c release --product arrow >/tmp/arrow-bench-build.log 2>&1 || { tail -40 /tmp/arrow-bench-build.log; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
work=$(mktemp -d "${BENCH_DIR:-$PWD/.bench}.XXXXXX")
trap 'rm -rf "$work"' EXIT

cd "$work"
qemu-img create -q -f qcow2 disk.qcow2 20G
qemu-img create -q -f qcow2 -o preallocation=metadata prealloc.qcow2 4G
qemu-img create -q -f vmdk sparse.vmdk 20G
qemu-img create -q -f vmdk -o subformat=streamOptimized stream.vmdk 20G
qemu-img create -q -f vpc dynamic.vhd 20G
qemu-img create -q -f vpc -o subformat=fixed fixed.vhd 1G
qemu-img create -q -f vhdx disk.vhdx 20G
qemu-img create -q -f raw disk.raw 2G
mkdir iso && head -c 50M /dev/urandom >iso/payload && genisoimage -quiet -o boot.iso -r iso
echo "images: $(ls -1 | grep -v '^iso$' | tr '\n' ' ')"

python3 - "$bin" "$runs" <<'PY'
import subprocess, sys, time, statistics, json
arrow, runs = sys.argv[1], int(sys.argv[2])
files = [("disk.qcow2", "qcow2"), ("prealloc.qcow2", "qcow2"), ("sparse.vmdk", "vmdk"), ("stream.vmdk", "vmdk"),
         ("dynamic.vhd", "vpc"), ("fixed.vhd", "vpc"), ("disk.vhdx", "vhdx"), ("disk.raw", "raw"), ("boot.iso", "raw")]

def median_ms(cmd):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)

total_arrow = total_qemu = 0.0
print(f"{'file':<16}{'arrow inspect':>15}{'qemu-img info':>15}{'ratio':>8}   verdicts (arrow / qemu)")
for name, qemu_format in files:
    verdict = json.loads(subprocess.run([arrow, "image", "inspect", "--json", name], capture_output=True, text=True).stdout)
    info = json.loads(subprocess.run(["qemu-img", "info", "-f", qemu_format, "--output=json", name], capture_output=True, text=True).stdout)
    a = median_ms([arrow, "image", "inspect", "--json", name])
    q = median_ms(["qemu-img", "info", "-f", qemu_format, "--output=json", name])
    total_arrow += a; total_qemu += q
    agree = "" if verdict["virtual_size"] == info["virtual-size"] else "  (virtual sizes differ)"
    print(f"{name:<16}{a:>12.2f} ms{q:>12.2f} ms{q / a:>7.2f}x   {verdict['format']} {verdict['virtual_size']} / {info['format']} {info['virtual-size']}{agree}")
print(f"{'total':<16}{total_arrow:>12.2f} ms{total_qemu:>12.2f} ms{total_qemu / total_arrow:>7.2f}x")
together = median_ms([arrow, "image", "inspect", "--json"] + [name for name, _ in files])
print(f"{'all, 1 process':<16}{together:>12.2f} ms{total_qemu:>12.2f} ms{total_qemu / together:>7.2f}x   (arrow inspects every file in one process; qemu-img has no such mode)")
print("ratio = qemu-img time / arrow time (above 1: arrow is faster); medians of", runs, "runs, process start-up included")
PY

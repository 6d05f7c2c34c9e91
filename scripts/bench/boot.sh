#!/usr/bin/env bash
# Time from starting the VM to verified (SSH up, checks run, powered off) for the demo's base image, booted by
# `arrow image verify` as the builder's deployment phase boots an artifact: with KVM where it works, and with TCG.
# Prints boot and total seconds per accelerator. On machines where /dev/kvm exists but KVM fails (imaging-engine.md
# §8), the KVM row says so and `auto` shows what the fallback costs.
# Needs root only for scripts/base-image.sh (loop devices).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh

require_swift
ensure_packages qemu-utils qemu-system-x86 genisoimage openssh-client python3
base=$(bash scripts/base-image.sh)

echo "building arrow (release)…"
swift build -c release --product arrow >/tmp/arrow-bench-boot.log 2>&1 || { tail -40 /tmp/arrow-bench-boot.log; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
work=$(mktemp -d /tmp/arrow-bench-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT

# verify ACCEL: one boot test; prints "accel boot total wall status".
verify() {
    local accel=$1 args=()
    [ "$accel" != auto ] && args=(--accel "$accel")
    local start end
    start=$(date +%s.%N)
    if "$bin" image verify --file "$base" "${args[@]}" --json >"$work/$accel.json" 2>"$work/$accel.log"; then :; fi
    end=$(date +%s.%N)
    python3 - "$accel" "$work/$accel.json" "$start" "$end" "$work/$accel.log" <<'PY'
import json, sys
accel, path, start, end, log = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
try:
    result = json.load(open(path))
    print(f"{accel:5} {result['accelerator']:4} boot {result['boot_seconds']:6.1f} s  verified {result['total_seconds']:6.1f} s  "
          f"wall {end - start:6.1f} s  {result['status']}")
except Exception:
    last = [line for line in open(log).read().splitlines() if not line.startswith("qemu: ")][-1:]
    print(f"{accel:5} did not boot ({end - start:.1f} s): {last[0] if last else 'no output'}")
PY
}

echo "boot tests of $(basename "$base") (2 vCPU, 1 GiB):"
[ -e /dev/kvm ] && verify kvm || echo "kvm   no /dev/kvm on this machine"
verify tcg
verify auto

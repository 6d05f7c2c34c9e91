#!/usr/bin/env bash
# The same customization of the same Debian base image (host name, install nmap and curl, write one file) by
# arrow's builder and by virt-customize (Debian libguestfs-tools, TCG: KVM does not work on these machines), in one
# run on this machine. Prints both wall times and the ratio, then arrow again with a warm builder cache, and the
# whole upload → artifact time. Target: arrow <= 0.25x virt-customize cold, lower warm.
#
# arrow's time is from the trigger to the task's `succeeded`: claim, configuration, base image download and
# checksum, conversion, customization, seal, compression to qcow2 and the artifact's upload, all of it.
# virt-customize's is its own run on a copy of the qcow2 (it writes in place and compresses nothing).
# Needs root. BENCH_SKIP_PEER=1 skips virt-customize (a few minutes under TCG).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh

require_swift
[ "$(id -u)" -eq 0 ] || { echo "build.sh needs root (loop devices, mounts)" >&2; exit 2; }
ensure_packages qemu-utils curl python3 bc
base=$(bash scripts/base-image.sh)
ansible=$(ensure_ansible)

echo "building arrow (release)…"
swift build -c release --product arrow >/tmp/arrow-bench-build.log 2>&1 || { tail -40 /tmp/arrow-bench-build.log; exit 1; }
bin="$(swift build -c release --show-bin-path)/arrow"
work=$(mktemp -d /tmp/arrow-bench-build.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

peer=""
if [ "${BENCH_SKIP_PEER:-0}" != "1" ]; then
    ensure_packages libguestfs-tools linux-image-cloud-amd64
    cp "$base" "$work/peer.qcow2"
    echo "virt-customize (TCG)…"
    start=$(date +%s.%N)
    LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg virt-customize -q -a "$work/peer.qcow2" \
        --hostname bench-peer --install nmap,curl --write /etc/arrow-bench:hello >"$work/peer.log" 2>&1 \
        || { tail -20 "$work/peer.log"; exit 1; }
    peer=$(echo "$(date +%s.%N) - $start" | bc -l)
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$("$bin" admin init --data-dir "$work/data" --email bench@arrow.local --password-stdin <<<"bench-password" | tail -n 1)
ARROW_ANSIBLE_PLAYBOOK="$ansible" "$bin" serve --data-dir "$work/data" --port "$port" --with-builder --roles-dir "$PWD/imaging/roles" \
    >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
export ARROW_API="http://127.0.0.1:$port" ARROW_TOKEN="$token"

options='{"deployment_target":"none","hostname":"bench-arrow","software":[{"name":"nmap"},{"name":"curl"}],"custom_scripts":["echo hello > /etc/arrow-bench"]}'
# One build: trigger → succeeded, in seconds (prints the artifact on stderr for the record).
build() {
    local image=$1 started task
    started=$(date +%s.%N)
    task=$("$bin" build trigger "$image" --vm-name bench --options "$options" | tail -n 1)
    "$bin" build show "$task" --watch >/dev/null || { "$bin" build logs "$task" --file summary >&2; exit 1; }
    echo "$(date +%s.%N) - $started" | bc -l
}

upload_start=$(date +%s.%N)
image=$("$bin" image upload "$base" --name bench-base | tail -n 1)
upload=$(echo "$(date +%s.%N) - $upload_start" | bc -l)
echo "arrow, cold (empty builder cache)…"
cold=$(build "$image")
echo "arrow, warm (base image and packages cached)…"
warm=$(build "$image")

echo
printf "%-44s %8s\n" "customization: hostname, nmap + curl, a file" "seconds"
[ -n "$peer" ] && printf "%-44s %8.1f\n" "virt-customize (TCG)" "$peer"
printf "%-44s %8.1f%s\n" "arrow builder, cold" "$cold" "$([ -n "$peer" ] && printf '   ratio %.2f× virt-customize' "$(echo "$cold / $peer" | bc -l)")"
printf "%-44s %8.1f%s\n" "arrow builder, warm" "$warm" "$([ -n "$peer" ] && printf '   ratio %.2f× virt-customize' "$(echo "$warm / $peer" | bc -l)")"
printf "%-44s %8.1f\n" "demo: upload → artifact (upload + cold build)" "$(echo "$upload + $cold" | bc -l)"
echo "target: arrow cold <= 0.25× virt-customize, warm lower ($(nproc) cores)"

#!/usr/bin/env bash
# Makes (or reuses) the test and demo base image: a small, bootable Debian bookworm disk (MBR, one ext4 partition
# labelled "root", linux-image-cloud-amd64, extlinux, openssh-server, cloud-init, python3, sudo), as compressed
# qcow2. The image is cached under ${ARROW_IMAGE_CACHE:-/var/cache/arrow-imaging}, keyed by this script's content,
# so later runs (and CI runs on the same machine) reuse it; apt's downloads are cached beside it.
#
#   scripts/base-image.sh            prints the path of the image, building it first when needed
#   scripts/base-image.sh --rebuild  builds it again
#
# Needs root (loop devices, mount). Takes about a minute with a warm package cache, a few without.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

[ "$(id -u)" -eq 0 ] || { echo "base-image.sh needs root: it attaches a loop device and mounts the new file system" >&2; exit 2; }
ensure_packages mmdebstrap extlinux syslinux-common qemu-utils fdisk e2fsprogs mount util-linux >&2

cache=${ARROW_IMAGE_CACHE:-/var/cache/arrow-imaging}
key=$(sha256sum "$0" | cut -c1-12)
image="$cache/debian-bookworm-base-$key.qcow2"
mkdir -p "$cache/apt"
if [ "${1:-}" != "--rebuild" ] && [ -s "$image" ] && qemu-img check -q "$image" 2>/dev/null; then
    echo "$image"
    exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
loop=""
cleanup() {
    mountpoint -q "$work/root" && umount -R "$work/root"
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

packages=linux-image-cloud-amd64,systemd-sysv,dbus,udev,openssh-server,cloud-init,python3,python3-cffi-backend,sudo,
packages+=netbase,iproute2,ifupdown,isc-dhcp-client,ca-certificates,less,procps,qemu-guest-agent
echo "bootstrapping Debian bookworm (minbase + $packages)…" >&2
# The package cache is kept between runs: a rebuild downloads nothing.
mmdebstrap --quiet --variant=minbase --include="$packages" \
    --skip=essential/unlink --aptopt='Acquire::Retries "3"' \
    --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" && cp -a $cache/apt/. \"\$1/var/cache/apt/archives/\" 2>/dev/null || true" \
    --customize-hook="cp -a \"\$1/var/cache/apt/archives/.\" $cache/apt/ 2>/dev/null; rm -f \"\$1\"/var/cache/apt/archives/*.deb" \
    bookworm "$work/rootfs.tar" >&2

truncate -s 2G "$work/disk.raw"
echo 'label: dos
start=2048, type=83, bootable' | sfdisk --quiet "$work/disk.raw"
loop=$(losetup --find --show --partscan "$work/disk.raw")
# The partition node appears a moment after the scan.
for _ in $(seq 1 50); do [ -b "${loop}p1" ] && break; sleep 0.1; done
[ -b "${loop}p1" ] || partx -a "$loop"
mkfs.ext4 -q -L root "${loop}p1"
mkdir -p "$work/root"
mount "${loop}p1" "$work/root"
tar -C "$work/root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$work/rootfs.tar"

cat >"$work/root/etc/fstab" <<'EOF'
LABEL=root  /  ext4  defaults,errors=remount-ro  0  1
EOF
echo debian-base >"$work/root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 debian-base\n::1 localhost ip6-localhost ip6-loopback\n' >"$work/root/etc/hosts"
# The first Ethernet interface by DHCP (ifupdown), whatever its name.
cat >"$work/root/etc/network/interfaces" <<'EOF'
source /etc/network/interfaces.d/*
auto lo
iface lo inet loopback
allow-hotplug ens3
iface ens3 inet dhcp
allow-hotplug eth0
iface eth0 inet dhcp
EOF
# cloud-init: NoCloud (a seed disk at deployment) or nothing; never wait for a metadata service. minbase has no
# `locales`, so cloud-init's locale module would fail and leave the system degraded: it is skipped (C.UTF-8 is built in).
cat >"$work/root/etc/cloud/cloud.cfg.d/90-arrow.cfg" <<'EOF'
datasource_list: [NoCloud, None]
locale: false
EOF
: >"$work/root/etc/machine-id"

kernel=$(basename "$(ls "$work"/root/boot/vmlinuz-* | sort -V | tail -n 1)")
initrd=$(basename "$(ls "$work"/root/boot/initrd.img-* | sort -V | tail -n 1)")
mkdir -p "$work/root/boot/extlinux"
cat >"$work/root/boot/extlinux/extlinux.conf" <<EOF
DEFAULT debian
TIMEOUT 1
LABEL debian
  KERNEL /boot/$kernel
  INITRD /boot/$initrd
  APPEND root=LABEL=root ro console=ttyS0,115200 net.ifnames=1
EOF
extlinux --install "$work/root/boot/extlinux" >/dev/null 2>&1
umount "$work/root"
dd if=/usr/lib/EXTLINUX/mbr.bin of="$loop" bs=440 count=1 conv=notrunc status=none
losetup -d "$loop"
loop=""

qemu-img convert -c -O qcow2 "$work/disk.raw" "$image.tmp"
mv "$image.tmp" "$image"
# Older images of earlier versions of this script are of no further use.
find "$cache" -maxdepth 1 -name 'debian-bookworm-base-*.qcow2' ! -name "$(basename "$image")" -delete
echo "$image"

#!/bin/sh
# Puts BUILD_DIR/dlite-agent as /init into an already built BUILD_DIR/os/initrd
# and updates manifest.json's hash: a changed agent without the ~3 min image
# build (make image does the same from scratch).  Run as root (the initrd
# holds /dev/console).  Usage: image/swap-agent.sh [BUILD_DIR]
set -eu
B=${1:-build}
OS=$B/os
[ -f "$OS/initrd" ] && [ -f "$OS/manifest.json" ] || { echo "swap-agent: no image in $OS: run make image" >&2; exit 1; }
[ -x "$B/dlite-agent" ] || { echo "swap-agent: $B/dlite-agent missing: run make" >&2; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
( cd "$W" && zstd -dc | cpio -idm --quiet ) < "$OS/initrd"
cp "$B/dlite-agent" "$W/init"
chmod 0755 "$W/init"
( cd "$W" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible ) |
	zstd -q -19 -T0 > "$OS/initrd.tmp"
mv "$OS/initrd.tmp" "$OS/initrd"
sum=$(sha256sum < "$OS/initrd" | cut -d' ' -f1)
jq --arg s "$sum" '.files.initrd = $s' "$OS/manifest.json" > "$OS/manifest.json.tmp"
mv "$OS/manifest.json.tmp" "$OS/manifest.json"
echo "swap-agent: $OS/initrd has $B/dlite-agent as /init"

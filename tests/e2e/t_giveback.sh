#!/bin/sh
# Giving back what the VM takes, and other architectures, on one VM:
# - arm64: a busybox image from Debian's busybox-static:arm64, imported
#   with --platform linux/arm64, prints aarch64 from `uname -m` (binfmt_misc
#   handlers with flag F); `dlite status` lists the platforms.
# - memory: after a 1.2 GiB burst in a container, QEMU's RSS comes back to
#   within 200 MiB of its level before the burst within 60 s (virtio-balloon
#   free page reporting).
# - disk: 1 GiB written to a volume and removed gives back >= 900 MiB of
#   disk.img's allocation within 120 s (the agent's FITRIM); `dlite status`
#   shows the disk's size, used and allocated bytes.
# - `dlite config set memory|cpus|disk` takes effect at the next start
#   (the disk grows, file system included, data kept); shrinking is refused.
. "$(dirname "$0")/lib.sh"
need_image
"$ROOT/tools/get-arm64-busybox" "$ROOT/build/deps" >/dev/null ||
	fail "no arm64 busybox (tools/get-arm64-busybox build/deps)"
MiB=1048576

dlite_up -d 4
import_busybox
js() { "$DLITE" status --json | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
alloc() { echo $(( $(stat -c '%b * %B' "$DLITE_HOME/disk.img") )); }
rss() { awk '$1 == "VmRSS:" { printf "%.0f\n", $2 * 1024 }' "/proc/$1/status"; }
mib() { echo $(( $1 / MiB )); }

# ---- status: disk and platforms
[ "$(js 'j["disk_size"]')" = $((4 << 30)) ] || fail "status disk_size: $(js 'j.get("disk_size")')"
used=$(js 'j.get("disk_used", -1)')
[ "$used" -gt 0 ] || fail "status has no disk_used from the guest"
[ "$(js 'j["disk_fs_size"] > 3 << 30')" = True ] || fail "status disk_fs_size: $(js 'j.get("disk_fs_size")')"
[ "$(js '",".join(j["platforms"])')" = "linux/amd64,linux/arm64,linux/arm/v7,linux/arm/v6,linux/riscv64" ] ||
	fail "status platforms: $(js 'j.get("platforms")')"
"$DLITE" status | grep -q '^disk .*used.*allocated on the host' || fail "status text has no disk line"
"$DLITE" status | grep -q '^platforms .*linux/arm64' || fail "status text has no platforms line"
ok "status: disk $(mib "$(js 'j["disk_size"]')") MiB, $(mib "$used") MiB used; platforms $(js '" ".join(j["platforms"])')"

# ---- other architectures
r="$T/bb64"
mkdir -p "$r/bin"
cp "$ROOT/build/deps/busybox-arm64" "$r/bin/busybox"
for c in sh uname; do ln -sf busybox "$r/bin/$c"; done
tar -C "$r" -c . | docker import --platform linux/arm64 -c 'CMD ["/bin/sh"]' - bb64 >/dev/null ||
	fail "docker import --platform linux/arm64"
[ "$(docker image inspect -f '{{.Architecture}}' bb64)" = arm64 ] || fail "bb64 is not an arm64 image"
m=$(docker run --rm --platform linux/arm64 bb64 uname -m) || fail "docker run --platform linux/arm64"
[ "$m" = aarch64 ] || fail "arm64 container says uname -m = $m"
ok "docker run --platform linux/arm64: uname -m = $m"

# ---- memory: a 1.2 GiB burst comes back
qpid=$(js 'j["pid"]')
burst='dd if=/dev/zero of=/m/x bs=1M count=$0 2>/dev/null && touch /m/done && sleep 600'
# the same path once, small: code translated for it is not part of the burst
docker run -d --name warm --tmpfs /m:size=1300m bb sh -c "$burst" 16 >/dev/null || fail "warm-up"
i=0; until docker exec warm test -e /m/done 2>/dev/null; do i=$((i + 1)); [ $i -lt 120 ] || fail "warm-up"; sleep 0.5; done
docker rm -f warm >/dev/null
sleep 5
before=$(rss "$qpid")
docker run -d --name burst --tmpfs /m:size=1300m bb sh -c "$burst" 1200 >/dev/null || fail "burst"
i=0; until docker exec burst test -e /m/done 2>/dev/null; do i=$((i + 1)); [ $i -lt 240 ] || fail "burst never done"; sleep 0.5; done
peak=$(rss "$qpid")
[ $((peak - before)) -ge $((900 * MiB)) ] || fail "the burst did not show in QEMU's RSS ($(mib "$before") -> $(mib "$peak") MiB)"
docker rm -f burst >/dev/null
t0=$(date +%s)
while now=$(rss "$qpid"); [ "$now" -gt $((before + 200 * MiB)) ]; do
	[ $(( $(date +%s) - t0 )) -lt 60 ] || fail "QEMU RSS $(mib "$now") MiB 60 s after the burst (before $(mib "$before"), peak $(mib "$peak"))"
	sleep 1
done
ok "memory: QEMU RSS $(mib "$before") MiB -> burst $(mib "$peak") -> $(mib "$now") MiB after $(( $(date +%s) - t0 )) s"

# ---- disk: 1 GiB written to a volume and removed comes back
a0=$(alloc)
docker volume create big >/dev/null || fail "volume create"
# random data (zeros would become holes through detect-zeroes), 1 MiB x 1024
docker run --rm -v big:/v bb sh -c 'head -c 1048576 /dev/urandom > /tmp/r && i=0 &&
	while [ $i -lt 1024 ]; do cat /tmp/r; i=$((i + 1)); done > /v/f && sync' || fail "writing 1 GiB"
a1=$(alloc)
[ $((a1 - a0)) -ge $((900 * MiB)) ] || fail "1 GiB written but disk.img grew by $(mib $((a1 - a0))) MiB only"
docker volume rm big >/dev/null || fail "volume rm"
t0=$(date +%s)
while a2=$(alloc); [ $((a1 - a2)) -lt $((900 * MiB)) ]; do
	[ $(( $(date +%s) - t0 )) -lt 120 ] || fail "disk.img gave back $(mib $((a1 - a2))) MiB of 1 GiB in 120 s"
	sleep 2
done
ok "disk: allocation $(mib "$a0") -> $(mib "$a1") -> $(mib "$a2") MiB, $(( $(date +%s) - t0 )) s after the volume went"

# ---- resources at the next start
"$DLITE" config set disk 2 >"$T/err" 2>&1 && fail "shrinking the disk was accepted"
grep -q "can't shrink" "$T/err" || fail "shrink message: $(cat "$T/err")"
"$DLITE" config set memory 3 >/dev/null && "$DLITE" config set cpus 1 >/dev/null &&
	"$DLITE" config set disk 6 >/dev/null || fail "config set"
[ "$(js 'j["disk_size"]')" = $((4 << 30)) ] || fail "the disk changed before the next start"
"$DLITE" restart >/dev/null || fail "restart"
qpid=$(js 'j["pid"]')
tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- '-smp 1 -m 3072M' || fail "QEMU not started with 1 CPU, 3 GiB: $(tr '\0' ' ' <"/proc/$qpid/cmdline")"
[ "$(docker info -f '{{.NCPU}}')" = 1 ] || fail "docker info NCPU $(docker info -f '{{.NCPU}}')"
[ "$(docker info -f '{{.MemTotal}}')" -gt $((2560 * MiB)) ] || fail "docker info MemTotal $(docker info -f '{{.MemTotal}}')"
[ "$(js 'j["disk_size"]')" = $((6 << 30)) ] || fail "disk.img not grown: $(js 'j.get("disk_size")')"
[ "$(js 'j["disk_fs_size"] > 5 << 30')" = True ] || fail "file system not grown: $(js 'j.get("disk_fs_size")')"
docker image inspect bb >/dev/null 2>&1 || fail "the data disk lost the bb image when it grew"
ok "next start: 1 CPU, 3 GiB, disk 6 GiB with a $(mib "$(js 'j["disk_fs_size"]')") MiB file system, data kept"

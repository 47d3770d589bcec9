#!/bin/sh
# The 9p share keeps every file (issue 10; bench/README.md, "the 9p file
# loss"). bench/share's 9p sequence, scaled down, under two CPU hogs beside
# the VM, in one --privileged container with the share at /s: a SEQ_MIB
# (256) sequential write (random data, conv=fsync), a read after the guest's
# caches are dropped, its removal; a marker the host deleted while the guest
# had it cached, written again by the guest; then an untar of FILES (1000)
# files into the share and sync. Counts the files on the host AND in the
# guest against the tarball's list, checks the marker and that docker exec
# returned only after the untar; checks the agent's channel connections
# carry a TCP keepalive (the cause, below); prints what it measured.
. "$(dirname "$0")/lib.sh"
FILES=${FILES:-1000}
SEQ_MIB=${SEQ_MIB:-256}
export DLITE_VIRTIOFSD=none
need_image

python3 - "$T/src/tree" "$FILES" <<'PY' || fail "make the tree"
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
random.seed(4)
for i in range(n):
    d = "%s/d%03d/e%02d" % (root, i // 1000, (i // 50) % 20)
    if i % 50 == 0:
        os.makedirs(d)
    with open("%s/f%02d.txt" % (d, i % 50), "wb") as f:
        f.write(os.urandom(random.randint(0, 8192)))
PY
tar -C "$T/src" -cf "$T/src/tree.tar" tree && rm -rf "$T/src/tree" || fail "tar"
tar -tf "$T/src/tree.tar" | grep -v '/$' | sed 's|^tree/||' | sort >"$T/want"
[ "$(wc -l <"$T/want")" = "$FILES" ] || fail "the tarball holds $(wc -l <"$T/want") files, not $FILES"

dlite_up
grep -q "share: $T over 9p" "$DLITE_HOME/daemon.log" || fail "the share is not over 9p"
import_busybox

# The channel's TCP connections carry a keepalive: QEMU's user networking
# (libslirp) closes a connection the host has half-closed (docker exec and
# attach streams) after 600-675 s without a segment from the guest, and
# `docker exec` then exits 0 for a command still running: session 3's
# "lost" files were an untar still under way when counted. The proxy's
# pooled channels are idle: each must show a timer in the VM's
# /proc/net/tcp (2 = keepalive; 1 = a retransmit pending), none "00".
if grep -q 'channel tcp:' "$DLITE_HOME/daemon.log"; then
	docker run --rm --net host bb cat /proc/net/tcp >"$T/tcp" || fail "read the VM's /proc/net/tcp"
	set -- $(awk '$2 ~ /:1423$/ && $4 == "01" { n++; split($6, t, ":"); if (t[1] == "02") k++; if (t[1] == "00") z++ }
		END { printf "%d %d %d", n, k, z }' "$T/tcp")
	echo "9p keep: $1 established channel connections in the VM, $2 with a keepalive timer, $3 with none"
	[ "$1" -gt 0 ] || fail "no established channel connection (port 5155) in the VM's /proc/net/tcp"
	[ "$3" = 0 ] && [ "$2" -gt 0 ] || fail "$3 of $1 channel connections have no keepalive timer"
else
	echo "9p keep: the channel is not over TCP (vsock): no slirp idle timer to outlast"
fi

mkdir -p "$T/s"
docker run -d --privileged --name keep -v "$T/s":/s -v "$T/src":/src:ro \
	--tmpfs /in:size=128m bb sleep 100000 >/dev/null || fail "docker run"
docker exec keep cp /src/tree.tar /in/ || fail "copy the tarball into the container"

hogs=""
stop_hogs() { [ -z "$hogs" ] || kill $hogs 2>/dev/null; hogs=""; }
trap 'stop_hogs; cleanup' EXIT
for i in 1 2; do nice -n 0 sh -c 'while :; do :; done' & hogs="$hogs $!"; done
start=$(date +%s)
drop='sync && echo 3 > /proc/sys/vm/drop_caches'
docker exec keep sh -c "dd if=/dev/urandom of=/in/rand bs=1M count=64 2>/dev/null && touch /s/mark && i=0 &&
	while [ \$i -lt $((SEQ_MIB / 64)) ]; do
		dd if=/in/rand of=/s/f bs=1M seek=\$((i * 64)) conv=notrunc,fsync 2>/dev/null || exit 1; i=\$((i + 1))
	done && rm /in/rand && $drop && dd if=/s/f of=/dev/null bs=1M 2>/dev/null && rm /s/f" ||
	fail "sequential write, read and removal of $SEQ_MIB MiB on the share"
[ ! -e "$T/s/f" ] || fail "the removed file is still on the host"
rm "$T/s/mark"
docker exec keep sh -c "$drop; touch /s/mark && tar -xf /in/tree.tar -C /s && sync && touch /s/done" ||
	fail "untar into the share"
secs=$(( $(date +%s) - start ))
stop_hogs
# docker exec exits 0 for a command still running when its stream ends early
[ -e "$T/s/done" ] || fail "docker exec returned before the untar had finished"
[ -e "$T/s/mark" ] || fail "the marker written again by the guest vanished from the host"

(cd "$T/s/tree" && find . -type f | sed 's|^\./||' | sort) >"$T/host"
docker exec keep sh -c 'cd /s/tree && find . -type f' | sed 's|^\./||' | sort >"$T/guest"
h=$(wc -l <"$T/host"); g=$(wc -l <"$T/guest")
echo "9p keep: $SEQ_MIB MiB written, read, removed, then $FILES files untarred, ${secs}s under 2 CPU hogs (load $(cut -d' ' -f1 /proc/loadavg)); host has $h, guest sees $g"
[ "$h" = "$FILES" ] || fail "the host has $h of $FILES files; missing: $(comm -23 "$T/want" "$T/host" | head -n 5 | tr '\n' ' ')"
[ "$g" = "$FILES" ] || fail "the guest sees $g of $FILES files; missing: $(comm -23 "$T/want" "$T/guest" | head -n 5 | tr '\n' ' ')"
ok "9p share kept all $FILES files (host and guest)"

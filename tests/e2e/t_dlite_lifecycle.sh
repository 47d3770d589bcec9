#!/bin/sh
# stop -> start keeps volumes; update keeps volumes; the guest clock is put
# right after the host (daemon and VM) was stopped for 30 s; the socket answers 503 at once while the VM
# is down; uninstall leaves the hosts file byte-identical.
. "$(dirname "$0")/lib.sh"
cp "$DLITE_SYSROOT/etc/hosts" "$T/hosts.before"
dlite_up
import_busybox
docker volume create keep >/dev/null
docker run --rm -v keep:/data bb sh -c 'echo precious > /data/file' || fail "write volume"

guest_offset() { # guest clock minus host clock, in seconds
	a=$(date +%s.%N)
	g=$(echo gettime | "$DLITE" chan control | sed -n 's/^ok //p')
	b=$(date +%s.%N)
	[ -n "$g" ] || fail "no guest time"
	echo "$a $g $b" | awk '{ printf "%.3f\n", $2 - ($1 + $3) / 2 }'
}
abs_lt() { echo "$1 $2" | awk '{ x = $1 < 0 ? -$1 : $1; exit !(x < $2) }'; }

# the host "suspended" for 30 s: the daemon and the VM stopped together
# (the daemon checks the guest clock only every minute, and at once when
# its own check runs late or the host's suspended time grows)
vm_pid=$("$DLITE" status --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -n1)
d_pid=$("$DLITE" status --json | sed -n 's/.*"daemon_pid": *\([0-9]*\).*/\1/p')
[ -n "$vm_pid" ] && [ -n "$d_pid" ] || fail "no pids in status"
off=$(guest_offset); echo "offset before the pause: $off s"
kill -STOP "$d_pid" "$vm_pid"
sleep 30
kill -CONT "$vm_pid" "$d_pid"
sleep 4
off=$(guest_offset); echo "offset 4 s after a 30 s pause: $off s"
abs_lt "$off" 0.1 || fail "guest clock is off by $off s after the pause"
ok "clock within 100 ms after a 30 s pause"

# stop, then the socket answers 503 with a message, at once
"$DLITE" stop || fail "stop"
start=$(date +%s.%N)
out=$(docker version 2>&1) && fail "docker version worked with the VM stopped"
took=$(echo "$start $(date +%s.%N)" | awk '{ print $2 - $1 }')
echo "$out" | grep -q "dlite start" || fail "no 'run dlite start' hint: $out"
echo "$took" | awk '{ exit !($1 < 5) }' || fail "docker took ${took}s to fail with the VM down"
ok "503 with a hint in ${took}s while stopped"
"$DLITE" status | grep -q stopped || fail "status after stop"

"$DLITE" start || fail "start again"
[ "$(docker run --rm -v keep:/data bb cat /data/file)" = precious ] || fail "volume lost across stop/start"
ok "volume kept across stop/start"

# the events watch follows the new VM: a port published now is forwarded,
# and dropped again when its container goes
P=$((20000 + $$ % 20000))
docker run -d --name web -p "127.0.0.1:$P:80" bb httpd -f -p 80 >/dev/null || fail "docker run -p"
i=0; until "$DLITE" status --json | grep -q "\"host_port\": *$P"; do
	i=$((i + 1)); [ $i -le 60 ] || fail "port $P not forwarded after stop/start"; sleep 0.5
done
docker rm -f web >/dev/null
i=0; while "$DLITE" status --json | grep -q "\"host_port\": *$P"; do
	i=$((i + 1)); [ $i -le 60 ] || fail "port $P still forwarded after docker rm"; sleep 0.5
done
ok "published port followed after stop/start"

# update (to the same image, from a copy) keeps the data disk
"$DLITE" update --os "$OS" 2>&1 | grep -q "running" || fail "update while running was not refused"
"$DLITE" stop >/dev/null || fail "stop"
disk_before=$(stat -c %i "$DLITE_HOME/disk.img")
"$DLITE" update --os "$OS" || fail "update"
[ -f "$DLITE_HOME/os/previous/manifest.json" ] || fail "update kept no previous image"
[ "$(stat -c %i "$DLITE_HOME/disk.img")" = "$disk_before" ] || fail "update replaced the data disk"
"$DLITE" start >/dev/null || fail "start after update"
[ "$(docker run --rm -v keep:/data bb cat /data/file)" = precious ] || fail "volume lost across update"
ok "volume kept across update"
"$DLITE" stop >/dev/null || fail "stop"
"$DLITE" update --rollback || fail "rollback"

# the disk is sparse: far less allocated than its size
alloc=$(du -k "$DLITE_HOME/disk.img" | cut -f1)
[ "$alloc" -lt 2000000 ] || fail "disk.img is not sparse ($alloc KiB allocated)"
ok "sparse disk: $alloc KiB allocated of 8 GiB"

"$DLITE" uninstall --yes || fail "uninstall"
cmp "$T/hosts.before" "$DLITE_SYSROOT/etc/hosts" || fail "hosts file differs after uninstall"
ok "hosts file byte-identical after uninstall"

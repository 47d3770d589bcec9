#!/bin/sh
# A daemon crash does not touch the VM: kill -9 of the daemon while a
# container writes, then `dlite start` adopts the running VM; the same
# container is still running (same StartedAt) and its data is intact.
. "$(dirname "$0")/lib.sh"
dlite_up
import_busybox
docker run -d --name writer -v wdata:/data bb sh -c \
	'i=0; while :; do i=$((i + 1)); echo $i >> /data/log; sync; sleep 0.1; done' >/dev/null ||
	fail "docker run writer"
started=$(docker inspect -f '{{.State.StartedAt}}' writer) || fail "inspect"
lines() { docker exec writer sh -c 'wc -l < /data/log' 2>/dev/null || echo 0; }
i=0; until [ "$(lines)" -ge 10 ]; do
	i=$((i + 1)); [ $i -le 60 ] || fail "the writer does not write"; sleep 0.5
done

st=$("$DLITE" status --json)
d_pid=$(echo "$st" | sed -n 's/.*"daemon_pid": *\([0-9]*\).*/\1/p')
vm_pid=$(echo "$st" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -n1)
[ -n "$d_pid" ] && [ -n "$vm_pid" ] || fail "no pids in status"
kill -9 "$d_pid"
i=0; while kill -0 "$d_pid" 2>/dev/null; do
	i=$((i + 1)); [ $i -le 50 ] || fail "daemon still there after kill -9"; sleep 0.1
done
sleep 2 # the VM must outlive the daemon, not just its last breath
kill -0 "$vm_pid" 2>/dev/null || fail "the VM (pid $vm_pid) died with the daemon"
ok "the VM outlived kill -9 of the daemon"

t0=$(date +%s.%N)
"$DLITE" start || fail "dlite start after the crash"
echo "dlite start after the crash took $(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }') s"
st=$("$DLITE" status --json)
echo "$st" | grep -q '"adopted": *true' || fail "the VM was not adopted: $st"
[ "$(echo "$st" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -n1)" = "$vm_pid" ] ||
	fail "a new VM was booted"
[ "$(docker inspect -f '{{.State.Running}} {{.State.StartedAt}}' writer)" = "true $started" ] ||
	fail "the writer was restarted or stopped: $(docker inspect -f '{{.State.Status}} {{.State.StartedAt}}' writer), was $started"
ok "same VM, same container (started $started)"

# its data: every line 1..N, in order, nothing lost, and still growing
n1=$(lines)
sleep 2
n2=$(lines)
[ "$n2" -gt "$n1" ] || fail "the writer stopped writing ($n1 -> $n2 lines)"
docker exec writer sh -c 'i=0; while read l; do i=$((i + 1)); [ "$l" = "$i" ] || { echo "line $i is $l"; exit 1; }; done < /data/log; echo "$i lines in order"' ||
	fail "the writer's data has a gap"
ok "data intact ($n2 lines)"

# and the daemon works as before: a new container; after another crash,
# `dlite stop` alone adopts the VM (an idle daemon) and stops it cleanly
[ "$(docker run --rm bb echo hi)" = hi ] || fail "docker run after the adoption"
d_pid=$("$DLITE" status --json | sed -n 's/.*"daemon_pid": *\([0-9]*\).*/\1/p')
kill -9 "$d_pid"
i=0; while kill -0 "$d_pid" 2>/dev/null; do
	i=$((i + 1)); [ $i -le 50 ] || fail "daemon still there after kill -9"; sleep 0.1
done
"$DLITE" stop || fail "stop the VM a crashed daemon left"
i=0; while kill -0 "$vm_pid" 2>/dev/null; do
	i=$((i + 1)); [ $i -le 100 ] || fail "the adopted VM is still running after stop"; sleep 0.2
done
ok "the adopted VM stops cleanly"

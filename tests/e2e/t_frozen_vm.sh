#!/bin/sh
# A frozen VM (QEMU stopped with SIGSTOP) does not stall the daemon:
# `dlite status` answers in < 0.3 s (median of 5), a request on docker.sock
# gets a 503 "VM not responding" within 2 s instead of hanging, and after
# SIGCONT docker works again.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "no curl"
dlite_up
import_busybox
docker run --rm bb true || fail "docker run before the freeze"

vm_pid=$("$DLITE" status --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -n1)
[ -n "$vm_pid" ] || fail "no VM pid in status"
now() { date +%s.%N; }
since() { echo "$1 $(now)" | awk '{ printf "%.3f", $2 - $1 }'; }

kill -STOP "$vm_pid"
trap 'kill -CONT "$vm_pid" 2>/dev/null; cleanup' EXIT
sleep 1.5 # older than the proxy's "answered lately" window

times=""
for i in 1 2 3 4 5; do
	t0=$(now)
	timeout 10 "$DLITE" status >/dev/null || fail "dlite status failed with the VM frozen"
	times="$times $(since "$t0")"
done
median=$(echo $times | tr ' ' '\n' | sort -n | sed -n 3p)
echo "dlite status with the VM frozen:$times s (median $median s)"
echo "$median" | awk '{ exit !($1 < 0.3) }' || fail "dlite status took $median s (median) with the VM frozen"
ok "status answers in $median s (median of 5) with the VM frozen"

t0=$(now)
code=$(curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' --max-time 10 \
	--unix-socket "$DLITE_HOME/docker.sock" http://d/_ping)
took=$(since "$t0")
echo "docker.sock with the VM frozen: HTTP $code in $took s: $(cat "$T/body")"
[ "$code" = 503 ] || fail "docker.sock answered $code (not 503) with the VM frozen"
grep -qi "X-Dlite-Reason: VM not responding" "$T/head" || fail "no 'VM not responding' reason: $(cat "$T/head")"
echo "$took" | awk '{ exit !($1 < 2) }' || fail "the 503 took $took s"
ok "503 VM not responding in $took s"

kill -CONT "$vm_pid"
t0=$(now)
i=0; until docker version >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -le 60 ] || fail "docker does not answer after SIGCONT"; sleep 0.5
done
[ "$(docker run --rm bb echo back)" = back ] || fail "docker run after SIGCONT"
"$DLITE" status | grep -q running || fail "status after SIGCONT"
ok "docker works again $(since "$t0") s after SIGCONT"

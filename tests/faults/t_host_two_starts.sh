#!/bin/sh
# Two `dlite start` at once: one daemon and one VM; one command starts it,
# the other says it joined a start under way (or that dlite already runs);
# both end with docker answering.
. "$(dirname "$0")/host-lib.sh"
need_image
command -v docker >/dev/null || skip "no docker CLI"
"$DLITE" install --os "$OS" -d 8 -m 2 -c 2 -S "$T" --yes >/dev/null || fail "install"
vm_lock
t0=$(date +%s)
"$DLITE" start >"$T/a.out" 2>&1 & a=$!
"$DLITE" start >"$T/b.out" 2>&1 & b=$!
wait $a; ra=$?
wait $b; rb=$?
took=$(( $(date +%s) - t0 ))
cat "$T/a.out" "$T/b.out"
won=$(cat "$T/a.out" "$T/b.out" | grep -c "^dlite: started in")
joined=$(cat "$T/a.out" "$T/b.out" | grep -c "already being started\|already running")
[ "$won" = 1 ] || fail "$won commands say they started the VM"
[ "$joined" = 1 ] || fail "the other command does not say the VM was already being started"
[ $ra = 0 ] || [ $rb = 0 ] || fail "both starts failed"
docker version --format '{{.Server.Version}}' >/dev/null || fail "docker does not answer"
vms=$(grep -c "vm: started" "$DLITE_HOME/daemon.log")
[ "$vms" = 1 ] || fail "$vms VMs were started"
daemons=0
for p in $(pgrep -x dlite); do
	tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "DLITE_HOME=$DLITE_HOME" &&
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline")" = "dlite daemon " ] && daemons=$((daemons + 1))
done
[ "$daemons" = 1 ] || fail "$daemons daemons run for $DLITE_HOME"
# a third start while it runs says so
out=$("$DLITE" start 2>&1) && echo "third start: $out"
printf '%s\n' "$out" | grep -q "already running" || fail "third start: $out"
"$DLITE" stop >/dev/null || fail "stop"
echo "measured: 2 concurrent starts -> 1 daemon, 1 VM, 1 'started', 1 'already being started'; docker answered after ${took} s"

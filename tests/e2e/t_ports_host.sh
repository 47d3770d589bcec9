#!/bin/sh
# Published ports through the real data path, without a VM:
#   client -> relay-harness (src/daemon ports+relay) -> dlite-agent --serve
#   (host mode) -> 127.0.0.1:GUEST_PORT (bench/loadgen serve, TCP and UDP).
# Checks: TCP forward on 127.0.0.1 and ::1 (bytes checked, half-close), UDP
# echo through the framed channel, a taken port reported as failed while
# the other forwards carry on, removal closes the listener, re-adding works;
# with the container's address known (caps=addr) the agent connects there
# and not to the published port; without the capability (an older agent)
# it falls back to the published port; caps per port evict the connection
# or association idle the longest.
# DLITE_TEST_AGENT=PROG runs PROG instead of build/dlite-agent (same args).
. "$(dirname "$0")/hostlib.sh"

T=$(mktemp -d /tmp/dlite-ports.XXXXXX)
PIDS=""
cleanup() {
	exec 3>&- 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# seven ports free for both TCP and UDP on 127.0.0.1 and ::1 right now
set -- $(python3 -c '
import socket
out = []
while len(out) < 7:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    try:
        for fam, typ, a in ((socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1"),
                            (socket.AF_INET6, socket.SOCK_STREAM, "::1"),
                            (socket.AF_INET6, socket.SOCK_DGRAM, "::1")):
            try:
                socket.socket(fam, typ).bind((a, p))
            except OSError as e:
                if e.errno not in (97, 99):  # no IPv6 here is fine
                    raise
        if p not in out: out.append(p)
    except OSError:
        pass
print(" ".join(map(str, out)))')
[ $# -eq 7 ] || fail "cannot find free ports"
AP=$1   # agent channel
GT=$2   # "guest" TCP service (loadgen serve --tcp)
GU=$3   # "guest" UDP echo
HT=$4   # host TCP forward
HU=$5   # host UDP forward
HX=$6   # a host port someone else holds
HT2=$7  # a second TCP forward, added later

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/token"
"$L" serve --tcp $GT --udp $GU > "$T/backend.log" 2>&1 &
PIDS="$PIDS $!"
# the taken port: a plain listener on 127.0.0.1:$HX
python3 -c "
import socket,time,sys
s=socket.socket(); s.bind(('127.0.0.1',int(sys.argv[1]))); s.listen(1); time.sleep(60)" $HX &
HOLDER=$!
PIDS="$PIDS $HOLDER"
i=0
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',int(sys.argv[1])),1)" $HX 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "port holder did not start"; sleep 0.1
done

cp "$T/token" "$T/agent.token"
"$AGENT" --serve --listen 127.0.0.1:$AP --token-file "$T/agent.token" > "$T/agent.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until "$H" --chan tcp:127.0.0.1:$AP --token-file "$T/token" --control ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "the agent host mode does not answer"; sleep 0.1
done

mkfifo "$T/ctl"
exec 3<> "$T/ctl"
"$H" --chan tcp:127.0.0.1:$AP --token-file "$T/token" < "$T/ctl" > "$T/h.out" 2> "$T/h.err" &
PIDS="$PIDS $!"
i=0; until grep -q ready "$T/h.out"; do i=$((i+1)); [ $i -lt 50 ] || fail "harness"; sleep 0.1; done

# cmd LINE: send a command, wait for its answer (a new line in h.out)
cmd() {
	before=$(wc -l < "$T/h.out")
	echo "$1" >&3
	i=0
	while [ "$(wc -l < "$T/h.out")" -le "$before" ]; do
		i=$((i + 1)); [ $i -lt 50 ] || fail "no answer to '$1'"; sleep 0.05
	done
	sleep 0.1
}
status() {
	cmd status
	i=0; until tail -n1 "$T/h.out" | grep -q '^end'; do i=$((i+1)); [ $i -lt 50 ] || fail status; sleep 0.05; done
	awk '/^port /{l[NR]=$0} /^end/{s=""; for(k in l) s=s l[k] "\n"; delete l} END{printf "%s", s}' "$T/h.out"
}

sleep 0.3
cmd "ports tcp:$HT:$GT udp:$HU:$GU tcp:$HX:$GT"
grep -q "ok failed=1" "$T/h.out" || { cat "$T/h.out"; fail "want exactly one failed mapping"; }
ST=$(status)
echo "$ST"
echo "$ST" | grep -q "^port tcp \* $HX $GT failed .*in use" || fail "taken port $HX not reported as failed/in use"
echo "$ST" | grep -q "^port tcp \* $HT $GT ok" || fail "tcp $HT not ok"
echo "$ST" | grep -q "^port udp \* $HU $GU ok" || fail "udp $HU not ok"
grep -q "port $HX" "$T/h.err" || fail "no log line for the taken port"
[ "$(grep -c "port $HX" "$T/h.err")" = 1 ] || fail "more than one log line for the taken port"
ok "taken port reported: $(grep "port $HX" "$T/h.err")"

out=$("$L" rr --tcp $HT --n 300) || fail "tcp forward (fresh connections): $out"
ok "tcp 127.0.0.1:$HT -> guest $GT, 300 fresh connections: $out"
out=$("$L" rr --tcp $HT --n 1000 --keepalive) || fail "tcp forward keep-alive: $out"
ok "tcp keep-alive: $out"
out=$("$L" echo --tcp $HT --bytes 20000000) || fail "tcp echo: $out"
ok "tcp 20 MB both ways, checked, half-close kept: $out"
if python3 -c "import socket; s=socket.socket(socket.AF_INET6); s.bind(('::1',0))" 2>/dev/null; then
	r=$(curl -s --max-time 5 "http://[::1]:$HT/_ping") || true
	[ "$r" = OK ] || fail "tcp forward on ::1: got '$r'"
	ok "tcp forward on [::1]:$HT"
else
	echo "note: no IPv6 loopback here; [::1] not checked"
fi
# never on a non-loopback address
if ss -ltn 2>/dev/null | awk '{print $4}' | grep -E ":$HT\$" | grep -vqE '^(127\.|\[::1\])'; then
	fail "a listener on a non-loopback address"
fi
ok "listeners only on loopback: $(ss -ltn | awk '{print $4}' | grep -E ":$HT\$" | tr '\n' ' ')"

out=$("$L" udp --udp $HU --n 300) || fail "udp echo: $out"
ok "udp 127.0.0.1:$HU -> guest $GU: $out"

# reconcile: drop the tcp forward and the taken one, add another
cmd "ports udp:$HU:$GU tcp:$HT2:$GT"
if "$L" rr --tcp $HT --n 1 >/dev/null 2>&1; then fail "tcp $HT still forwarded after removal"; fi
ok "removed mapping: listener closed"
out=$("$L" rr --tcp $HT2 --n 50) || fail "added mapping: $out"
out=$("$L" udp --udp $HU --n 50) || fail "udp after reconcile: $out"
ok "added mapping works, kept mapping still works"
ST=$(status)
echo "$ST" | grep -q " $HX " && fail "removed mapping still in status"

# the port frees up: setting it again retries and succeeds
kill $HOLDER; wait $HOLDER 2>/dev/null
sleep 0.2
cmd "ports udp:$HU:$GU tcp:$HT2:$GT tcp:$HX:$GT"
ST=$(status)
if echo "$ST" | grep -q "^port tcp \* $HX $GT ok"; then
	"$L" rr --tcp $HX --n 20 >/dev/null || fail "retried mapping does not forward"
	ok "a freed port is taken on the next reconcile"
else
	fail "a freed port is not retried: $ST"
fi

cmd "ports"
ST=$(status)
[ -z "$ST" ] || fail "mappings left after an empty set: $ST"
ok "empty set closes everything"

# Caps (port_max_conns, port_max_udp): 4 TCP connections and 3 UDP
# associations per port; beyond, the one idle longest is closed and a
# newcomer is served.
cc -O2 -o "$T/flood" tests/e2e/flood.c || fail "build flood"
open_of() { status | awk -v pr="$1" -v p="$2" '$2 == pr && $4 == p { for (i = 1; i <= NF; i++) if ($i ~ /^open=/) print substr($i, 6) }'; }
cmd "caps 4 3"
cmd "ports tcp:$HT:$GT udp:$HU:$GU"
"$T/flood" tcp 127.0.0.1 $HT 12 4 > "$T/fl.out" 2>/dev/null &
FLP=$!
i=0; until [ "$(open_of tcp $HT)" = 4 ]; do i=$((i + 1)); [ $i -lt 50 ] || fail "tcp cap: $(open_of tcp $HT) open"; sleep 0.1; done
sleep 0.5 # a window in which the count must not grow past the cap (the check is that nothing happens)
[ "$(open_of tcp $HT)" = 4 ] || fail "tcp cap: $(open_of tcp $HT) open, want 4"
out=$("$L" rr --tcp $HT --n 5) || fail "a newcomer beyond the tcp cap: $out"
wait $FLP
grep -q "drops=[1-9]" "$T/fl.out" || fail "no silent connection was closed: $(cat "$T/fl.out")"
grep -q "port_max_conns); closed the one idle longest" "$T/h.err" || fail "no log line for the tcp cap"
ok "tcp cap 4: 12 silent connections, 4 kept, the newest served ($(cat "$T/fl.out"))"
"$T/flood" udp 127.0.0.1 $HU 10 >/dev/null || fail "udp flood"
i=0; until [ "$(open_of udp $HU)" = 3 ]; do i=$((i + 1)); [ $i -lt 50 ] || fail "udp cap: $(open_of udp $HU) open"; sleep 0.1; done
out=$("$L" udp --udp $HU --n 20) || fail "a newcomer beyond the udp cap: $out"
[ "$(open_of udp $HU)" -le 3 ] || fail "udp cap: $(open_of udp $HU) open"
[ "$(grep -c "closed the one idle longest" "$T/h.err")" -le 3 ] || fail "cap warnings not rate-limited"
ok "udp cap 3: 10 source ports, 3 kept, the newest served: $out"
cmd "caps 1024 256"
cmd "ports"

# Straight to the container: the agent says caps=addr, so a mapping that
# knows its container's address goes there. Nothing listens on the published
# port $HX any more, so only the direct target can answer.
status >/dev/null
grep -q '^caps addr=1$' "$T/h.out" || fail "the harness did not learn caps=addr from the agent"
"$H" --chan tcp:127.0.0.1:$AP --token-file "$T/token" --control status | grep -q ' caps=addr' ||
	fail "agent status has no caps=addr"
cmd "ports tcp:$HT:$HX@127.0.0.1/$GT udp:$HU:$HX@127.0.0.1/$GU"
grep -q "ok failed=0" "$T/h.out" || fail "direct mappings"
out=$("$L" rr --tcp $HT --n 100) || fail "tcp to the container's address: $out"
out=$("$L" echo --tcp $HT --bytes 2000000) || fail "tcp echo to the container's address: $out"
out=$("$L" udp --udp $HU --n 100) || fail "udp to the container's address: $out"
ok "tcp and udp go to the container's address, not the published port: $out"
if python3 -c "import socket; s=socket.socket(socket.AF_INET6); s.bind(('::1',0))" 2>/dev/null; then
	# a one-line server on [::1]:$HX (loadgen serves IPv4 only)
	python3 -c "
import socket,sys
s=socket.socket(socket.AF_INET6); s.bind(('::1',int(sys.argv[1]))); s.listen(1)
c,_=s.accept(); c.sendall(b'v6 container'); c.close()" $HX &
V6=$!
PIDS="$PIDS $V6"
sleep 0.3
	cmd "ports tcp:$HT:$GT@::1/$HX"
r=$(python3 -c "import socket,sys; c=socket.create_connection(('127.0.0.1',int(sys.argv[1])),5); print(c.recv(100).decode())" $HT) || true
[ "$r" = "v6 container" ] || { tail -5 "$T/h.out"; fail "tcp to an IPv6 container address: got '$r'"; }
ok "tcp to an IPv6 container address ([::1]:$HX)"
wait $V6
fi
# a restarted container (new address/port) is picked up by the kept forward
cmd "ports tcp:$HT:$HX@127.0.0.1/$HX"
if "$L" rr --tcp $HT --n 1 >/dev/null 2>&1; then fail "kept forward still uses the old container port"; fi
cmd "ports tcp:$HT:$HX@127.0.0.1/$GT"
"$L" rr --tcp $HT --n 20 >/dev/null || fail "kept forward did not take the new container port"
ok "a kept forward follows its container's new address"
cmd "ports"

# An agent without the capability (older image): the published port is used
# even when the container's address is known.
mkfifo "$T/ctl2"
exec 4<> "$T/ctl2"
"$H" --chan tcp:127.0.0.1:$AP --token-file "$T/token" --no-caps \
	--port "tcp:$HT2:$GT@127.0.0.1/$HX" < "$T/ctl2" > "$T/h2.out" 2> "$T/h2.err" &
PIDS="$PIDS $!"
i=0; until grep -q ready "$T/h2.out"; do i=$((i+1)); [ $i -lt 50 ] || fail "harness 2"; sleep 0.1; done
out=$("$L" rr --tcp $HT2 --n 20) || fail "fallback to the published port: $out"
ok "without caps=addr the published port is used: $out"
exec 4>&-
echo PASS

#!/bin/sh
# The docker.sock proxy through the real data path, without a VM:
#   client -> relay-harness (src/daemon proxy+relay) -> dlite-agent --serve
#   (host mode) -> a local backend (bench/loadgen serve) on a unix socket.
# Checks: socket mode 0660; a second instance refuses a live socket; 50 MB
# of pseudo-random bytes both ways at once (every byte checked) with the
# splice path and the portable buffer path; half-close; HTTP keep-alive;
# 2000 concurrent connections; the channel pool (emptied while down,
# refilled, no fd leak); 503 + message when the VM is down and when
# the agent is gone, `docker version` failing fast with the message.
# DLITE_TEST_AGENT=PROG runs PROG instead of build/dlite-agent (same args).
. "$(dirname "$0")/hostlib.sh"
# 2000 connections: the agent holds up to 6 fds for each (2 sockets, 2 pipes)
[ "$(ulimit -n)" -ge 16384 ] 2>/dev/null || ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

T=$(mktemp -d /tmp/dlite-proxy.XXXXXX)
PIDS=""
cleanup() {
	exec 3>&- 4>&- 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

AP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/token"
echo >> "$T/token"

"$L" serve --unix "$T/back.sock" > "$T/backend.log" 2>&1 &
PIDS="$PIDS $!"

start_agent() {
	cp "$T/token" "$T/agent.token"
	"$AGENT" --serve --listen 127.0.0.1:$AP --token-file "$T/agent.token" \
		--docker-sock "$T/back.sock" >> "$T/agent.log" 2>&1 &
	AGENT_PID=$!
	PIDS="$PIDS $AGENT_PID"
	i=0
	until "$H" --chan tcp:127.0.0.1:$AP --token-file "$T/token" --control ping >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$T/agent.log"; fail "the agent host mode does not answer ping"; }
		sleep 0.1
	done
}
start_agent
ok "agent host mode answers ping (dl_chan_control)"

# $1: name, rest: harness args; stdin of the harness is fifo $T/$1.ctl if
# it exists (opened read-write by the caller first), else /dev/null
start_harness() {
	name=$1; shift
	in=/dev/null
	[ -p "$T/$name.ctl" ] && in=$T/$name.ctl
	"$H" --chan tcp:127.0.0.1:$AP --token-file "$T/token" "$@" \
		< "$in" > "$T/$name.out" 2> "$T/$name.err" &
	HPID=$!
	PIDS="$PIDS $HPID"
	i=0
	until grep -q ready "$T/$name.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || { cat "$T/$name.err"; fail "harness $name did not start"; }
		sleep 0.1
	done
}

S=$T/docker.sock
mkfifo "$T/h.ctl"
exec 3<> "$T/h.ctl"
start_harness h --sock "$S"
MAIN_PID=$HPID

# --- socket file
mode=$(stat -c %a "$S")
[ "$mode" = 660 ] || fail "socket mode is $mode, want 660"
[ "$(stat -c %u "$S")" = "$(id -u)" ] || fail "socket not owned by the user"
ok "socket mode 0660, owned by the user"

# a second proxy on the same live socket must refuse, and leave it alone
if "$H" --chan tcp:127.0.0.1:$AP --token-file "$T/token" --sock "$S" </dev/null >"$T/second.out" 2>&1; then
	fail "a second proxy took a live socket"
fi
grep -q "another process" "$T/second.out" || { cat "$T/second.out"; fail "no clear error for a live socket"; }
[ -S "$S" ] || fail "the second proxy removed the live socket"
ok "a live socket is refused: $(cat "$T/second.out")"

# a stale socket file (nobody listening) is replaced
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/stale.sock"
if [ -S "$T/stale.sock" ]; then
	start_harness stale --sock "$T/stale.sock"
	"$L" rr --unix "$T/stale.sock" --n 10 >/dev/null || fail "proxy on a replaced stale socket does not work"
	kill $HPID
	ok "a stale socket file is replaced"
fi

# --- byte transparency + half-close, splice path
out=$("$L" echo --unix "$S" --bytes 50000000) || fail "echo 50 MB through the proxy: $out"
ok "50 MB both ways at once, every byte checked, half-close kept: $out"
out=$("$L" up --unix "$S" --bytes 50000000) || fail "upload: $out"
ok "upload then half-close, reply read after: $out"
out=$("$L" down --unix "$S" --bytes 50000000) || fail "download: $out"
ok "download to EOF: $out"
# half-close with a plain client: send, shut down writing, still get the reply
r=$(printf 'SINK\nhello, world' | socat -t 5 - UNIX-CONNECT:"$S")
[ "$r" = "OK 12" ] || fail "half-close: got '$r', want 'OK 12'"
ok "half-close with socat: the backend saw EOF and its reply came back"

# --- the portable buffer path (what macOS uses)
start_harness nosplice --sock "$T/ns.sock" --no-splice
out=$("$L" echo --unix "$T/ns.sock" --bytes 50000000) || fail "echo without splice: $out"
ok "no-splice path: $out"
kill $HPID

# --- HTTP request/response, fresh and kept-alive connections
out=$("$L" rr --unix "$S" --n 500) || fail "fresh connections: $out"
ok "500 requests on fresh connections: $out"
out=$("$L" rr --unix "$S" --n 2000 --keepalive) || fail "keep-alive: $out"
ok "2000 requests on one connection: $out"

# --- 2000 concurrent connections
out=$("$L" conc --unix "$S" --n 2000) || fail "2000 concurrent connections: $out"
ok "2000 concurrent connections: $out"
i=0
while :; do
	echo stats >&3; sleep 0.2
	grep stats "$T/h.out" | tail -n1 | grep -q "active=0 " && break
	i=$((i + 1))
	[ $i -lt 50 ] || { tail -n1 "$T/h.out"; fail "connections left open 10 s after the clients closed"; }
done
ok "all closed afterwards: $(grep stats "$T/h.out" | tail -n1)"

# --- VM down: 503 at once, with the message
MSG='dlite: the VM is not running; run `dlite start`'
check_503() {
	start=$(date +%s%N)
	resp=$(curl -sS -i --max-time 5 --unix-socket "$S" http://docker/v1.45/version) || fail "curl: no answer ($1)"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	printf '%s' "$resp" | head -n1 | grep -q "^HTTP/1.1 503" || fail "not a 503 ($1): $resp"
	printf '%s' "$resp" | grep -qi "^content-type: application/json" || fail "no JSON content type ($1)"
	printf '%s' "$resp" | grep -qF "{\"message\":\"$MSG\"}" || fail "no message ($1): $resp"
	[ $ms -lt 1500 ] || fail "503 took $ms ms ($1)"
	ok "503 with the message in $ms ms ($1)"
}
echo "down the VM is stopped" >&3
sleep 0.2
check_503 "VM down"
# a POST with a body: the answer must still arrive (read head, lingering close)
head -c 200000 /dev/zero > "$T/body"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$S" -X POST \
	--data-binary @"$T/body" http://docker/v1.45/build) || true
[ "$code" = 503 ] || fail "POST with a body while down: got '$code'"
ok "POST with a 200 kB body while down gets the 503"
if command -v docker >/dev/null 2>&1; then
	start=$(date +%s%N)
	DOCKER_HOST=unix://$S DOCKER_CONTEXT= timeout 20 docker version > "$T/dv.out" 2>&1
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ $rc -ne 0 ] || fail "docker version exited 0 while the VM is down"
	[ $rc -ne 124 ] || fail "docker version hung"
	grep -qF "$MSG" "$T/dv.out" || { cat "$T/dv.out"; fail "docker version does not show the message"; }
	[ $ms -lt 5000 ] || fail "docker version took $ms ms"
	ok "docker version: exit $rc in $ms ms: $(grep -F "$MSG" "$T/dv.out" | head -n1)"
else
	echo "FAIL: no docker CLI (tools/deps installs it)"; exit 1
fi
echo up >&3
sleep 0.2
"$L" rr --unix "$S" --n 10 >/dev/null || fail "no service after up"
ok "back up"

# --- the channel pool: emptied while down, full again when up, no fd leak
stat_of() { echo stats >&3; sleep 0.2; grep stats "$T/h.out" | tail -n1 | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
pool_full() { # wait until the pool is full again and nothing is open
	i=0
	until [ "$(stat_of pooled)" = 16 ] && [ "$(stat_of active)" = 0 ]; do
		i=$((i + 1)); [ $i -lt 60 ] || fail "channel pool not refilled: $(tail -n1 "$T/h.out")"
	done
}
pool_full
fds0=$(ls /proc/$MAIN_PID/fd | wc -l)
for cycle in 1 2 3; do
	echo "down cycle $cycle" >&3
	[ "$(stat_of pooled)" = 0 ] || fail "pooled channels kept while down"
	echo up >&3
	"$L" rr --unix "$S" --n 40 >/dev/null || fail "no service after up (cycle $cycle)"
done
pool_full
fds1=$(ls /proc/$MAIN_PID/fd | wc -l)
[ "$fds0" = "$fds1" ] || fail "fd leak across down/up cycles: $fds0 -> $fds1"
ok "channel pool: closed while down, refilled when up, $fds1 fds before and after"

# --- the agent goes away: 503 too (channel open fails), never a hang
kill $AGENT_PID; wait $AGENT_PID 2>/dev/null
check_503 "agent gone"
start_agent
"$L" rr --unix "$S" --n 10 >/dev/null || fail "no service after the agent came back"
pool_full
ok "service back with the agent; its channel pool refilled"

# --- wrong token: 503, not a hang
bad=$T/bad.token
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$bad"
rm -f "$T/h.ctl2"; mkfifo "$T/h.ctl2"
exec 4<> "$T/h.ctl2"
"$H" --chan tcp:127.0.0.1:$AP --token-file "$bad" --sock "$T/bad.sock" < "$T/h.ctl2" > "$T/bad.out" 2>&1 &
PIDS="$PIDS $!"
i=0; until [ -S "$T/bad.sock" ]; do i=$((i+1)); [ $i -lt 50 ] || fail "bad-token harness"; sleep 0.1; done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$T/bad.sock" http://docker/_ping)
[ "$code" = 503 ] || fail "wrong token: got '$code', want 503"
ok "wrong token: 503"

# the harness is still healthy and removes its socket on exit
kill -TERM $MAIN_PID; wait $MAIN_PID 2>/dev/null
[ ! -e "$S" ] || fail "socket left behind after a clean exit"
ok "socket removed on exit"
echo "PASS"

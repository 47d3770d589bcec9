#!/bin/sh
# dlite-agent in host mode (--serve / --connect): the channel protocol
# without a VM. Needs socat and python3 (test helpers only).
set -u
cd "$(dirname "$0")/../.." || exit 1
A=$PWD/build/dlite-agent
[ -x "$A" ] || make -s build/dlite-agent >/dev/null || { echo "cannot build dlite-agent"; exit 1; }
for t in socat python3 timeout; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done

D=$(mktemp -d /tmp/t_agent_host.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# free TCP ports from the kernel
PORTS=$(python3 -c '
import socket
ss = [socket.socket() for _ in range(5)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
set -- $PORTS
AP=$1 EP=$2 UP=$3 BP=$4 FP=$5

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$D/token"; echo >> "$D/token"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$D/wrong"; echo >> "$D/wrong"

python3 "$(dirname "$0")/fakedocker.py" "$D/docker.sock" & PIDS="$PIDS $!"
# the machine may be busy: wait for helpers to be ready, never sleep-and-hope
waitfor() { n=0; while [ ! -e "$1" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done; }
waitfor "$D/docker.sock.ready"

"$A" --serve --listen 127.0.0.1:$AP --token-file "$D/token" --docker-sock "$D/docker.sock" \
	2> "$D/agent.log" & AGENT=$!
PIDS="$PIDS $AGENT"
for i in $(seq 300); do
	grep -q serving "$D/agent.log" 2>/dev/null && break; sleep 0.1
done

c() { timeout 20 "$A" --connect 127.0.0.1:$AP --token-file "$D/token" "$@"; }

# raw.py TOKENFILE TARGET MODE: speaks the header by hand.
#   good: header, print the reply hex; wrongtoken; truncated; garbage;
#   slow: 10 bytes then wait to be closed, print milliseconds
cat > "$D/raw.py" <<'EOF'
import socket, struct, sys, time
port, tokfile, target, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tok = bytes.fromhex(open(tokfile).read().strip())
hdr = b"DLT1" + struct.pack(">HH", 1, 0) + tok + target.encode().ljust(64, b"\0")
assert len(hdr) == 104
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(15)
if mode == "wrongtoken":
    s.sendall(hdr[:8] + bytes(32) + hdr[40:])
elif mode == "badmagic":
    s.sendall(b"XLT1" + hdr[4:])
elif mode == "badtarget":
    s.sendall(hdr[:40] + b"tcp:0".ljust(64, b"\0"))
elif mode == "truncated":
    s.sendall(hdr[:50]); s.shutdown(socket.SHUT_WR)
elif mode == "garbage":
    s.sendall(bytes(range(256)) * 40); s.shutdown(socket.SHUT_WR)
elif mode == "slow":
    s.sendall(hdr[:10]); t = time.time()
    try:
        d = s.recv(100)
    except socket.timeout:
        d = b"timeout"
    print("%d %r" % ((time.time() - t) * 1000, d)); sys.exit(0)
elif mode == "pipelined":  # header and request in one write
    s.sendall(hdr + b"ping\n"); s.shutdown(socket.SHUT_WR)
else:
    s.sendall(hdr)
out = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        out += d
except ConnectionResetError:
    pass
print(out.hex() if mode != "pipelined" else out[8:].decode().strip(), end="")
EOF
raw() { timeout 20 python3 "$D/raw.py" $AP "$@"; }

# 1. right token: control ping
[ "$(echo ping | c control)" = "ok pong" ] && ok "control ping" || bad "control ping"
r=$(printf 'ping\nstatus\nnonsense\n' | c control)
echo "$r" | sed -n 2p | grep -q '^ok uptime=[0-9]* dockerd=down dockerd_restarts=0 data=unknown' &&
	echo "$r" | sed -n 3p | grep -q '^err ' && ok "control: several requests, status, unknown" ||
	bad "control several: $r"
[ "$(printf ping | c control)" = "ok pong" ] && ok "control: last line without newline" || bad "no-newline line"
[ "$(raw "$D/token" control pipelined)" = "ok pong" ] && ok "bytes right behind the header are relayed" ||
	bad "pipelined header+request"
[ "$(echo ready | c control)" = "ok ready" ] && ok "control ready (fake dockerd)" || bad "control ready"

# 2. wrong token, bad magic, bad target: closed without a reply
r=$(echo ping | timeout 20 "$A" --connect 127.0.0.1:$AP --token-file "$D/wrong" control 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(echo "$r" | wc -l)" -eq 1 ] && echo "$r" | grep -q refused &&
	ok "wrong token: exit 1, one-line error" || bad "wrong token client: rc=$rc $r"
for m in wrongtoken badmagic badtarget; do
	r=$(raw "$D/token" control $m)
	[ -z "$r" ] && ok "$m: closed with no reply" || bad "$m: got reply '$r'"
done

# 3. truncated header, garbage, a slow header: no crash, no hang
for m in truncated garbage; do
	r=$(raw "$D/token" control $m)
	[ -z "$r" ] && ok "$m header: closed" || bad "$m: '$r'"
done
raw "$D/token" control slow > "$D/slow.out" &
SLOW=$!
sleep 0.5
t0=$(date +%s%N)
[ "$(echo ping | c control)" = "ok pong" ] && ok "a slow header does not block others" || bad "blocked by slow header"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 4000 ] || bad "ping took $(( (t1 - t0) / 1000000 )) ms behind a slow header"
wait $SLOW
r=$(cat "$D/slow.out")
ms=${r%% *}
case $r in *" b''") [ "$ms" -ge 700 ] && [ "$ms" -le 3000 ] && ok "slow header closed after ~1 s ($r)" || bad "slow header: $r" ;;
*) bad "slow header: $r" ;; esac

# 4. tcp relay with half-close: the server answers only after our EOF
socat TCP-LISTEN:$EP,bind=127.0.0.1,reuseaddr,fork SYSTEM:'cat | tr a-z A-Z' 2>/dev/null & PIDS="$PIDS $!"
n=0; until socat -u OPEN:/dev/null TCP:127.0.0.1:$EP 2>/dev/null || [ $n -gt 300 ]; do sleep 0.1; n=$((n + 1)); done
[ "$(printf data | c tcp:$EP)" = "DATA" ] && ok "tcp relay with half-close" || bad "tcp half-close"
head -c 8000000 /dev/urandom > "$D/big"
tr a-z A-Z < "$D/big" > "$D/big.want"
c tcp:$EP < "$D/big" > "$D/big.got"
cmp -s "$D/big.want" "$D/big.got" && ok "tcp relay: 8 MB both ways" || bad "tcp relay: 8 MB differ"
r=$(c tcp:$BP </dev/null 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$r" | grep -q "unavailable: Connection refused" &&
	ok "tcp: closed port -> UNAVAILABLE (ECONNREFUSED)" || bad "closed port: rc=$rc $r"

# 5. docker target (HTTP to the fake dockerd)
r=$(printf 'GET /v1.43/version HTTP/1.0\r\n\r\n' | c docker | tail -n1)
[ "$r" = "path=/v1.43/version" ] && ok "docker target" || bad "docker target: $r"

# 6. udp: 2-byte big-endian framing both ways
cat > "$D/udpecho.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
while True:
    d, a = s.recvfrom(65535); s.sendto(d.upper(), a)
EOF
python3 "$D/udpecho.py" $UP "$D/udp.ready" & PIDS="$PIDS $!"
waitfor "$D/udp.ready"
r=$(printf '\000\005hello\000\002hi\000\000' | c udp:$UP | od -An -c | tr -s ' ')
[ "$r" = " \0 005 H E L L O \0 002 H I \0 \0" ] && ok "udp framing both ways" || bad "udp: '$r'"

# 7. many connections at once
i=0; : > "$D/many"
while [ $i -lt 40 ]; do (echo ping | c control >> "$D/many") & i=$((i + 1)); done
wait_n=0; while [ "$(wc -l < "$D/many")" -lt 40 ] && [ $wait_n -lt 100 ]; do sleep 0.1; wait_n=$((wait_n + 1)); done
[ "$(grep -c 'ok pong' "$D/many")" -eq 40 ] && ok "40 concurrent connections" || bad "concurrent: $(wc -l < "$D/many")"

# 8. out of file descriptors: no busy loop, and it recovers
( ulimit -n 20; exec "$A" --serve --listen 127.0.0.1:$FP --token-file "$D/token" 2> "$D/agent2.log" ) &
A2=$!; PIDS="$PIDS $A2"
for i in $(seq 300); do grep -q serving "$D/agent2.log" 2>/dev/null && break; sleep 0.1; done
cpu() { awk '{ print $14 + $15 }' /proc/$A2/stat; }
c0=$(cpu)
timeout 20 python3 -c '
import socket, sys, time
ss = []
for i in range(40):
    try:
        ss.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    except OSError:
        pass
time.sleep(2)' $FP
c1=$(cpu)
[ $((c1 - c0)) -lt 100 ] && ok "EMFILE: no busy loop ($((c1 - c0)) ticks in 2 s)" || bad "EMFILE: $((c1 - c0)) ticks in 2 s"
[ "$(echo ping | timeout 20 "$A" --connect 127.0.0.1:$FP --token-file "$D/token" control)" = "ok pong" ] &&
	ok "EMFILE: serves again afterwards" || bad "EMFILE: no recovery"
kill $A2

# 9. still alive, no token in the log, poweroff ends host mode
kill -0 $AGENT 2>/dev/null && ok "agent alive after all that" || bad "agent died"
grep -qi "$(cut -c1-16 "$D/token")" "$D/agent.log" && bad "token in the log" || ok "token never logged"
gone() { n=0; while kill -0 $1 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done; ! kill -0 $1 2>/dev/null; }
[ "$(echo poweroff | c control)" = "ok" ] && gone $AGENT &&
	ok "poweroff ends host mode" || bad "poweroff in host mode"
echo "--- agent log"; cat "$D/agent.log"
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"

#!/bin/sh
# The hyperkit channel kind without a Mac: the real dlite-agent --serve
# behind a stand-in for hyperkit's RUN/vsock/connect socket, which (as
# hyperkit's pci_virtio_sock.c does) reads exactly the 18-byte
# "%08x.%08x\n" preamble, refuses another CID or port by closing, and then
# relays the stream to the agent.  The daemon's data path (relay-harness:
# docker.sock proxy, control requests) runs over `hyperkit:PATH:3:5155`.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=build
make -s -j2 $B/dlite-agent $B/tests/relay-harness >/dev/null || { echo "cannot build"; exit 1; }
for t in python3 curl timeout; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done
D=$(mktemp -d /tmp/t_hyperkit_chan.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
waitfor() { n=0; while [ ! -e "$1" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done; }

AP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$D/token"; echo >> "$D/token"

cat > "$D/fakehyperkit.py" <<'PY'
import os, socket, sys, threading
path, agent_port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(16)
open(path + ".ready", "w").close()
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
def serve(c):
    pre = c.recv(18)  # hyperkit: one read of exactly 18 bytes
    with open(log, "a") as f: f.write(repr(pre) + "\n")
    if len(pre) != 18 or pre != b"%08x.%08x\n" % (3, 5155):
        c.close(); return
    g = socket.create_connection(("127.0.0.1", agent_port))
    threading.Thread(target=pipe, args=(c, g), daemon=True).start()
    pipe(g, c)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$(dirname "$0")/fakedocker.py" "$D/docker.sock" & PIDS="$PIDS $!"
mkdir -p "$D/vsock"
python3 "$D/fakehyperkit.py" "$D/vsock/connect" $AP "$D/preambles" & PIDS="$PIDS $!"
waitfor "$D/docker.sock.ready"; waitfor "$D/vsock/connect.ready"
$B/dlite-agent --serve --listen 127.0.0.1:$AP --token-file "$D/token" --docker-sock "$D/docker.sock" \
	2> "$D/agent.log" & PIDS="$PIDS $!"
for i in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$AP))" 2>/dev/null && break; sleep 0.1; done

CHAN="hyperkit:$D/vsock/connect:3:5155"
r=$(timeout 20 $B/tests/relay-harness --chan "$CHAN" --token-file "$D/token" --control ping 2>&1)
case $r in *pong*) ok "control ping over $CHAN" ;; *) bad "control ping: $r" ;; esac
grep -q "b'00000003.00001423\\\\n'" "$D/preambles" && ok "preamble 00000003.00001423" || bad "preamble: $(cat "$D/preambles")"

r=$(timeout 20 $B/tests/relay-harness --chan "hyperkit:$D/vsock/connect:4:5155" --token-file "$D/token" --control ping 2>&1)
case $r in *pong*) bad "CID 4 was served" ;; *) ok "CID 4 refused: $r" ;; esac

mkfifo "$D/in"
timeout 60 $B/tests/relay-harness --chan "$CHAN" --token-file "$D/token" --sock "$D/proxy.sock" \
	< "$D/in" > "$D/harness.out" 2>&1 & PIDS="$PIDS $!"
exec 3> "$D/in"
n=0; while ! grep -q ready "$D/harness.out" && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
echo up >&3
r=$(curl -s --max-time 10 --unix-socket "$D/proxy.sock" http://d/_ping)
[ "$r" = OK ] && ok "docker.sock proxy over the hyperkit channel" || bad "proxy _ping: '$r' ($(cat "$D/harness.out"))"
echo quit >&3
exec 3>&-
[ $fails -eq 0 ]

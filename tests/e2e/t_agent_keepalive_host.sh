#!/bin/sh
# dlite-agent (host mode, no VM) turns on TCP keepalive on every channel
# connection it accepts: QEMU's user networking closes a connection the host
# half-closed (docker exec/attach streams) after ~675 s without a segment
# from the guest, and `docker exec` then exits 0 for a command still running
# (bench/README.md, the 9p count). Reads the accepted socket's timer in
# /proc/net/tcp: 2 (keepalive) due in 55-60 s, not 0 (none). Prints it.
set -u
cd "$(dirname "$0")/../.." || exit 1
A=${DLITE_AGENT:-$PWD/build/dlite-agent}
[ -x "$A" ] || make -s build/dlite-agent >/dev/null || { echo "cannot build dlite-agent"; exit 1; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }
[ -r /proc/net/tcp ] || { echo "skip: no /proc/net/tcp"; exit 77; }

D=$(mktemp -d /tmp/t_agent_keepalive.XXXXXX)
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT INT TERM
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/token"; echo >>"$D/token"
"$A" --serve --listen "127.0.0.1:$P" --token-file "$D/token" 2>"$D/agent.log" &
pid=$!
# connect (no header yet: the agent has accepted it) and read the agent's
# side of it: local port P, state 01 (established)
out=$(python3 - "$P" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        break
    except OSError:
        if time.time() > deadline:
            print("connect failed"); sys.exit(0)
        time.sleep(0.05)
want = ":%04X" % port
while time.time() < deadline:
    for l in open("/proc/net/tcp").read().splitlines()[1:]:
        f = l.split()
        if f[1].endswith(want) and f[3] == "01":
            tr, when = f[5].split(":")
            print(tr, int(when, 16) / 100.0); sys.exit(0)
    time.sleep(0.05)
print("no accepted connection")
PY
)
set -- $out
echo "agent's accepted channel connection: timer $1, due in ${2:-?} s"
[ "$1" = 02 ] || { echo "FAIL: no keepalive timer on the agent's accepted connection ($out)"; exit 1; }
awk -v t="$2" 'BEGIN { exit !(t > 30 && t <= 60) }' ||
	{ echo "FAIL: keepalive due in $2 s, not within the 60 s idle time"; exit 1; }
echo "ok: the agent keeps its channel connections alive"

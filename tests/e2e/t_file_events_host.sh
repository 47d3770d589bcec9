#!/bin/sh
# The agent's "fsevents" target in host mode (no VM; DLITE_AGENT_SHARE plays
# the share): a host file announced gets IN_OPEN, IN_MODIFY, IN_CLOSE_WRITE
# from a watcher's view, its bytes and mtime (to the nanosecond) unchanged;
# symlinks, a symlinked folder, a FIFO, a folder, a missing file and bad
# paths get nothing; the reply says what the host will see.  Then the
# daemon's side (fswatch-harness: src/daemon/fswatch.c) watches the same
# folder and drives that agent: 10,000 writes to one file arrive as a few
# merged touches, and the agent's own open/mtime never come back as edits
# (no echo: the events stop, the mtime stays).
set -u
cd "$(dirname "$0")/../.." || exit 1
A=$PWD/build/dlite-agent
[ -x "$A" ] || make -s build/dlite-agent >/dev/null || { echo "cannot build dlite-agent"; exit 1; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }
D=$(mktemp -d /tmp/t_fsev_host.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

cc -O2 -o "$D/inwatch" tests/e2e/inwatch.c || fail "build inwatch"
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/token"
S=$D/share
mkdir -p "$S/sub" "$D/outside"
echo hello >"$S/f"
echo g >"$S/sub/g"
echo secret >"$D/outside/x"
ln -s "$D/outside/x" "$S/link"
ln -s "$D/outside" "$S/linkdir"
mkfifo "$S/fifo"
before_f=$(stat -c '%y %s' "$S/f") before_x=$(stat -c '%y %z' "$D/outside/x")

DLITE_AGENT_SHARE=$S "$A" --serve --listen 127.0.0.1:$P --token-file "$D/token" 2>"$D/agent.log" &
PIDS="$PIDS $!"
"$D/inwatch" "$S" "$S/sub" "$D/outside" >"$D/w.log" 2>&1 &
PIDS="$PIDS $!"
n=0
until grep -q '^ready$' "$D/w.log" && grep -q serving "$D/agent.log"; do
	n=$((n + 1)); [ $n -lt 300 ] || fail "agent or watcher did not start: $(cat "$D/agent.log")"
	sleep 0.1
done
printf 'm f\nc sub/g\nm link\nm linkdir/x\nm fifo\nt sub\nd gone\nm ../outside/x\nm /etc/passwd\nm a%%00b\nm f\n' |
	timeout 20 "$A" --connect 127.0.0.1:$P --token-file "$D/token" fsevents >"$D/replies" ||
	fail "fsevents connection: $(cat "$D/replies")"
[ "$(tr '\n' ' ' <"$D/replies")" = "ok mw ok mw ok - ok - ok - ok - ok - err bad request err bad request err bad request ok mw " ] ||
	fail "replies: $(tr '\n' ' ' <"$D/replies")"
ok "replies: a file mw, links/FIFO/folder/missing -, bad paths refused"
n=0
until [ "$(grep -c " $S MODIFY f\$" "$D/w.log")" = 2 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "no MODIFY f twice: $(cat "$D/w.log")"
	sleep 0.1
done
for e in OPEN MODIFY CLOSE_WRITE; do
	grep -q " $S $e f\$" "$D/w.log" || fail "no $e for f: $(cat "$D/w.log")"
	grep -q " $S/sub $e g\$" "$D/w.log" || fail "no $e for sub/g: $(cat "$D/w.log")"
done
ok "f and sub/g: OPEN, MODIFY, CLOSE_WRITE"
grep -E " (CREATE|DELETE|MOVED_FROM|MOVED_TO|ATTRIB) " "$D/w.log" && fail "unexpected event types"
grep -E "outside|fifo|link" "$D/w.log" && fail "events outside the share or on a link/FIFO"
[ "$(stat -c '%y %s' "$S/f")" = "$before_f" ] || fail "f's mtime or size changed: $(stat -c '%y %s' "$S/f") (was $before_f)"
[ "$(cat "$S/f")" = hello ] || fail "f's bytes changed"
[ "$(stat -c '%y %z' "$D/outside/x")" = "$before_x" ] || fail "a file outside the share was touched"
ok "bytes and mtime unchanged, nothing outside the share touched"

# ---- as a 9p share: folders held open by the connection's child ----
P2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DLITE_AGENT_SHARE=$S DLITE_AGENT_SHAREFS=9p "$A" --serve --listen 127.0.0.1:$P2 \
	--token-file "$D/token" 2>"$D/agent9p.log" &
A9=$!
PIDS="$PIDS $A9"
n=0
until grep -q serving "$D/agent9p.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "9p agent did not start"
	sleep 0.1
done
(printf 'c sub\nm sub/g\n'; sleep 3) | "$A" --connect 127.0.0.1:$P2 --token-file "$D/token" fsevents >"$D/r9p" &
C9=$!
n=0
until [ "$(wc -l <"$D/r9p")" -ge 2 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "no 9p replies: $(cat "$D/r9p")"
	sleep 0.1
done
[ "$(tr '\n' ' ' <"$D/r9p")" = "ok - ok mw " ] || fail "9p replies: $(cat "$D/r9p")"
held=$(for c in $(pgrep -P $A9); do ls -l /proc/$c/fd; done | grep -c -- "-> $S/sub\$")
[ "$held" = 1 ] || fail "the 9p child does not hold sub open ($held)"
wait $C9
ok "9p: a folder announced is held open by the connection's child"

# ---- with the daemon's side ----
H=${FSWATCH_HARNESS:-$PWD/build/tests/fswatch-harness}
# make knows the target by its relative name (a fresh checkout has none built)
[ -n "${FSWATCH_HARNESS:-}" ] || make -s build/tests/fswatch-harness >/dev/null || fail "cannot build $H"
: >"$S/burst"
"$H" --chan tcp:127.0.0.1:$P --token-file "$D/token" --root "$S" 2>"$D/h.log" &
PIDS="$PIDS $!"
n=0
until grep -q "file events: host edits of $S" "$D/h.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "harness did not start: $(cat "$D/h.log")"
	sleep 0.1
done
# settle: the harness walks the folder; wait until nothing new comes
quiet() {
	end=$(($(date +%s) + 60)) prev=-1 same=0
	while [ $same -lt 20 ]; do
		c=$(wc -l <"$D/w.log")
		if [ "$c" = "$prev" ]; then same=$((same + 1)); else same=0; fi
		prev=$c
		[ "$(date +%s)" -lt "$end" ] || fail "events keep coming (echo?): $(tail -n 5 "$D/w.log")"
		sleep 0.1
	done
}
quiet
base=$(grep -c " $S OPEN burst\$" "$D/w.log")
python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for i in range(10000):
    os.write(fd, b"%d\n" % i)
os.close(fd)' "$S/burst" || fail "burst writer"
m1=$(stat -c %y "$S/burst")
quiet
touches=$(($(grep -c " $S OPEN burst\$" "$D/w.log") - base - 1))
[ "$touches" -ge 1 ] || fail "no touch after the burst: $(grep burst "$D/w.log" | tail -n 5)"
[ "$touches" -lt 1000 ] || fail "$touches touches for one burst: not merged"
[ "$(tail -n1 "$D/w.log" | cut -d' ' -f3-)" = "CLOSE_WRITE burst" ] ||
	fail "the last event is not the agent's close: $(tail -n 3 "$D/w.log")"
[ "$(stat -c %y "$S/burst")" = "$m1" ] || fail "the burst file's mtime changed"
[ "$(wc -l <"$S/burst")" = 10000 ] || fail "the burst file changed"
grep -q warn "$D/h.log" && fail "harness warnings: $(cat "$D/h.log")"
ok "10,000 writes -> $touches merged touches, then quiet (no echo), mtime kept"
exit 0

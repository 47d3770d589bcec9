# Shared by the host-mode data-path tests (t_proxy_host, t_ports_host): the
# relay harness, the load generator and dlite-agent's host mode, no VM.
# DLITE_TEST_AGENT=PROG runs PROG instead of build/dlite-agent (same args).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=build
T=
skip() { echo "$*"; exit 77; }
fail() {
	echo "FAIL: $*"
	for f in "$T"/h.err "$T"/agent.log; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }
	done
	exit 1
}
ok() { echo "ok: $*"; }

[ "$(uname -s)" = Linux ] || skip "skipped: Linux only (the backend uses epoll)"
make -s -j2 $B/tests/relay-harness $B/bench/loadgen >/dev/null || fail "cannot build the harness"
AGENT=${DLITE_TEST_AGENT:-$B/dlite-agent}
if [ -z "${DLITE_TEST_AGENT:-}" ]; then
	make -s $B/dlite-agent >/dev/null 2>&1
	[ -x "$AGENT" ] || { echo "FAIL: build/dlite-agent did not build"; exit 1; }
	"$AGENT" --help 2>&1 | grep -q -- --serve || { echo "FAIL: dlite-agent has no --serve host mode"; exit 1; }
fi
H=$PWD/$B/tests/relay-harness
L=$PWD/$B/bench/loadgen

# Shared by the end-to-end tests that drive the real `dlite` binary.
# Every test gets its own DLITE_HOME and DLITE_SYSROOT (a scratch /etc/hosts,
# /var/run and unit folder), so nothing on the machine is touched.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DLITE="${DLITE_BIN:-$ROOT/build/dlite}"
OS="${DLITE_TEST_OS:-$ROOT/build/os}"
T=$(mktemp -d /tmp/dlite-e2e.XXXXXX)
export DLITE_HOME="$T/h"
export DLITE_SYSROOT="$T/sysroot"
export DOCKER_HOST="unix://$DLITE_HOME/docker.sock"
export DOCKER_CONFIG="$T/docker-config"
mkdir -p "$DLITE_SYSROOT/etc" "$DLITE_SYSROOT/var/run" "$DOCKER_CONFIG"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# a comment\n10.1.2.3 other.example' >"$DLITE_SYSROOT/etc/hosts"

fail() {
	echo "FAIL: $*"
	if [ -f "$DLITE_HOME/daemon.log" ]; then
		echo "--- daemon.log (tail)"; tail -n 25 "$DLITE_HOME/daemon.log"
		echo "--- console.log (dlite lines)"; grep -a "dlite" "$DLITE_HOME/run/console.log" 2>/dev/null | tail -n 15
	fi
	exit 1
}
skip() { echo "$*"; exit 77; }
ok() { echo "ok: $*"; }
need_image() { [ -f "$OS/manifest.json" ] || fail "no OS image in $OS; run \`make image\` first"; }

cleanup() {
	if [ -S "$DLITE_HOME/control.sock" ]; then
		timeout 90 "$DLITE" stop >/dev/null 2>&1
		timeout 90 "$DLITE" uninstall --yes >/dev/null 2>&1
	fi
	# whatever is left of this test's daemon and VM
	for p in $(pgrep -x dlite) $(pgrep -f "$DLITE_HOME/"); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "DLITE_HOME=$DLITE_HOME" && kill -9 "$p"
		tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$DLITE_HOME/" && kill -9 "$p"
	done 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# A container image made here (no registry): busybox as "bb".
import_busybox() {
	r="$T/bbroot"
	mkdir -p "$r/bin" "$r/tmp" "$r/etc"
	cp /bin/busybox "$r/bin/busybox"
	for c in sh echo cat ls sleep httpd nc wc md5sum sha256sum date hostname head tail \
		touch mkdir rm mv stat find sync tar id tr seq yes dd true false grep sed kill ps env uname test; do
		ln -sf busybox "$r/bin/$c"
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"
	tar -C "$r" -c . | docker import -c 'CMD ["/bin/sh"]' - bb >/dev/null || fail "docker import"
}

# install + start; $@ are extra install flags
dlite_up() {
	need_image
	"$DLITE" install --os "$OS" -d 8 -m 2 -c 2 -S "$T" --yes "$@" || fail "dlite install"
	"$DLITE" start || { "$DLITE" logs; tail -50 "$DLITE_HOME/run/console.log"; fail "dlite start"; }
}

# share_edits DIR CID: DIR on the host is /src in container CID. A new host
# file, a host append, renames and unlinks on each side are seen at once on
# the other side.
share_edits() {
	echo one >"$1/live"
	[ "$(docker exec "$2" cat /src/live)" = one ] || fail "new host file not seen"
	echo two >>"$1/live"
	[ "$(docker exec "$2" cat /src/live | tail -n1)" = two ] || fail "host append not seen at once"
	mv "$1/live" "$1/renamed"
	docker exec "$2" test ! -e /src/live || fail "host rename: old name still seen"
	docker exec "$2" test -e /src/renamed || fail "host rename: new name not seen"
	rm "$1/renamed"
	docker exec "$2" test ! -e /src/renamed || fail "host unlink not seen"
	docker exec "$2" sh -c 'echo x > /src/c1 && mv /src/c1 /src/c2' || fail "container rename"
	[ ! -e "$1/c1" ] && [ -e "$1/c2" ] || fail "container rename not seen on the host"
	docker exec "$2" rm /src/c2
	[ ! -e "$1/c2" ] || fail "container unlink not seen on the host"
}

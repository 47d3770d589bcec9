#!/bin/sh
# The Debian package: `make deb` builds it, lintian finds nothing to warn
# about, apt installs it, and the installed dlite (run from outside the
# source tree, finding its OS image in /usr/lib/dlite) installs, starts the
# VM, runs a container through its socket and uninstalls; then the package is
# purged and leaves nothing behind. Needs root (apt).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export DLITE_BIN=/usr/bin/dlite
. "$ROOT/tests/e2e/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to install the package"
if dpkg-query -W -f='${Status}' dlite 2>/dev/null | grep -q "ok installed"; then
	skip "a dlite package is already installed here; not replacing it"
fi
[ -f "$ROOT/build/os/manifest.json" ] || fail "no OS image in build/os; run \`make image\` first"
deb=$(cd "$ROOT" && make -s deb | tail -n1) || fail "make deb"
deb="$ROOT/$deb"
[ -f "$deb" ] || fail "make deb printed no package ($deb)"
ok "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
lint=$(lintian --fail-on error,warning "$deb" 2>&1 | grep -v '^running with root')
[ -z "$lint" ] || fail "lintian: $lint"
ok "lintian: clean"
dpkg-deb -c "$deb" >"$T/contents"
for f in usr/bin/dlite usr/lib/dlite/dlite-agent usr/lib/dlite/os/manifest.json usr/lib/dlite/os/root.erofs \
	usr/lib/systemd/user/dlite.service usr/share/doc/dlite/copyright usr/share/man/man1/dlite.1.gz \
	usr/share/bash-completion/completions/dlite usr/share/zsh/vendor-completions/_dlite \
	usr/share/fish/vendor_completions.d/dlite.fish; do
	grep -q " \./$f\$" "$T/contents" || fail "package lacks $f"
done
remove_pkg() { DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq dlite >/dev/null 2>&1; }
trap 'remove_pkg; cleanup' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; fail "apt-get install $deb"; }
[ -x /usr/bin/dlite ] || fail "/usr/bin/dlite not installed"
ok "apt installed it: $(/usr/bin/dlite version)"
man -w dlite >/dev/null 2>&1 || [ ! -x /usr/bin/man ] || fail "man dlite: no page found after install"
cd /tmp || fail "cd /tmp"
"$DLITE" install -d 8 -m 2 -c 2 -S "$T" --yes || fail "installed dlite: install (finding /usr/lib/dlite/os)"
"$DLITE" start || fail "installed dlite: start"
import_busybox
out=$(docker run --rm bb echo "from the packaged dlite") || fail "docker run through the installed dlite's socket"
[ "$out" = "from the packaged dlite" ] || fail "container printed \"$out\""
ok "docker run through the packaged dlite: $out"
"$DLITE" stop || fail "installed dlite: stop"
"$DLITE" uninstall --yes || fail "installed dlite: uninstall"
[ ! -e "$DLITE_HOME/disk.img" ] || fail "uninstall left $DLITE_HOME/disk.img"
remove_pkg || fail "apt-get purge dlite"
for f in /usr/bin/dlite /usr/lib/dlite /usr/share/doc/dlite /usr/lib/systemd/user/dlite.service \
	/usr/share/man/man1/dlite.1.gz /usr/share/bash-completion/completions/dlite; do
	[ ! -e "$f" ] || fail "purging the package left $f"
done
ok "purged: nothing left"

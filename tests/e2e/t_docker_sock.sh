#!/bin/sh
# /var/run/docker.sock (under DLITE_SYSROOT): `dlite install` as root links it
# to dlite's socket, replaces only a link of dlite's own, refuses anything
# else without --force; --force moves it aside and uninstall puts it back.
# No VM is booted.
. "$(dirname "$0")/lib.sh"
need_image
[ "$(id -u)" = 0 ] || skip "install links /var/run/docker.sock only as root"

VR="$DLITE_SYSROOT/var/run"
SOCK="$VR/docker.sock"
inst() { "$DLITE" install --os "$OS" -d 4 -S "$T" --yes "$@"; }
linkof() { readlink "$1" 2>/dev/null; }

# nothing there: linked, and removed again by uninstall
inst >/dev/null || fail "install"
[ "$(linkof "$SOCK")" = "$DLITE_HOME/docker.sock" ] || fail "not linked to dlite: $(ls -l "$SOCK")"
inst >/dev/null || fail "reinstall over dlite's own link"
[ "$(linkof "$SOCK")" = "$DLITE_HOME/docker.sock" ] || fail "reinstall lost the link"
"$DLITE" uninstall --yes >/dev/null || fail "uninstall"
[ -e "$SOCK" ] || [ -L "$SOCK" ] && fail "uninstall left $SOCK"
ok "no previous docker.sock: linked, relinked, removed"

# rootless docker's (or podman's) link: refused, untouched, nothing written
ln -s /run/user/1000/docker.sock "$SOCK"
out=$(inst 2>&1) && fail "install replaced someone else's link: $out"
[ "$(printf '%s\n' "$out" | wc -l)" -le 1 ] || fail "more than one line: $out"
printf '%s\n' "$out" | grep -q "docker.sock is a link to /run/user/1000/docker.sock.*--force" || fail "message: $out"
[ "$(linkof "$SOCK")" = /run/user/1000/docker.sock ] || fail "the link was changed"
[ ! -e "$DLITE_HOME/config.json" ] || fail "a refused install left a config"
ok "refused: $out"

# --force: moved aside, restored by uninstall
inst --force >/dev/null || fail "install --force"
[ "$(linkof "$SOCK")" = "$DLITE_HOME/docker.sock" ] || fail "--force did not link dlite's socket"
[ "$(linkof "$SOCK.before-dlite")" = /run/user/1000/docker.sock ] || fail "previous link not kept aside"
inst >/dev/null || fail "reinstall after --force"
[ "$(linkof "$SOCK.before-dlite")" = /run/user/1000/docker.sock ] || fail "reinstall lost the saved link"
"$DLITE" uninstall --yes >/dev/null || fail "uninstall after --force"
[ "$(linkof "$SOCK")" = /run/user/1000/docker.sock ] || fail "uninstall did not put the link back: $(ls -l "$VR")"
[ -L "$SOCK.before-dlite" ] && fail "the saved link stays after uninstall"
ok "--force moves a foreign link aside; uninstall restores it"

# a real socket (another engine) the same way
rm "$SOCK"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK" || fail "make a socket"
out=$(inst 2>&1) && fail "install replaced a socket"
printf '%s\n' "$out" | grep -q "is a socket" || fail "socket message: $out"
inst --force >/dev/null || fail "install --force over a socket"
[ -S "$SOCK.before-dlite" ] || fail "socket not moved aside"
"$DLITE" uninstall --yes >/dev/null || fail "uninstall"
[ -S "$SOCK" ] || fail "socket not restored"
ok "a foreign socket: refused, moved aside with --force, restored"
echo "docker.sock link replaces only dlite's own"

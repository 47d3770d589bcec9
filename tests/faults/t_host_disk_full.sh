#!/bin/sh
# The host disk full during install and update (DLITE_HOME on a small tmpfs;
# needs root): a one-line error, nothing half-written, and the OS that was
# installed still boots (docker answers through dlite's socket).
. "$(dirname "$0")/host-lib.sh"
need_image
[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs as DLITE_HOME"
command -v docker >/dev/null || skip "no docker CLI"
mkdir -p "$DLITE_HOME"
fs_cleanup() {
	KEEP=1 cleanup
	umount "$DLITE_HOME" 2>/dev/null || umount -l "$DLITE_HOME" 2>/dev/null
	rm -rf "$T"
}
trap fs_cleanup EXIT

img=$(du -sk "$OS" | cut -f1) # KiB
full() { # full SIZE_KIB: a fresh tmpfs of that size as DLITE_HOME
	umount "$DLITE_HOME" 2>/dev/null
	mount -t tmpfs -o "size=${1}k,mode=0700" dlite-fault "$DLITE_HOME" || skip "cannot mount a tmpfs here"
}
one_line_enospc() { # one_line_enospc WHAT OUTPUT
	lines=$(printf '%s\n' "$2" | grep -v '^dlite: downloading')
	[ "$(printf '%s\n' "$lines" | wc -l)" -le 1 ] || fail "$1: more than one line: $2"
	printf '%s\n' "$lines" | grep -q "No space left" || fail "$1: no 'No space left' in: $2"
	echo "$1 -> $lines"
}
leftovers() { find "$DLITE_HOME" \( -name '*.new' -o -name '.*.dlite-*' -o -name '*.tmp.*' \) | head -n 5; }

# install with room for half an image
full $((img / 2))
out=$("$DLITE" install --os "$OS" -d 2 -S "$T" --yes 2>&1) && fail "install on a full disk succeeded"
one_line_enospc "install, disk full" "$out"
[ ! -e "$DLITE_HOME/os/current" ] && [ ! -e "$DLITE_HOME/config.json" ] || fail "a failed install left os/current or config.json"
[ -z "$(leftovers)" ] || fail "a failed install left $(leftovers)"
out=$("$DLITE" install --os "file://$OS" -d 2 -S "$T" --yes 2>&1) && fail "install by URL on a full disk succeeded"
one_line_enospc "install by URL, disk full" "$out"
[ -z "$(leftovers)" ] && [ ! -e "$DLITE_HOME/os/current" ] || fail "a failed download left files"

# room for one image and 40 MiB: install works, an update (a second copy) cannot
full $((img + 40 * 1024))
"$DLITE" install --os "$OS" -d 2 -S "$T" --yes >/dev/null || fail "install with room for one image"
B="$T/imgB"
mkdir -p "$B" && cp "$OS"/vmlinuz "$OS"/initrd "$OS"/root.erofs "$B/"
sed 's/"image_version": *"[^"]*"/"image_version": "disk-full-B"/' "$OS/manifest.json" >"$B/manifest.json"
state() { (cd "$DLITE_HOME" && find . -type f ! -name disk.img | sort | xargs sha256sum; stat -c '%s %Y' disk.img); }
before=$(state)
for src in "$B" "file://$B"; do
	out=$("$DLITE" update --os "$src" 2>&1) && fail "update --os $src on a full disk succeeded"
	one_line_enospc "update --os $src, disk full" "$out"
	[ -z "$(leftovers)" ] || fail "a failed update left $(leftovers)"
	[ "$(state)" = "$before" ] ||
		fail "a failed update changed $DLITE_HOME"
done
ok "install and update on a full disk: one line, nothing half-written, nothing changed"

# the installed OS boots; the data disk lives off the tmpfs (the guest
# writes there), the OS folder stays on it
mv "$DLITE_HOME/disk.img" "$T/disk.img" && ln -s "$T/disk.img" "$DLITE_HOME/disk.img"
vm_lock
t0=$(date +%s)
"$DLITE" start >/dev/null || { tail -n 20 "$DLITE_HOME/daemon.log"; fail "dlite start after the failed update"; }
docker version --format '{{.Server.Version}}' >/dev/null || fail "docker does not answer"
ver=$("$DLITE" status --json | sed -n 's/.*"os_version": *"\([^"]*\)".*/\1/p')
[ -n "$ver" ] && [ "$ver" != disk-full-B ] || fail "booted OS version '$ver'"
took=$(( $(date +%s) - t0 ))
"$DLITE" stop >/dev/null || fail "stop"
free=$(df -k "$DLITE_HOME" | awk 'NR == 2 { print $4 }')
echo "measured: install refused at ${img}/2 KiB free, update refused with $((40 * 1024)) KiB free (needs ${img}); OS $ver booted after it in ${took} s, docker answered; ${free} KiB left"

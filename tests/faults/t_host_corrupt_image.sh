#!/bin/sh
# A corrupt OS image is refused, naming the file, and nothing is half-written:
# a flipped byte, a truncated or missing file, a bad manifest. Fresh install
# and update alike; the installed image stays as it was.
. "$(dirname "$0")/host-lib.sh"
need_image

# one-line error matching PATTERN
refused() { # refused PATTERN CMD...
	pat=$1; shift
	out=$("$@" 2>&1) && fail "\`$*\` accepted a corrupt image"
	last=$(printf '%s\n' "$out" | grep -v '^dlite: downloading' | tail -n1)
	[ "$(printf '%s\n' "$out" | grep -vc '^dlite: downloading')" -le 1 ] || fail "more than one line: $out"
	printf '%s\n' "$last" | grep -q -- "$pat" || fail "\`$*\`: '$last' does not name $pat"
	echo "refused: $last"
}
# a copy of the image with one corruption: corrupt NAME CMD (run in the copy)
corrupt() {
	c=$(mktemp -d "$T/img.XXXXXX")
	# hard links (same file system) or copies; edits in place copy first
	cp -l "$OS"/vmlinuz "$OS"/initrd "$OS"/root.erofs "$OS"/manifest.json "$c/" 2>/dev/null ||
		cp "$OS"/vmlinuz "$OS"/initrd "$OS"/root.erofs "$OS"/manifest.json "$c/"
	(cd "$c" && eval "$1")
	echo "$c"
}
flip='cp --remove-destination "$OS/root.erofs" root.erofs && printf "\377" | dd of=root.erofs bs=1 seek=$((20 * 1048576)) conv=notrunc status=none'
cases="root.erofs:$flip
vmlinuz:head -c 1000000 "$OS/vmlinuz" >v && mv v vmlinuz
initrd:rm initrd
manifest:rm manifest.json; printf '{\"files\": ' >manifest.json
root.erofs:sed -i 's/\"root.erofs\"/\"root.erofX\"/' manifest.json
initrd:rm initrd; ln -s /etc/passwd initrd
manifest:sed -i 's/\"vmlinuz\": *\"[0-9a-f]*\"/\"vmlinuz\": \"zz\"/' manifest.json"

# every file's hash (the sparse data disk: its size and mtime)
state() {
	find "$DLITE_HOME" -path "$DLITE_HOME/run" -prune -o -type f ! -name disk.img -print 2>/dev/null |
		sort | xargs -r sha256sum
	stat -c '%s %Y' "$DLITE_HOME/disk.img" 2>/dev/null
}

# fresh installs: refused, no OS folder, no config
printf '%s\n' "$cases" | while IFS=: read -r name cmd; do
	img=$(corrupt "$cmd")
	refused "$name" "$DLITE" install --os "$img" -d 2 -S "$T" --yes
	[ ! -e "$DLITE_HOME/os/current" ] && [ ! -e "$DLITE_HOME/os/current.new" ] ||
		fail "a refused install left an OS folder"
	[ ! -e "$DLITE_HOME/config.json" ] || fail "a refused install left config.json"
done || exit 1
# the same through a file:// URL (the download path)
img=$(corrupt "$flip")
refused "root.erofs" "$DLITE" install --os "file://$img/" -d 2 -S "$T" --yes

# updates of a good install: refused, os/current and previous untouched
"$DLITE" install --os "$OS" -d 2 -S "$T" --yes >/dev/null || fail "install"
"$DLITE" update --os "$OS" >/dev/null || fail "update (to have an os/previous)"
before=$(state)
count=0
printf '%s\n' "$cases" | while IFS=: read -r name cmd; do
	img=$(corrupt "$cmd")
	refused "$name" "$DLITE" update --os "$img"
	[ "$(state)" = "$before" ] || fail "a refused update changed $DLITE_HOME"
	[ ! -e "$DLITE_HOME/os/current.new" ] || fail "a refused update left os/current.new"
done || exit 1
# the installed image damaged on disk: `dlite start` refuses, naming the file,
# before any daemon or VM starts
cur="$DLITE_HOME/os/current/root.erofs"
cp "$cur" "$T/root.saved"
printf '\377' | dd of="$cur" bs=1 seek=$((30 * 1048576)) conv=notrunc status=none
refused "damaged.*root.erofs" "$DLITE" start
[ ! -S "$DLITE_HOME/control.sock" ] || fail "a daemon started on a damaged image"
cp "$T/root.saved" "$cur"
cases_n=$(printf '%s\n' "$cases" | wc -l)
echo "measured: $cases_n corruptions x (install, update) + 1 by URL + a damaged installed image at start refused with the file named; installed image unchanged"

#!/bin/sh
# `dlite update` killed (SIGKILL, as a power cut) before each step that moves
# an image: os/current is a complete image at every instant (the old or the
# new one, every file matching its manifest), and the next update completes.
# Also `update --rollback` cut at each step.
. "$(dirname "$0")/host-lib.sh"
need_image
cc -shared -fPIC -o "$T/crashat.so" "$ROOT/tests/faults/crashat.c" -ldl || fail "build the shim"

# image B: image A with another version in its manifest (same files)
B="$T/imgB"
mkdir -p "$B" && cp "$OS"/vmlinuz "$OS"/initrd "$OS"/root.erofs "$B/"
sed 's/"image_version": *"[^"]*"/"image_version": "crash-test-B"/' "$OS/manifest.json" >"$B/manifest.json"
grep -q crash-test-B "$B/manifest.json" || fail "cannot make image B"

# complete: every file listed in DIR's manifest matches its sha256
complete() {
	d=$1
	[ -f "$d/manifest.json" ] || return 1
	for f in vmlinuz initrd root.erofs; do
		want=$(sed -n "s/.*\"$f\": *\"\([0-9a-f]*\)\".*/\1/p" "$d/manifest.json")
		[ -n "$want" ] && [ "$(sha256sum <"$d/$f" | cut -d' ' -f1)" = "$want" ] || return 1
	done
}
version() { sed -n 's/.*"image_version": *"\([^"]*\)".*/\1/p' "$1/manifest.json"; }

"$DLITE" install --os "$OS" -d 2 -S "$T" --yes >/dev/null || fail "install"
"$DLITE" update --os "$B" >/dev/null || fail "update to B"
# count the steps of one update and of one rollback
: >"$T/steps"
CRASHAT_LOG="$T/steps" LD_PRELOAD="$T/crashat.so" "$DLITE" update --os "$OS" >/dev/null || fail "update to A"
steps=$(wc -l <"$T/steps")
[ "$steps" -ge 2 ] || fail "only $steps steps seen: $(cat "$T/steps")"
cat "$T/steps"
cuts=0
for target in B A; do
	img=$B; [ $target = A ] && img=$OS
	n=1
	while [ $n -le $((steps + 1)) ]; do
		CRASHAT_N=$n LD_PRELOAD="$T/crashat.so" "$DLITE" update --os "$img" >/dev/null 2>&1
		rc=$?
		complete "$DLITE_HOME/os/current" ||
			fail "killed before step $n of the update to $target: os/current is not a complete image ($(ls "$DLITE_HOME/os" | tr '\n' ' '))"
		[ $rc = 0 ] || cuts=$((cuts + 1))
		# the next update always works, from whatever was left
		"$DLITE" update --os "$img" >/dev/null 2>&1 || fail "update after a cut at step $n"
		complete "$DLITE_HOME/os/current" && [ "$(version "$DLITE_HOME/os/current")" = "$(version "$img")" ] ||
			fail "update after a cut at step $n did not install $target"
		n=$((n + 1))
	done
done
# rollback cut at each step
n=1
while [ $n -le $((steps + 1)) ]; do
	CRASHAT_N=$n LD_PRELOAD="$T/crashat.so" "$DLITE" update --rollback >/dev/null 2>&1
	complete "$DLITE_HOME/os/current" || fail "rollback killed before step $n: os/current incomplete"
	n=$((n + 1))
done
echo "measured: $cuts updates killed at each of their $steps image moves (and rollbacks at each step): os/current complete after every one"

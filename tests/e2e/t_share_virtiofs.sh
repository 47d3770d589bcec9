#!/bin/sh
# The share over virtiofs: the daemon starts virtiofsd (DLITE_VIRTIOFSD, or
# Debian trixie's from tools/get-virtiofsd) as the user and QEMU gets a
# vhost-user-fs device, not 9p. Both ways, ownership (whatever uid a
# container writes as, the file is the user's), a host edit seen at once,
# renames and unlinks, a shared writable mmap and an exec from the share;
# virtiofsd gone after stop; a virtiofsd that fails at start means 9p.
# Runs as an unprivileged user, as dlite is meant to be run, so that
# ownership means something. Skips (77) when no virtiofsd can be had.
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ] && [ -z "${DLITE_TEST_AS_USER:-}" ]; then
	src=$(cd "$here/../.." && pwd)
	vfsd=${DLITE_VIRTIOFSD:-}
	if [ -z "$vfsd" ] || [ "$vfsd" = none ]; then
		vfsd=$src/build/virtiofsd/virtiofsd
		out=$("$src/tools/get-virtiofsd" "$src/build/virtiofsd" 2>&1) ||
			{ echo "$out"; echo "no virtiofsd: tools/get-virtiofsd failed: $(echo "$out" | tail -n1)"; exit 77; }
	fi
	"$vfsd" --version >/dev/null 2>&1 || { echo "no virtiofsd: $vfsd does not run"; exit 77; }
	id dlitetest >/dev/null 2>&1 || useradd -m -s /bin/sh dlitetest || exit 1
	# the checkout may sit where that user can't read (/root/...): run a
	# staged copy of the test, the binary, the image and virtiofsd
	stage=$(mktemp -d /tmp/dlite-stage.XXXXXX)
	mkdir -p "$stage/tests/e2e" "$stage/build" "$stage/vfsd"
	cp "$here/lib.sh" "$here/t_share_virtiofs.sh" "$here/mmapw.c" "$stage/tests/e2e/"
	cp "${DLITE_BIN:-$src/build/dlite}" "$stage/build/dlite"
	cp -R "${DLITE_TEST_OS:-$src/build/os}" "$stage/build/os"
	# the wrapper of tools/get-virtiofsd runs its root/ beside it
	if [ -d "$(dirname "$vfsd")/root" ]; then cp -R "$(dirname "$vfsd")/root" "$stage/vfsd/"; fi
	cp "$vfsd" "$stage/vfsd/virtiofsd"
	chmod 755 "$stage"
	chown -R dlitetest "$stage"
	runuser -u dlitetest -- env DLITE_TEST_AS_USER=1 PATH="$PATH" \
		DLITE_VIRTIOFSD="$stage/vfsd/virtiofsd" \
		${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} sh "$stage/tests/e2e/t_share_virtiofs.sh"
	rc=$?
	rm -rf "$stage"
	exit $rc
fi
unset DLITE_BIN DLITE_TEST_OS
. "$here/lib.sh"
# run directly by a user: the wrapper tools/get-virtiofsd left in build/
[ -n "${DLITE_VIRTIOFSD:-}" ] || [ ! -x "$ROOT/build/virtiofsd/virtiofsd" ] ||
	DLITE_VIRTIOFSD=$ROOT/build/virtiofsd/virtiofsd
[ -n "${DLITE_VIRTIOFSD:-}" ] && [ "$DLITE_VIRTIOFSD" != none ] ||
	skip "no virtiofsd: set DLITE_VIRTIOFSD or run tools/get-virtiofsd build/virtiofsd"
me=$(id -un)
export DLITE_VIRTIOFSD
mkdir -p "$T/my share"
dlite_up -S "$T/my share"
import_busybox
cc -static -O2 -o "$T/mmapw" "$here/mmapw.c" || fail "build mmapw"

# ---- virtiofs, not 9p ----
grep -q "share: $T/my share over virtiofs (" "$DLITE_HOME/daemon.log" ||
	fail "daemon.log has no virtiofs line: $(grep 'share:' "$DLITE_HOME/daemon.log")"
qpid=$(cat "$DLITE_HOME/run/vm.pid") || fail "no vm.pid"
tr '\0' '\n' <"/proc/$qpid/cmdline" >"$T/qemu.argv" || fail "no qemu process $qpid"
grep -q '^vhost-user-fs-device,chardev=vfs,tag=dlite-share$' "$T/qemu.argv" ||
	fail "qemu has no vhost-user-fs device: $(tr '\n' ' ' <"$T/qemu.argv")"
grep -q 'virtio-9p' "$T/qemu.argv" && fail "qemu has a 9p device too"
vpid=$(pgrep -f -- "--socket-path=$DLITE_HOME/run/virtiofsd.sock" | head -n1)
[ -n "$vpid" ] || fail "no virtiofsd process for $DLITE_HOME"
[ "$(ps -o user= -p "$vpid")" = "$me" ] || fail "virtiofsd runs as $(ps -o user= -p "$vpid"), not $me"
"$DLITE" status >"$T/status" || fail "status"
grep -q '^share_fs *virtiofs$' "$T/status" || fail "status does not say virtiofs: $(cat "$T/status")"
grep -a -q -F "share: $T/my share (virtiofs)" "$DLITE_HOME/run/console.log" ||
	fail "the agent did not mount virtiofs: $(grep -a 'share' "$DLITE_HOME/run/console.log")"
ok "qemu has vhost-user-fs, virtiofsd runs as $me, status and the agent say virtiofs"

# ---- both ways, ownership ----
S="$T/my share/work"; mkdir -p "$S/open"; chmod 777 "$S/open"
echo "from host" >"$S/hostfile"
[ "$(docker run --rm -v "$S":/src bb cat /src/hostfile)" = "from host" ] || fail "container can't read a host file"
docker run --rm -v "$S":/src bb sh -c 'echo from container > /src/cfile; mkdir /src/cdir' || fail "container write"
[ "$(cat "$S/cfile")" = "from container" ] || fail "host can't read the container's file"
for f in cfile cdir; do
	owner=$(stat -c %U "$S/$f"); [ "$owner" = "$me" ] || fail "container's $f owned by $owner, not $me"
done
docker run --rm -u 2000:2000 -v "$S":/src bb sh -c 'echo x > /src/open/u2000' || fail "uid 2000 write"
owner=$(stat -c %U:%G "$S/open/u2000"); [ "$owner" = "$me:$(id -gn)" ] || fail "uid 2000's file is $owner on the host"
docker run --rm -v "$S":/src bb busybox chown 3000:3000 /src/cfile || fail "chown in the container failed"
owner=$(stat -c %U "$S/cfile"); [ "$owner" = "$me" ] || fail "a chown in the container made it $owner"
ok "share both ways; files of root, uid 2000 and after chown are $me's on the host"

# ---- a host edit is seen at once; renames and unlinks both sides ----
cid=$(docker run -d -v "$S":/src bb sleep 600) || fail "long container"
share_edits "$S" "$cid"
printf AAAA >"$S/same"; [ "$(docker exec "$cid" cat /src/same)" = AAAA ] || fail "same-size file"
printf BBBB >"$S/same"; [ "$(docker exec "$cid" cat /src/same)" = BBBB ] || fail "same-size host rewrite not seen at once"
ok "host edits (append, same-size rewrite) seen at once; renames and unlinks both sides"

cp "$T/mmapw" "$S/mmapw"
docker exec "$cid" /src/mmapw /src/mapped "written through mmap" || fail "shared writable mmap in the share"
[ "$(cat "$S/mapped")" = "written through mmap" ] || fail "mmap write not on the host: $(cat "$S/mapped")"
docker rm -f "$cid" >/dev/null
ok "a binary runs from the share and writes a file through a shared mapping"

"$DLITE" stop >/dev/null || fail "stop"
i=0
while kill -0 "$vpid" 2>/dev/null; do i=$((i + 1)); [ $i -lt 50 ] || fail "virtiofsd still runs after stop"; sleep 0.1; done
ok "virtiofsd gone after stop"

# ---- a virtiofsd that fails at start: 9p, one log line ----
echo quit | socat -t 30 - "UNIX-CONNECT:$DLITE_HOME/control.sock" >/dev/null || fail "quit the daemon"
i=0
while [ -S "$DLITE_HOME/control.sock" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "daemon did not quit"; sleep 0.1; done
cat >"$T/bad-virtiofsd" <<'EOF'
#!/bin/sh
[ "$1" = --version ] && { echo "virtiofsd 1.13.2"; exit 0; }
echo "[ERROR virtiofsd] Error entering sandbox: Unshare(Os { code: 1, kind: PermissionDenied })" >&2
exit 1
EOF
chmod 755 "$T/bad-virtiofsd"
# this time through the config key, as a user would set it
if err=$("$DLITE" config set virtiofsd bin/virtiofsd 2>&1); then fail "a relative virtiofsd path was accepted"; fi
echo "$err" | grep -q "virtiofsd.*absolute path" || fail "unclear error for a bad virtiofsd: $err"
"$DLITE" config set virtiofsd "$T/bad-virtiofsd" || fail "config set virtiofsd"
env -u DLITE_VIRTIOFSD "$DLITE" start >/dev/null || fail "start with a failing virtiofsd"
grep -q "share: $T/my share over 9p (virtiofs: $T/bad-virtiofsd 1.13.2 exited at start (status 1): .*Error entering sandbox" \
	"$DLITE_HOME/daemon.log" || fail "no fallback line: $(grep 'share:' "$DLITE_HOME/daemon.log")"
qpid=$(cat "$DLITE_HOME/run/vm.pid")
tr '\0' '\n' <"/proc/$qpid/cmdline" | grep -q '^virtio-9p-device,fsdev=s0,mount_tag=dlite-share$' ||
	fail "qemu has no 9p device after the fallback"
[ "$(docker run --rm -v "$S":/src bb cat /src/hostfile)" = "from host" ] || fail "9p share after the fallback"
"$DLITE" status | grep -q '^share_fs *9p$' || fail "status does not say 9p"
ok "a virtiofsd failing at start: one log line, 9p, the share works"
echo "virtiofs share works"

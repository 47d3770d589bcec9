#!/bin/sh
# dlite-agent inside the VM (tests/e2e/boot-vm): the channel with right and
# wrong tokens and bad headers, a container, a volume across poweroff and a
# second boot (no reformat), fsck after a clean poweroff, dockerd restarted
# after kill -9.  Boots twice, one VM at a time (TCG: expect minutes).
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
A=$ROOT/build/dlite-agent
BV=$ROOT/tests/e2e/boot-vm
OS=${DLITE_OS:-$ROOT/build/os}
for t in qemu-system-x86_64 socat docker busybox fsck.ext4 timeout; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done
[ -x "$BV" ] || { echo "skip: tests/e2e/boot-vm missing"; exit 77; }
[ -f "$OS/root.erofs" ] || { echo "skip: no image in $OS (make image)"; exit 77; }
[ -x "$A" ] || make -s build/dlite-agent >/dev/null || { echo "cannot build dlite-agent"; exit 1; }
BB=$(command -v busybox)
file -L "$BB" 2>/dev/null | grep -q 'statically linked' || { echo "skip: busybox is not static (apt-get install busybox-static)"; exit 77; }

# TCG on a shared 2-core machine: be patient
export BOOT_VM_TIMEOUT=${BOOT_VM_TIMEOUT:-300}
D=$(mktemp -d /tmp/t_agent_vm.XXXXXX)
SOCAT=
cleanup() {
	[ -z "$SOCAT" ] || kill "$SOCAT" 2>/dev/null
	"$BV" kill "$D" >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
die() { echo "FAIL $*"; [ -f "$D/console.log" ] && { echo "--- console (tail)"; tail -n 60 "$D/console.log"; }; exit 1; }

ctl() { echo "$1" | timeout 60 "$A" --connect "127.0.0.1:$PORT" --token-file "$D/token" control; }
# raw bytes on the channel; prints what came back (hex), "" when closed
raw() { timeout 30 socat -t 30 - "TCP:127.0.0.1:$PORT" | od -An -tx1 | tr -d ' \n'; }

boot() {
	"$BV" start "$D" "$@" || die "boot-vm start"
	. "$D/env"
	[ -z "$SOCAT" ] || kill "$SOCAT" 2>/dev/null
	printf '#!/bin/sh\nexec "%s" --connect 127.0.0.1:%s --token-file "%s" docker\n' "$A" "$PORT" "$D/token" > "$D/dock.sh"
	chmod +x "$D/dock.sh"
	rm -f "$D/docker.sock"
	# -t: docker half-closes its side right after a request; keep relaying
	socat -t 3600 "UNIX-LISTEN:$D/docker.sock,fork" "EXEC:$D/dock.sh" 2>/dev/null &
	SOCAT=$!
	n=0; while [ ! -S "$D/docker.sock" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	export DOCKER_HOST="unix://$D/docker.sock"
	grep -a '^dlite-stamp ' "$D/console.log" | tr '\n' ' '; echo
}

poweroff_and_wait() {
	if [ "${1:-}" = button ]; then
		printf '{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n' |
			socat -t 2 - "UNIX-CONNECT:$D/qmp.sock" >/dev/null && ok "ACPI power button pressed" ||
			bad "qmp system_powerdown"
	else
		[ "$(ctl poweroff)" = ok ] && ok "control poweroff accepted" || bad "control poweroff"
	fi
	n=0
	while "$BV" status "$D" && [ $n -lt 900 ]; do sleep 0.1; n=$((n + 1)); done
	"$BV" status "$D" && die "VM still running 90 s after poweroff"
	grep -aq '^dlite-stamp poweroff ' "$D/console.log" && ok "powered off cleanly ($(( n / 10 )) s)" ||
		bad "no poweroff stamp"
	fsck.ext4 -fn "$D/disk.img" > "$D/fsck.log" 2>&1 && ok "fsck.ext4 -n clean after poweroff" ||
		{ bad "fsck after poweroff"; cat "$D/fsck.log"; }
}

# ---------------------------------------------------------------- boot 1
HAVE_SSH=
if command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; then
	ssh-keygen -q -t ed25519 -N '' -C t_agent_vm -f "$D/id" && HAVE_SSH=1
fi
if [ -n "$HAVE_SSH" ]; then boot --ssh-key "$D/id.pub"; else boot; fi
[ "$(ctl ping)" = "ok pong" ] && ok "control ping" || bad "control ping"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$D/wrong"
r=$(echo ping | timeout 30 "$A" --connect "127.0.0.1:$PORT" --token-file "$D/wrong" control 2>&1); rc=$?
[ $rc = 1 ] && echo "$r" | grep -q refused && ok "wrong token refused" || bad "wrong token: rc=$rc $r"
r=$(printf 'GET /_ping HTTP/1.0\r\n\r\n' | timeout 30 "$A" --connect "127.0.0.1:$PORT" --token-file "$D/wrong" docker 2>&1)
echo "$r" | grep -q OK && bad "wrong token reached docker" || ok "wrong token never reaches docker"
[ -z "$(printf 'DLT1\000\001\000\000short' | raw)" ] && ok "truncated header: closed, no reply" || bad "truncated header"
[ -z "$(head -c 400 /dev/urandom | raw)" ] && ok "garbage: closed, no reply" || bad "garbage"
[ -z "$( (printf 'DLT1'; sleep 8) | raw)" ] && ok "slow header: closed, no reply" || bad "slow header"
[ "$(ctl ping)" = "ok pong" ] && ok "agent still answers after bad headers" || bad "agent after bad headers"
[ "$(ctl ready)" = "ok ready" ] && ok "control ready" || bad "control ready"
[ "$(ctl "time $(date +%s.%N)")" = ok ] && ok "control time" || bad "control time"
r=$(printf 'GET /_ping HTTP/1.0\r\n\r\n' | timeout 60 "$A" --connect "127.0.0.1:$PORT" --token-file "$D/token" docker)
echo "$r" | head -n1 | grep -q '200' && echo "$r" | tail -n1 | grep -qx OK && ok "_ping through the channel" || bad "_ping: $r"
if [ -n "$HAVE_SSH" ]; then
	# sshd on guest loopback, through the channel's tcp:22, key from the marker
	r=$(timeout 120 ssh -F /dev/null -i "$D/id" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ProxyCommand="$A --connect 127.0.0.1:$PORT --token-file $D/token tcp:22" docker@dlite 'cd && id -un' 2> "$D/ssh.err")
	[ "$r" = docker ] && ok "ssh docker@ through tcp:22 with the marker's key" || bad "ssh: '$r' $(cat "$D/ssh.err")"
fi
st=$(ctl status); echo "     $st"
echo "$st" | grep -q 'dockerd=up' && echo "$st" | grep -q 'data=formatted' && ok "status: dockerd up, data formatted" || bad "status 1"

mkdir -p "$D/bb/bin"
cp "$BB" "$D/bb/bin/busybox"
for c in sh echo cat ls sleep httpd nc kill pidof ps; do ln -s busybox "$D/bb/bin/$c"; done
tar -C "$D/bb" -c . | timeout 300 docker import - bb >/dev/null && ok "docker import bb" || bad "docker import"
[ "$(timeout 300 docker run --rm bb echo hi)" = hi ] && ok "docker run --rm bb echo hi" || bad "docker run"
timeout 300 docker run --rm -v dlvol:/d bb sh -c 'echo persisted > /d/f' && ok "wrote into volume dlvol" || bad "volume write"

# kill -9 dockerd from a privileged container in the host pid namespace
timeout 120 docker run --rm --privileged --pid=host bb sh -c 'kill -9 $(pidof dockerd)' >/dev/null 2>&1
t0=$(date +%s); r=
while [ $(( $(date +%s) - t0 )) -lt 180 ]; do
	r=$(ctl ready); [ "$r" = "ok ready" ] && break; sleep 1
done
[ "$r" = "ok ready" ] && ok "dockerd answers again $(( $(date +%s) - t0 )) s after kill -9" || bad "dockerd not back: $r"
ctl status | grep -q 'dockerd_restarts=1' && ok "status: dockerd_restarts=1" || bad "restarts: $(ctl status)"
[ "$(timeout 300 docker run --rm bb echo again)" = again ] && ok "containers run after the restart" || bad "run after restart"
poweroff_and_wait

# ---------------------------------------------------------------- boot 2
mv "$D/console.log" "$D/console-1.log"
cp "$D/token" "$D/token-1"
mkdir -p "$D/share" && echo shared > "$D/share/hello"
boot --share "$D/share"
st=$(ctl status); echo "     $st"
echo "$st" | grep -q 'data=ok' && ok "second boot: data disk kept (not reformatted)" || bad "status 2: $st"
grep -aq 'formatted /dev' "$D/console.log" && bad "second boot formatted the disk" || ok "no mkfs on second boot"
[ "$(timeout 300 docker run --rm -v dlvol:/d bb cat /d/f)" = persisted ] && ok "volume data survived poweroff" ||
	bad "volume data lost"
[ "$(timeout 300 docker run --rm -v "$D/share:/s" bb cat /s/hello)" = shared ] &&
	ok "9p share mounted at the same path" || bad "9p share"
# the power button needs the image's button+evdev modules (see HACKING.md)
if grep -aq 'for the power button' "$D/console.log"; then
	poweroff_and_wait button
else
	echo "note: no power button device in the guest; powering off through the channel"
	poweroff_and_wait
fi
grep -aqiF -e "$(cat "$D/token")" -e "$(cat "$D/token-1")" "$D/console.log" "$D/console-1.log" &&
	bad "a token on the console" || ok "no token on the console"
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"

#!/bin/sh
# The user's whole path: install -> start -> only ever `docker ...` through
# dlite's socket, with the real docker CLI.
. "$(dirname "$0")/lib.sh"
dlite_up
sock="$DLITE_HOME/docker.sock"

# the socket: owned by us, 0660, never world-writable
mode=$(stat -c %a "$sock"); [ "$mode" = 660 ] || fail "docker.sock mode $mode, want 660"
grep -q "127.0.0.1 local.docker # added by dlite" "$DLITE_SYSROOT/etc/hosts" || fail "hosts line"

# QEMU on x86 boots the vmlinux inside vmlinuz through PVH (no self-decompression)
if [ "$(uname -m)" = x86_64 ]; then
	k=$(tr '\0' '\n' < "/proc/$(cat "$DLITE_HOME/run/vm.pid")/cmdline" | sed -n '/^-kernel$/{n;p;}')
	[ "$k" = "$DLITE_HOME/os/current/vmlinux" ] || fail "qemu boots '$k', not os/current/vmlinux"
	file "$k" | grep -q 'ELF 64-bit' || fail "$k is not an ELF kernel"
	ok "PVH boot of os/vmlinux"
fi

docker version --format '{{.Server.Version}}' || fail "docker version"
import_busybox
[ "$(docker run --rm bb echo hello)" = hello ] || fail "docker run --rm"
ok "docker run --rm"

# stdin piped and closed: the container sees EOF (half-close kept)
out=$(seq 1 1000 | docker run --rm -i bb wc -l | tr -d ' ')
[ "$out" = 1000 ] || fail "docker run -i: got '$out'"
ok "docker run -i with stdin closed"

# a pty: script(1) gives docker a terminal
out=$(script -qec "docker run --rm -t bb sh -c 'test -t 0 && echo tty-yes'" /dev/null | tr -d '\r')
echo "$out" | grep -q tty-yes || fail "docker run -t: $out"
ok "docker run -t"

# logs -f follows a running container and ends when it exits
docker run -d --name logger bb sh -c 'for i in 1 2 3; do echo line$i; sleep 1; done' >/dev/null
out=$(timeout 30 docker logs -f logger) || fail "docker logs -f did not end"
[ "$(echo "$out" | tr '\n' ' ')" = "line1 line2 line3 " ] || fail "logs -f: $out"
docker rm logger >/dev/null
ok "docker logs -f"

# cp both ways
head -c 3000000 /dev/urandom >"$T/blob"
docker create --name cpbox bb true >/dev/null
docker cp "$T/blob" cpbox:/blob || fail "docker cp in"
docker cp cpbox:/blob "$T/blob.back" || fail "docker cp out"
cmp "$T/blob" "$T/blob.back" || fail "docker cp round trip differs"
docker rm cpbox >/dev/null
ok "docker cp both ways"

# build with a >= 50 MB context
mkdir -p "$T/ctx"
head -c 52428800 /dev/urandom >"$T/ctx/big"
printf 'FROM bb\nCOPY big /big\nRUN sha256sum /big > /big.sum\n' >"$T/ctx/Dockerfile"
want=$(sha256sum "$T/ctx/big" | cut -d' ' -f1)
DOCKER_BUILDKIT=0 docker build -q -t bigctx "$T/ctx" >/dev/null 2>"$T/build.err" || { cat "$T/build.err"; fail "docker build"; }
got=$(docker run --rm bigctx cat /big.sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "build context corrupted: $got vs $want"
ok "docker build with a 50 MB context"

# events while a container starts
docker events --filter type=container --filter event=start >"$T/events" 2>&1 &
evpid=$!
sleep 1
docker run --rm --name evbox bb true
sleep 1
kill $evpid 2>/dev/null; wait $evpid 2>/dev/null
grep -q "evbox" "$T/events" || fail "docker events missed the start: $(cat "$T/events")"
ok "docker events"

# status reports what a user asks about
"$DLITE" status --json >"$T/status.json" || fail "status"
for k in '"state": "running"' '"pid"' '"uptime"' '"address"' '"cpus": 2' '"memory_gib": 2' '"os_version"' '"docker_version"'; do
	grep -q "$k" "$T/status.json" || fail "status lacks $k: $(cat "$T/status.json")"
done
[ "$("$DLITE" ip)" = 127.0.0.1 ] || fail "dlite ip"
ok "status"

# ssh into the VM through the channel (no port on the host), logs
[ "$("$DLITE" ssh echo from-the-vm </dev/null)" = from-the-vm ] || fail "dlite ssh"
[ "$("$DLITE" ssh id -un </dev/null)" = docker ] || fail "dlite ssh user"
ok "dlite ssh"
"$DLITE" logs | grep -q "vm: ready" || fail "dlite logs"
"$DLITE" logs --console | grep -q "dlite-stamp dockerd" || fail "dlite logs --console"
ok "dlite logs"

# start while running is refused; the engine keeps running
"$DLITE" start 2>"$T/err" && fail "second start succeeded"
grep -q "already running" "$T/err" || fail "second start: $(cat "$T/err")"
echo "docker path works end to end"

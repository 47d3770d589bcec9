#!/bin/sh
# The share over 9p (same path, both ways, ownership, 100 MB checksum,
# rename and unlink) and published ports on localhost (TCP, UDP, gone after
# stop, a taken port). Runs as an unprivileged user, as dlite is meant to be run,
# so that ownership means something.
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ] && [ -z "${DLITE_TEST_AS_USER:-}" ]; then
	id dlitetest >/dev/null 2>&1 || useradd -m -s /bin/sh dlitetest || exit 1
	# the checkout may sit where that user can't read (/root/...): run a
	# staged copy of the test, the binary and the image it owns
	src=$(cd "$here/../.." && pwd)
	stage=$(mktemp -d /tmp/dlite-stage.XXXXXX)
	mkdir -p "$stage/tests/e2e" "$stage/build"
	cp "$here/lib.sh" "$here/t_share_ports.sh" "$here/udpecho.c" "$stage/tests/e2e/"
	cp "${DLITE_BIN:-$src/build/dlite}" "$stage/build/dlite"
	cp -R "${DLITE_TEST_OS:-$src/build/os}" "$stage/build/os"
	chmod 755 "$stage"
	chown -R dlitetest "$stage"
	runuser -u dlitetest -- env DLITE_TEST_AS_USER=1 PATH="$PATH" \
		${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} sh "$stage/tests/e2e/t_share_ports.sh"
	rc=$?
	rm -rf "$stage"
	exit $rc
fi
unset DLITE_BIN DLITE_TEST_OS
# this is the 9p share's test (t_share_virtiofs.sh has virtiofs)
export DLITE_VIRTIOFSD=none
. "$here/lib.sh"
me=$(id -un)
# a share whose path has a space: the kernel command line carries it encoded
mkdir -p "$T/my share"
dlite_up -S "$T/my share"
import_busybox
cc -static -O2 -o "$T/udpecho" "$here/udpecho.c" || fail "build udpecho"
mkdir -p "$T/img" && cp "$T/udpecho" "$T/img/" && printf 'FROM bb\nCOPY udpecho /bin/udpecho\n' >"$T/img/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t bbudp "$T/img" >/dev/null || fail "build bbudp"

# ---- share: the folder is at the same path inside the VM ----
S="$T/my share/work"; mkdir -p "$S"
echo "from host" >"$S/hostfile"
[ "$(docker run --rm -v "$S":/src bb cat /src/hostfile)" = "from host" ] || fail "container can't read a host file"
docker run --rm -v "$S":/src bb sh -c 'echo from container > /src/cfile; mkdir /src/cdir' || fail "container write"
[ "$(cat "$S/cfile")" = "from container" ] || fail "host can't read the container's file"
owner=$(stat -c %U "$S/cfile"); [ "$owner" = "$me" ] || fail "container file owned by $owner, not $me"
owner=$(stat -c %U "$S/cdir"); [ "$owner" = "$me" ] || fail "container dir owned by $owner, not $me"
ok "share both ways, files owned by $me"

head -c 104857600 /dev/urandom >"$S/big"
want=$(sha256sum "$S/big" | cut -d' ' -f1)
got=$(docker run --rm -v "$S":/src bb sha256sum /src/big | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "100 MB file differs in the container"
docker run --rm -v "$S":/src bb sh -c 'cat /src/big > /src/big2' || fail "copy in container"
[ "$(sha256sum "$S/big2" | cut -d' ' -f1)" = "$want" ] || fail "100 MB file written by the container differs"
rm -f "$S/big" "$S/big2"
ok "100 MB checksum both ways"

cid=$(docker run -d -v "$S":/src bb sleep 600) || fail "long container"
share_edits "$S" "$cid"
docker rm -f "$cid" >/dev/null
ok "edits, renames and unlinks seen on both sides"

# ---- published ports ----
P1=$((20000 + $$ % 10000)); P2=$((P1 + 1)); PU=$((P1 + 2))
W="$T/my share/www"; mkdir -p "$W" && echo "hello over the forward" >"$W/index.html"
t0=$(date +%s.%N)
docker run -d --name web -v "$W":/www -p "$P1:80" bb httpd -f -p 80 -h /www >/dev/null || fail "run web"
t1=$(date +%s.%N)
i=0
until curl -fsS "http://127.0.0.1:$P1/" >"$T/got" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "port $P1 never forwarded"; sleep 0.1
done
t2=$(date +%s.%N)
echo "forward up $(echo "$t1 $t2" | awk '{printf "%.2f", $2-$1}') s after docker run returned ($(echo "$t0 $t1" | awk '{printf "%.2f", $2-$1}') s for docker run itself)"
grep -q "hello over the forward" "$T/got" || fail "wrong body: $(cat "$T/got")"
curl -fsS -g "http://[::1]:$P1/" | grep -q hello || fail "no forward on ::1"
ok "TCP forward on 127.0.0.1 and ::1"
# the agent connects straight to the container (no docker-proxy in the VM)
ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)
"$DLITE" status >"$T/status" || fail "status"
grep ":$P1 -> web ($ip:80)" "$T/status" >/dev/null ||
	fail "forward of $P1 does not go to the container's address $ip:80: $(grep ":$P1" "$T/status")"
ok "forward goes to the container's own address: $(grep ":$P1 " "$T/status" | sed 's/^ports *//')"

docker run -d --name udp -p "$PU:7/udp" bbudp udpecho 7 >/dev/null || fail "run udp echo"
sleep 2
got=$(echo "ping-udp" | socat -t 2 - "UDP:127.0.0.1:$PU")
[ "$got" = "ping-udp" ] || fail "UDP echo returned '$got'"
"$DLITE" status | grep -q ":$PU -> udp ($(docker inspect -f '{{.NetworkSettings.IPAddress}}' udp):7)" ||
	fail "UDP forward not to the container's address"
ok "UDP forward (to the container's address)"

# a taken host port is reported; other forwards carry on
socat TCP-LISTEN:$P2,bind=127.0.0.1,reuseaddr,fork EXEC:true &
blocker=$!
sleep 0.5
docker run -d --name web2 -v "$W":/www -p "$P2:80" bb httpd -f -p 80 -h /www >/dev/null || fail "run web2"
sleep 2
"$DLITE" status >"$T/status" || fail "status"
grep "$P2" "$T/status" | grep -qi "fail\|in use" || fail "taken port not shown in status: $(cat "$T/status")"
grep -qi "port.*$P2\|$P2.*in use" "$DLITE_HOME/daemon.log" || fail "taken port not logged"
curl -fsS "http://127.0.0.1:$P1/" | grep -q hello || fail "other forward broke"
kill $blocker
ok "taken port reported, others fine"

docker stop -t 1 web >/dev/null
sleep 1.5
curl -fsS "http://127.0.0.1:$P1/" >/dev/null 2>&1 && fail "forward still open after docker stop"
ok "forward closed after docker stop"
docker rm -f web web2 udp >/dev/null
echo "share and ports work"

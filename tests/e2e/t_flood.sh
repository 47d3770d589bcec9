#!/bin/sh
# Lock-out and floods (issue 10, items 2 and 3), the daemon started under a
# soft fd limit of 1,024.
# 1. 400 silent connections from a container to the agent (10.0.2.15:5155)
#    and 400 from a local process to the channel's loopback port, each
#    reconnected as soon as it is dropped: docker answers all of 40 calls;
#    the container's connections never reach the agent.
# 2. 1,000 UDP source ports and 3,000 TCP connections at a published port,
#    then 2,000 connections each to the DNS-TCP and control sockets: docker
#    answers throughout, the port works after, the daemon's fds come back to
#    their level and daemon.log grows by less than 1 MiB.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ulimit -Sn 1024 || skip "cannot set a soft fd limit of 1024"
# bench/flood runs this against an older dlite to measure it: FLOOD_BENCH=1
# reports what would fail and carries on
check() { if [ -n "${FLOOD_BENCH:-}" ]; then echo "WOULD FAIL: $*"; else fail "$*"; fi; }
dlite_up
import_busybox
cc -static -O2 -o "$T/flood" "$here/flood.c" || fail "build flood"
qpid=$(cat "$DLITE_HOME/run/vm.pid")
aport=$(tr '\0' '\n' <"/proc/$qpid/cmdline" | sed -n 's/.*hostfwd=tcp:127\.0\.0\.1:\([0-9]*\)-.*/\1/p')
[ -n "$aport" ] || fail "no hostfwd port in QEMU's command line"

# ---- 2a. the daemon's fd limit, a published port, 1,000 UDP source ports
# (first: their associations expire after 60 s idle, while part 1 runs) ----
dpid=$(ps -o ppid= -p "$qpid" | tr -d ' ')
soft=$(awk '/^Max open files/ {print $4}' "/proc/$dpid/limits")
echo "daemon pid $dpid: soft fd limit $soft (started under $(ulimit -Sn))"
[ "$soft" -gt 1024 ] || check "the daemon kept its soft fd limit of $soft"
P=$((20000 + $$ % 10000)); PU=$((P + 1))
mkdir -p "$T/www" && echo flooded >"$T/www/index.html"
docker run -d --name web -v "$T/www":/www -p "$P:80" -p "$PU:9/udp" bb httpd -f -p 80 -h /www >/dev/null ||
	fail "run web"
i=0
until curl -fsS "http://127.0.0.1:$P/" 2>/dev/null | grep -q flooded; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "port $P never forwarded"; sleep 0.1
done
nfd() { ls "/proc/$dpid/fd" | wc -l; }
logsize() { cat "$DLITE_HOME/daemon.log" "$DLITE_HOME/daemon.log.1" 2>/dev/null | wc -c; }
docker version >/dev/null || fail "docker version"
fd0=$(nfd); log0=$(logsize); peak=$fd0
echo "before the floods: $fd0 fds, daemon.log $log0 bytes"
calls=0 failed=0
# docker must answer while a flood runs; $1 is the flood's pid
answer_during() {
	while kill -0 "$1" 2>/dev/null; do
		n=$(nfd); [ "$n" -gt "$peak" ] && peak=$n
		if timeout 30 docker version --format '{{.Server.Version}}' >/dev/null; then
			calls=$((calls + 1))
		else
			check "docker did not answer during the $2 flood"; failed=$((failed + 1))
		fi
	done
	wait "$1" || check "the $2 flood failed"
}
"$T/flood" udp 127.0.0.1 "$PU" 1000 >"$T/udp.out" 2>&1 &
answer_during $! udp
echo "udp flood: $(cat "$T/udp.out")"

# ---- 1. silent connections ----
HOLD=120
docker create --name cflood bb /flood hold 10.0.2.15 5155 400 $HOLD >/dev/null &&
	docker cp "$T/flood" cflood:/flood && docker start cflood >/dev/null || fail "run cflood"
"$T/flood" hold 127.0.0.1 "$aport" 400 $HOLD >"$T/hold.out" 2>"$T/hold.err" &
hpid=$!
i=0
until grep -q started "$T/hold.err" 2>/dev/null && docker logs cflood 2>&1 | grep -q started; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "floods did not start"; sleep 0.1
done
t0=$(date +%s.%N)
ok_calls=0 failed=0
for i in $(seq 40); do
	timeout 30 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && ok_calls=$((ok_calls + 1))
done
t1=$(date +%s.%N)
echo "docker answered $ok_calls of 40 calls under both floods in $(echo "$t0 $t1" | awk '{printf "%.1f", $2-$1}') s"
kill $hpid 2>/dev/null
wait $hpid 2>/dev/null
docker stop -t 10 cflood >/dev/null 2>&1
cstats=$(docker logs cflood 2>/dev/null | grep connects=)
docker rm -f cflood >/dev/null 2>&1
echo "loopback flood: $(cat "$T/hold.out")"
echo "container flood: $cstats"
case "$cstats" in *" established=0 "*) ;; *) check "a container reached the agent's port: $cstats" ;; esac
[ "$ok_calls" = 40 ] || check "docker answered only $ok_calls of 40 calls"
ok "40 of 40 docker calls under 400+400 silent connections"


# ---- 2b. 3,000 TCP connections at the port, 2,000 at the DNS-TCP and control sockets ----
"$T/flood" tcp 127.0.0.1 "$P" 3000 6 >"$T/tcp.out" 2>/dev/null &
answer_during $! tcp
echo "tcp flood: $(cat "$T/tcp.out")"
dport=$("$DLITE" config get dns_port) || fail "config get dns_port"
"$T/flood" tcp 127.0.0.1 "$dport" 2000 3 >"$T/dns.out" 2>/dev/null &
answer_during $! dns-tcp
echo "dns-tcp flood: $(cat "$T/dns.out")"
"$T/flood" tcp "$DLITE_HOME/control.sock" 0 2000 3 >"$T/ctl.out" 2>/dev/null &
answer_during $! control
echo "control flood: $(cat "$T/ctl.out")"
echo "docker answered $calls calls during the floods ($failed not); peak $peak fds"
curl -fsS "http://127.0.0.1:$P/" | grep -q flooded || check "port $P does not work after the floods"
docker version >/dev/null || check "docker version after the floods"
# UDP associations expire after 60 s idle
i=0
until [ "$(nfd)" -le $((fd0 + 8)) ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { check "the daemon's fds stay at $(nfd) (were $fd0)"; break; }; sleep 1
done
grow=$(( $(logsize) - log0 ))
echo "after: $(nfd) fds (were $fd0) within ${i} s; daemon.log grew by $grow bytes"
[ "$grow" -lt 1048576 ] || check "daemon.log grew by $grow bytes"
grep -c "suppressed" "$DLITE_HOME/daemon.log" | sed 's/^/rate-limited lines: /'
ok "floods: docker answered, port works after, fds back, log +$grow bytes"

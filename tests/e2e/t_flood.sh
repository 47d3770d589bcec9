#!/bin/sh
# Lock-out and floods (issue 10, items 2 and 3), the daemon started under a
# soft fd limit of 1,024.
# 1. 400 silent connections from a container to the agent (10.0.2.15:5155)
#    and 400 from a local process to the channel's loopback port, each
#    reconnected as soon as it is dropped: docker answers all of 40 calls;
#    the container's connections never reach the agent.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ulimit -Sn 1024 || skip "cannot set a soft fd limit of 1024"
dlite_up
import_busybox
cc -static -O2 -o "$T/flood" "$here/flood.c" || fail "build flood"
mkdir -p "$T/img" && cp "$T/flood" "$T/img/" && printf 'FROM bb\nCOPY flood /bin/flood\n' >"$T/img/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t bbflood "$T/img" >/dev/null || fail "build bbflood"
qpid=$(cat "$DLITE_HOME/run/vm.pid")
aport=$(tr '\0' '\n' <"/proc/$qpid/cmdline" | sed -n 's/.*hostfwd=tcp:127\.0\.0\.1:\([0-9]*\)-.*/\1/p')
[ -n "$aport" ] || fail "no hostfwd port in QEMU's command line"

# ---- 1. silent connections ----
HOLD=90
docker run -d --name cflood bbflood flood hold 10.0.2.15 5155 400 $HOLD >/dev/null || fail "run cflood"
"$T/flood" hold 127.0.0.1 "$aport" 400 $HOLD >"$T/hold.out" 2>"$T/hold.err" &
hpid=$!
i=0
until grep -q started "$T/hold.err" 2>/dev/null && docker logs cflood 2>&1 | grep -q started; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "floods did not start"; sleep 0.1
done
t0=$(date +%s.%N)
ok_calls=0
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
case "$cstats" in *" established=0 "*) ;; *) fail "a container reached the agent's port: $cstats" ;; esac
[ "$ok_calls" = 40 ] || fail "docker answered only $ok_calls of 40 calls"
ok "40 of 40 docker calls under 400+400 silent connections"

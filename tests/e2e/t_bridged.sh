#!/bin/sh
# Bridged mode end to end, inside a network namespace made here (nothing
# outside it is touched), with the daemon unprivileged (uid nobody) and only
# the helper as root: install --network bridged, start (bridge dlite0,
# tap, the VM at 192.168.127.2), DNS answers from the daemon on the bridge,
# routes to docker's networks through the VM (and following network
# create/rm), HTTP and ping to a container over the route, and everything
# gone again after `dlite stop`.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, bridge, tap, a second user)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for p in ip dig curl busybox setpriv /usr/bin/python3; do
	command -v $p >/dev/null 2>&1 || skip "needs $p"
done
need_image

# the user whose daemon it is: nobody (the daemon, QEMU and the share run as
# it; only the helper is root)
U=65534
G=$(id -g nobody 2>/dev/null || echo 65534)
chmod 755 "$T"

NS=dlt-$$
ip netns add "$NS" || skip "cannot create a network namespace"
HELPER=""
trap 'cleanup; [ -n "$HELPER" ] && kill "$HELPER" 2>/dev/null; ip netns del "$NS" 2>/dev/null' EXIT
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
# the host's "LAN" inside the namespace: docker networks must not shadow it
nsx ip link add lan0 type veth peer name lan1 && nsx ip addr add 10.77.0.5/24 dev lan0 &&
	nsx ip link set lan1 up && nsx ip link set lan0 up ||
	fail "a veth pair for the LAN"

# `sudo dlite install --network bridged` (the user is SUDO_UID): DLITE_HOME is
# the user's, and the helper's system unit is written (under the sysroot)
REAL="$DLITE"
SUDO_UID=$U SUDO_GID=$G nsx "$REAL" install --os "$OS" -d 8 -m 2 -c 2 -S "$T" --yes \
	--network bridged || fail "sudo dlite install --network bridged"
UNIT="$DLITE_SYSROOT/etc/systemd/system/dlite-helper-$U.service"
grep -q "^ExecStart=$REAL helper --uid $U\$" "$UNIT" || fail "helper unit: $(cat "$UNIT")"
[ "$(stat -c %u "$DLITE_HOME/config.json")" = $U ] || fail "DLITE_HOME is not the user's"
# the service manager's part: the unit's command, as root, in the namespace
nsx $(sed -n 's/^ExecStart=//p' "$UNIT") 2>"$T/helper.log" &
HELPER=$!
HSOCK="$DLITE_SYSROOT/var/run/dlite/helper-$U.sock"
for i in $(seq 1 50); do [ -S "$HSOCK" ] && break; sleep 0.1; done
[ -S "$HSOCK" ] || fail "the helper did not listen: $(cat "$T/helper.log")"
[ "$(stat -c %u "$HSOCK")" = $U ] || fail "helper socket not the user's"

# every other dlite command (and so the daemon it spawns) runs as the user
DLITE="$T/dlite-ns"
printf '#!/bin/sh\nexec ip netns exec %s setpriv --reuid=%s --regid=%s --clear-groups env HOME=%s %s "$@"\n' \
	"$NS" $U "$G" "$T" "$REAL" >"$DLITE"
chmod +x "$DLITE"

VM=192.168.127.2
HOSTIP=192.168.127.1
"$DLITE" start || { "$DLITE" logs; cat "$T/helper.log"; fail "dlite start (as uid $U)"; }
PORT=$(sed -n 's/.*"dns_port": *\([0-9]*\).*/\1/p' "$DLITE_HOME/config.json")
[ -n "$PORT" ] || fail "no dns_port in config.json"

# who runs what: the daemon and QEMU as the user
qpid=$(pgrep -f "qemu-system.*$DLITE_HOME/" | head -n1)
[ -n "$qpid" ] && [ "$(stat -c %u /proc/$qpid)" = $U ] || fail "QEMU (pid $qpid) is not uid $U"
for p in $(pgrep -x dlite); do
	tr '\0' '\n' <"/proc/$p/environ" | grep -qx "DLITE_HOME=$DLITE_HOME" || continue
	[ "$(stat -c %u /proc/$p)" = $U ] || fail "a dlite process of this test runs as $(stat -c %u /proc/$p)"
done
grep -q "ip link add dlite0 type bridge" "$T/helper.log" || fail "the helper did not make the bridge"
ok "daemon and QEMU run as uid $U; the helper (root) made the bridge"

# the helper: only the user, only what the policy allows
hreq() { /usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n")
print(s.recv(700).decode().strip())' "$HSOCK" "$1"; }
got=$(hreq "route-add dlite0 172.31.0.0/16 $VM")
case $got in "error uid 0 is not served"*) ;; *) fail "the helper served root's request: $got" ;; esac
for req in "route-add dlite0 0.0.0.0/1 $VM" "route-add dlite0 128.0.0.0/1 $VM" \
	"route-add dlite0 10.77.0.0/24 $VM" "route-add dlite0 8.8.8.0/24 $VM" "down eth0" "up ../x dlite-tap0 10.1.1.1/24"; do
	got=$(setpriv --reuid=$U --regid="$G" --clear-groups /usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n")
print(s.recv(700).decode().strip())' "$HSOCK" "$req")
	case $got in "error refused"*) ;; *) fail "helper accepted '$req': $got" ;; esac
done
nsx ip route show | grep -q "^0.0.0.0/1\|^128.0.0.0/1\|^8.8.8.0" && fail "a refused route is there: $(nsx ip route)"
ok "the helper refuses root, 0.0.0.0/1, 128.0.0.0/1, the LAN, public nets and odd names"

# the links and the channel
nsx ip -o addr show dev dlite0 | grep -q "inet $HOSTIP/24" || fail "dlite0 lacks $HOSTIP: $(nsx ip addr)"
nsx ip -o link show dlite-tap0 | grep -q "master dlite0" || fail "tap not on the bridge: $(nsx ip link)"
[ "$("$DLITE" ip)" = $VM ] || fail "dlite ip: $("$DLITE" ip)"
"$DLITE" status --json | grep -q "tcp:$VM:5155" || fail "channel not direct: $("$DLITE" status --json)"
grep -q "$VM local.docker # added by dlite" "$DLITE_SYSROOT/etc/hosts" || fail "hosts line"
ok "bridge, tap, VM at $VM, channel direct"

import_busybox
docker run -d --name web bb sh -c 'mkdir -p /www && echo hello-bridged >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null || fail "docker run web"
ADDR=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)
[ -n "$ADDR" ] || fail "web has no address"

# DNS (answers follow the events: allow a few seconds)
got=""
for i in $(seq 1 20); do
	got=$(nsx dig @$HOSTIP -p "$PORT" web.docker +short +time=2 +tries=1)
	[ "$got" = "$ADDR" ] && break
	sleep 0.5
done
[ "$got" = "$ADDR" ] || fail "web.docker: '$got', want $ADDR"
ok "dig web.docker -> $ADDR"
nsx dig @$HOSTIP -p "$PORT" nope.docker +time=2 +tries=1 | grep -q "status: NXDOMAIN" || fail "nope.docker not NXDOMAIN"
nsx dig @$HOSTIP -p "$PORT" example.com +time=2 +tries=1 | grep -q "status: REFUSED" || fail "example.com not REFUSED"
[ "$(nsx dig @$HOSTIP -p "$PORT" local.docker +short +time=2 +tries=1)" = $VM ] || fail "local.docker is not $VM"
[ "$(nsx dig @$HOSTIP -p "$PORT" web.docker +tcp +short +time=2 +tries=1)" = "$ADDR" ] || fail "web.docker over TCP"
ok "NXDOMAIN, REFUSED, local.docker, TCP"
grep -q "server=/docker/$HOSTIP#$PORT" "$DLITE_HOME/dnsmasq-dlite.conf" || fail "no dnsmasq hint file"

# routes
nsx ip route show | grep -q "^172.17.0.0/16 via $VM dev dlite0" || fail "no route to 172.17/16: $(nsx ip route)"
ok "route 172.17.0.0/16 via $VM"

# over the route: HTTP by name (resolved by our DNS) and by address; ping
grep -q "bridged: forwarding from" "$DLITE_HOME/run/console.log" ||
	echo "note: the console has no 'bridged: forwarding' line: an image older than dlite.bridged=1 (run \`make image\`) drops forwarded traffic"
page=$(nsx curl -sS --max-time 20 --resolve "web.docker:80:$got" http://web.docker/) || fail "curl web.docker"
[ "$page" = hello-bridged ] || fail "curl web.docker: '$page'"
page=$(nsx curl -sS --max-time 20 "http://$ADDR/") || fail "curl $ADDR"
[ "$page" = hello-bridged ] || fail "curl $ADDR: '$page'"
nsx busybox ping -c 1 -W 5 "$ADDR" >/dev/null || fail "ping $ADDR"
ok "curl http://web.docker/ and ping over the route"

# the agent's rule is what lets the host through docker's FORWARD policy
# DROP: without it the container is unreachable, with it again reachable
vmipt() { docker run --rm --privileged --pid host bb busybox nsenter -t 1 -m -n /usr/sbin/iptables -w "$@"; }
rule=$(vmipt -S DOCKER-USER | sed -n 's/^-A DOCKER-USER \(-s '"$HOSTIP"'\/32 -i [^ ]* -j ACCEPT\)$/\1/p')
[ -n "$rule" ] || fail "no DOCKER-USER rule for $HOSTIP only in the VM: $(vmipt -S DOCKER-USER)"
vmipt -D DOCKER-USER $rule || fail "iptables -D in the VM"
nsx curl -sS --max-time 5 "http://$ADDR/" >/dev/null 2>&1 && fail "reachable without the forward rule (test is moot)"
vmipt -I DOCKER-USER $rule || fail "iptables -I in the VM"
[ "$(nsx curl -sS --max-time 20 "http://$ADDR/")" = hello-bridged ] || fail "curl after putting the rule back"
ok "DOCKER-USER $rule is needed and there"

# a new network gets a route, a removed one loses it
docker network create --subnet 172.30.7.0/24 extra >/dev/null || fail "network create"
for i in $(seq 1 20); do nsx ip route show | grep -q "^172.30.7.0/24 via $VM" && break; sleep 0.5; done
nsx ip route show | grep -q "^172.30.7.0/24 via $VM dev dlite0" || fail "no route for a new network: $(nsx ip route)"
docker run -d --name web2 --network extra bb sh -c 'mkdir -p /www && echo two >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null || fail "docker run web2"
A2=$(docker inspect -f '{{(index .NetworkSettings.Networks "extra").IPAddress}}' web2)
for i in $(seq 1 20); do
	[ "$(nsx dig @$HOSTIP -p "$PORT" web2.docker +short +time=2 +tries=1)" = "$A2" ] && break
	sleep 0.5
done
[ "$(nsx curl -sS --max-time 20 "http://$A2/")" = two ] || fail "curl web2 at $A2 on the new network"
docker rm -f web2 >/dev/null
docker network rm extra >/dev/null || fail "network rm"
for i in $(seq 1 20); do nsx ip route show | grep -q "^172.30.7.0/24" || break; sleep 0.5; done
nsx ip route show | grep -q "^172.30.7.0/24" && fail "route for a removed network stays: $(nsx ip route)"
ok "routes follow docker network create/rm"

# a docker network on the host's LAN gets no route (the helper refuses it)
docker network create --subnet 10.77.0.0/24 onlan >/dev/null || fail "network create onlan"
for i in $(seq 1 40); do grep -q "routes: 10.77.0.0/24: helper: refused" "$DLITE_HOME/daemon.log" && break; sleep 0.5; done
grep -q "routes: 10.77.0.0/24: helper: refused.*overlaps" "$DLITE_HOME/daemon.log" || fail "no refusal for 10.77.0.0/24 logged"
nsx ip route show | grep -q "^10.77.0.0/24 via" && fail "the LAN is shadowed: $(nsx ip route)"
docker network rm onlan >/dev/null
ok "a docker network on the host's LAN is not routed"

# stop: routes, tap and bridge are gone; so is the DNS responder
"$DLITE" stop || fail "dlite stop"
nsx ip route show | grep -q "172.17.0.0/16" && fail "route left after stop: $(nsx ip route)"
nsx ip link show dlite0 >/dev/null 2>&1 && fail "bridge left after stop"
nsx ip link show dlite-tap0 >/dev/null 2>&1 && fail "tap left after stop"
ok "stop removes routes, tap and bridge"
echo "bridged mode works end to end"

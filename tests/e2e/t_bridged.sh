#!/bin/sh
# Bridged mode end to end, inside a network namespace made here (nothing
# outside it is touched): install --network bridged, start (bridge dlite0,
# tap, the VM at 192.168.127.2), DNS answers from the daemon on the bridge,
# routes to docker's networks through the VM (and following network
# create/rm), HTTP and ping to a container over the route, and everything
# gone again after `dlite stop`.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, bridge, tap)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for p in ip dig curl busybox; do
	command -v $p >/dev/null 2>&1 || skip "needs $p"
done
need_image

NS=dlt-$$
ip netns add "$NS" || skip "cannot create a network namespace"
trap 'cleanup; ip netns del "$NS" 2>/dev/null' EXIT
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up

# every dlite command (and so the daemon it spawns) runs in the namespace
REAL="$DLITE"
DLITE="$T/dlite-ns"
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$REAL" >"$DLITE"
chmod +x "$DLITE"

VM=192.168.127.2
HOSTIP=192.168.127.1
dlite_up --network bridged
PORT=$(sed -n 's/.*"dns_port": *\([0-9]*\).*/\1/p' "$DLITE_HOME/config.json")
[ -n "$PORT" ] || fail "no dns_port in config.json"

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
nic=$(vmipt -S DOCKER-USER | sed -n 's/^-A DOCKER-USER -i \([^ ]*\) -j ACCEPT$/\1/p')
[ -n "$nic" ] || fail "no DOCKER-USER accept rule in the VM: $(vmipt -S DOCKER-USER)"
vmipt -D DOCKER-USER -i "$nic" -j ACCEPT || fail "iptables -D in the VM"
nsx curl -sS --max-time 5 "http://$ADDR/" >/dev/null 2>&1 && fail "reachable without the forward rule (test is moot)"
vmipt -I DOCKER-USER -i "$nic" -j ACCEPT || fail "iptables -I in the VM"
[ "$(nsx curl -sS --max-time 20 "http://$ADDR/")" = hello-bridged ] || fail "curl after putting the rule back"
ok "DOCKER-USER -i $nic -j ACCEPT is needed and there"

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

# stop: routes, tap and bridge are gone; so is the DNS responder
"$DLITE" stop || fail "dlite stop"
nsx ip route show | grep -q "172.17.0.0/16" && fail "route left after stop: $(nsx ip route)"
nsx ip link show dlite0 >/dev/null 2>&1 && fail "bridge left after stop"
nsx ip link show dlite-tap0 >/dev/null 2>&1 && fail "tap left after stop"
[ -e "$DLITE_HOME/run/bridge.state" ] && fail "bridge.state left after stop"
ok "stop removes routes, tap and bridge"
echo "bridged mode works end to end"

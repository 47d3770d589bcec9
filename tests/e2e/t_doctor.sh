#!/bin/sh
# dlite doctor on a real VM: a healthy install passes (text and --json); a
# removed hosts line, a stale socket, a wrong /var/run/docker.sock link and a
# dead daemon each fail with the cause named and a fix line. Also
# `dlite ssh-config`: plain ssh and scp reach the VM through it.
. "$(dirname "$0")/lib.sh"
need_image
LC_ALL=C.UTF-8 "$DLITE" install --os "$OS" -d 8 -m 2 -c 2 -S "$T" --yes 2>"$T/install.err" || fail "dlite install"
LC_ALL=C.UTF-8 "$DLITE" start 2>"$T/start.err" || { cat "$T/start.err"; fail "dlite start"; }
# off a TTY: one timestamped line per boot phase, timed by the agent's stamps
for ph in "kernel" "agent: root, data disk, network" "containerd" "dockerd"; do
	grep -q "^\[[0-9:]*\] ✓ $ph  [0-9m .]* s$" "$T/start.err" || fail "start: no ✓ line for $ph: $(cat "$T/start.err")"
done
grep -q "^\[[0-9:]*\] ✓ OS image from $OS " "$T/install.err" || fail "install: no step line: $(cat "$T/install.err")"
grep -q "$(printf '\033')" "$T/start.err" "$T/install.err" && fail "colour codes off a TTY"
ok "install and start print timestamped step lines, start the four boot phases"
import_busybox
docker run -d --name web -p 127.0.0.1:18437:80 bb httpd -f -p 80 >/dev/null || fail "docker run -p"
deadline=$(( $(date +%s) + 60 ))
until "$DLITE" status --json | grep -q '"host_port": 18437'; do
	[ "$(date +%s)" -lt $deadline ] || fail "port 18437 never forwarded"; sleep 0.5
done

# every key `dlite status --json` prints is in docs/json.md with its type
check_status_json() {
	"$DLITE" status --json >"$T/status.json" || fail "status --json"
	python3 - "$T/status.json" "$ROOT/docs/json.md" <<'PY' || fail "status --json vs docs/json.md: $(cat "$T/status.json")"
import json, re, sys
st = json.load(open(sys.argv[1]))
doc = open(sys.argv[2]).read()
sec = doc.split("## `dlite status --json`")[1].split("## ")[0]
types = {}
for m in re.finditer(r"^\| `([a-z_]+)` \| ([a-z]+) \|", sec, re.M):
    types.setdefault(m.group(1), m.group(2))
py = {"string": str, "integer": int, "number": (int, float), "object": dict, "array": list,
      "boolean": bool}
def check(obj, where):
    for k, v in obj.items():
        assert k in types, "%s: key %s is not documented in docs/json.md" % (where, k)
        assert isinstance(v, py[types[k]]), "%s: %s is %r, documented as %s" % (where, k, v, types[k])
check(st, "status")
for p in st.get("ports", []):
    check(p, "ports[]")
print("status keys documented:", len(st))
PY
}
check_status_json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["state"]=="running" and len(s["ports"])==1 and s["boot_stamps"]["dockerd"]>0, s' "$T/status.json" ||
	fail "status --json: running, one port, boot_stamps.dockerd"
ok "status --json: every key documented with its type (running, one published port)"

out=$(LC_ALL=C.UTF-8 "$DLITE" doctor) || fail "doctor on a healthy install: $out"
printf '%s\n' "$out" | grep -q "^✓ docker.sock .*answers _ping" || fail "no ✓ docker.sock line: $out"
printf '%s\n' "$out" | grep -q "^✓ vm disk" || fail "no ✓ vm disk line (ssh into the VM): $out"
printf '%s\n' "$out" | grep -q "^✓ clock" || fail "no ✓ clock line: $out"
printf '%s\n' "$out" | grep -q "✗" && fail "a healthy install has a ✗: $out"
ok "healthy install: $(printf '%s\n' "$out" | grep -c '^✓') checks ✓, exit 0"
"$DLITE" doctor --json >"$T/doctor.json" || fail "doctor --json exit"
python3 - "$T/doctor.json" <<'PY' || fail "doctor --json schema"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"ok", "failed", "checks"}, d.keys()
assert d["ok"] is True and d["failed"] == 0
names = [c["name"] for c in d["checks"]]
for want in ("daemon", "vm", "engine", "accel", "os image", "docker.sock", "docker.sock link",
             "hosts", "dns", "docker context", "autostart", "ports", "exports", "host disk",
             "vm disk", "clock", "virtiofsd"):
    assert want in names, want
for c in d["checks"]:
    assert set(c) == {"name", "status", "detail", "fix"}, c
    assert c["status"] in ("ok", "warn", "fail", "skip"), c
PY
ok "doctor --json: the documented schema, every check named"

# expect_bad NAME PATTERN: doctor exits 1, the "XX NAME" line (ASCII, C
# locale) names the cause, and a fix line follows it
expect_bad() {
	out=$(LC_ALL=C "$DLITE" doctor) && fail "doctor passed with a broken $1: $out"
	line=$(printf '%s\n' "$out" | grep "^XX $1 ") || fail "no 'XX $1' line: $out"
	printf '%s\n' "$line" | grep -q -- "$2" || fail "$1: '$line' does not name '$2'"
	printf '%s\n' "$out" | grep -A1 "^XX $1 " | tail -n1 | grep -q "fix: " || fail "$1: no fix line"
	ok "$1 -> $line"
}

# ssh-config: plain ssh and scp
"$DLITE" ssh-config >"$T/ssh_config" || fail "ssh-config"
[ "$(ssh -F "$T/ssh_config" dlite uname -s)" = Linux ] || fail "ssh -F ssh_config dlite: $(cat "$T/ssh_config")"
echo "scp works" >"$T/scp.txt"
scp -q -F "$T/ssh_config" "$T/scp.txt" dlite:/tmp/scp.txt || fail "scp to dlite"
[ "$(ssh -F "$T/ssh_config" dlite cat /tmp/scp.txt)" = "scp works" ] || fail "scp content"
ok "ssh-config: ssh dlite and scp work"

link="$DLITE_SYSROOT/var/run/docker.sock"
[ -L "$link" ] && good=$(readlink "$link") || good=""
ln -sfn /tmp/elsewhere.sock "$link"
expect_bad "docker.sock link" "points to /tmp/elsewhere.sock"
if [ -n "$good" ]; then ln -sfn "$good" "$link"; else rm -f "$link"; fi

cp "$DLITE_SYSROOT/etc/hosts" "$T/hosts.good"
grep -v "local.docker" "$T/hosts.good" >"$DLITE_SYSROOT/etc/hosts"
expect_bad hosts "no dlite line for local.docker"
cp "$T/hosts.good" "$DLITE_SYSROOT/etc/hosts"

sock="$DLITE_HOME/docker.sock"
mv "$sock" "$T/docker.sock.real"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$sock"
chmod 0660 "$sock"
expect_bad docker.sock "stale: nothing listens"
rm -f "$sock"; mv "$T/docker.sock.real" "$sock"
LC_ALL=C "$DLITE" doctor >/dev/null || fail "doctor still fails after the repairs"
ok "all repaired: doctor passes again"

pid=$("$DLITE" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon_pid"])')
kill -9 "$pid" || fail "kill daemon $pid"
deadline=$(( $(date +%s) + 30 ))
while kill -0 "$pid" 2>/dev/null; do [ "$(date +%s)" -lt $deadline ] || fail "daemon survives"; sleep 0.2; done
expect_bad daemon "not running"
check_status_json
ok "status --json with no daemon: documented too"
echo PASS

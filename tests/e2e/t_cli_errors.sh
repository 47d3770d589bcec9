#!/bin/sh
# Bad input: a one-line error naming the problem, a non-zero exit, nothing lost.
. "$(dirname "$0")/lib.sh"
need_image

expect_err() { # expect_err PATTERN CMD...
	pat=$1; shift
	out=$("$@" 2>&1) && fail "\`$*\` succeeded; wanted an error matching $pat"
	[ "$(printf '%s\n' "$out" | wc -l)" -le 1 ] || fail "\`$*\` printed more than one line: $out"
	printf '%s\n' "$out" | grep -qi -- "$pat" || fail "\`$*\`: '$out' does not match '$pat'"
	ok "$* -> $out"
}

expect_err "unknown command" "$DLITE" frobnicate
expect_err "ambiguous" "$DLITE" st
expect_err "not installed" "$DLITE" start
expect_err "not installed" "$DLITE" status
expect_err "unknown flag" "$DLITE" install --bogus
expect_err "cpus.*out of range" "$DLITE" install -c 0 --os "$OS" --yes
expect_err "memory_gib.*out of range" "$DLITE" install -m 1000000 --os "$OS" --yes
expect_err "not a whole number" "$DLITE" install -m lots --os "$OS" --yes
expect_err "hostname" "$DLITE" install -n "bad host" --os "$OS" --yes
expect_err "hostname" "$DLITE" install -n "nodots" --os "$OS" --yes
expect_err "too long\|longer than" "$DLITE" install --socket "/tmp/$(printf 'x%.0s' $(seq 1 120))/d.sock" --os "$OS" --yes
expect_err "no OS image" "$DLITE" install --os "$T/nowhere" --yes
expect_err "share" "$DLITE" install -S "$T/does-not-exist" --os "$OS" --yes
[ ! -e "$DLITE_HOME/config.json" ] || fail "a failed install left a config behind"

# a good install, then bad input against it
"$DLITE" install --os "$OS" -d 4 -S "$T" --yes >/dev/null || fail "install"
cp "$DLITE_HOME/config.json" "$T/config.good"
expect_err "not running" "$DLITE" stop
expect_err "smaller than the existing disk" "$DLITE" install --os "$OS" -d 2 --yes
expect_err "already installed.*--yes\|no terminal" "$DLITE" install --os "$OS" -d 4 </dev/null
expect_err "out of range" "$DLITE" config set cpus 0
expect_err "unknown key" "$DLITE" config set colour blue
expect_err "can't shrink" "$DLITE" config set disk 2
expect_err "can't shrink" "$DLITE" config set disk_gib 3
cmp -s "$DLITE_HOME/config.json" "$T/config.good" || fail "config.json changed by rejected input"
[ "$("$DLITE" config get cpus)" = 2 ] || fail "config get cpus"
# growing is taken (applied at the next start); disk and memory are short names
"$DLITE" config set disk 5 >/dev/null || fail "config set disk 5"
[ "$("$DLITE" config get disk_gib)" = 5 ] || fail "config set disk did not set disk_gib"
[ "$("$DLITE" config get memory)" = "$("$DLITE" config get memory_gib)" ] || fail "config get memory"
cp "$T/config.good" "$DLITE_HOME/config.json"

# corrupt and truncated config
head -c 40 "$T/config.good" >"$DLITE_HOME/config.json"
expect_err "not valid JSON" "$DLITE" start
echo '[1,2]' >"$DLITE_HOME/config.json"
expect_err "JSON object" "$DLITE" status
echo '{"cpus": "two"}' >"$DLITE_HOME/config.json"
expect_err "must be an integer" "$DLITE" status
cp "$T/config.good" "$DLITE_HOME/config.json"

# a missing or corrupt image is caught before the VM starts
mv "$DLITE_HOME/os/current" "$T/os.saved"
expect_err "no OS image\|manifest" "$DLITE" update --os "$T/nowhere"
mv "$T/os.saved" "$DLITE_HOME/os/current"
mkdir -p "$T/badimg" && cp "$OS"/* "$T/badimg/" && printf 'x' >>"$T/badimg/initrd"
expect_err "sha256 mismatch" "$DLITE" update --os "$T/badimg"
# URLs go through libcurl, loaded only then (the daemon never maps it)
# (a URL prints "downloading ..." first: the error is the last line)
out=$("$DLITE" update --os "file://$T/nowhere/" 2>&1) && fail "update from a missing URL succeeded"
printf '%s\n' "$out" | tail -n1 | grep -q "download of .*failed" || fail "missing URL: $out"
out=$("$DLITE" update --os "file://$T/badimg/manifest.json" 2>&1) && fail "update from a bad URL image succeeded"
printf '%s\n' "$out" | tail -n1 | grep -q "sha256 mismatch" || fail "bad URL image: $out"
# plain http is refused before anything is fetched; --sha256 pins manifest.json
expect_err "plain http:// is refused" "$DLITE" update --os "http://127.0.0.1:9/os/"
expect_err "plain http:// is refused" env DLITE_OS_URL=http://127.0.0.1:9 "$DLITE" update -v 1
expect_err "only https:// and file://" "$DLITE" update --os "ftp://127.0.0.1/os/"
expect_err "64 hex digits" "$DLITE" update --os "$OS" --sha256 abc
before=$(sha256sum "$DLITE_HOME/os/current/manifest.json")
wrong=$(printf x | sha256sum | cut -d' ' -f1)
out=$("$DLITE" update --os "file://$OS" --sha256 "$wrong" 2>&1) && fail "update with a wrong --sha256 succeeded"
printf '%s\n' "$out" | tail -n1 | grep -q "not the --sha256 given" || fail "wrong --sha256: $out"
expect_err "not the --sha256 given" "$DLITE" update --os "$OS" --sha256 "$wrong"
[ "$(sha256sum "$DLITE_HOME/os/current/manifest.json")" = "$before" ] || fail "a refused update changed os/current"
[ ! -e "$DLITE_HOME/os/current.new" ] || fail "a refused update left os/current.new"
ok "http refused, --sha256 mismatch refused, os/current untouched"
pin=$(sha256sum "$OS/manifest.json" | cut -d' ' -f1)
"$DLITE" update --os "file://$OS" --sha256 "$pin" >/dev/null 2>&1 || fail "update --os file://$OS --sha256 (right digest)"
# update holds the OS lock; the daemon holds it shared while a VM runs
flock "$DLITE_HOME/os.lock" sh -c "\"$DLITE\" update --os \"$OS\" 2>&1 | grep -q 'run .dlite stop. first'" ||
	fail "update did not refuse while the OS lock was held"
ok "update refuses while the OS lock is held"
# the DNS zone is dns_domain, not the hostname's last label
[ "$("$DLITE" config get dns_domain)" = docker ] || fail "dns_domain default"
expect_err "public top-level domain" "$DLITE" config set dns_domain com
expect_err "mDNS" "$DLITE" config set dns_domain local
"$DLITE" config set hostname box.example.com >/dev/null || fail "hostname box.example.com"
[ "$("$DLITE" config get dns_domain)" = docker ] || fail "dns_domain follows the hostname"
"$DLITE" config set hostname local.docker >/dev/null
"$DLITE" update --os "file://$OS" >/dev/null 2>&1 || fail "update --os file://$OS"
cmp -s "$OS/root.erofs" "$DLITE_HOME/os/current/root.erofs" || fail "downloaded root.erofs differs"
ok "update --os file://... (libcurl via dlopen)"
"$DLITE" version | grep -q "OS image" || fail "version does not show the image"

# uninstall restores the hosts file byte for byte (it had no final newline)
"$DLITE" uninstall --yes >/dev/null || fail "uninstall"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# a comment\n10.1.2.3 other.example' | cmp -s - "$DLITE_SYSROOT/etc/hosts" || fail "hosts file not restored"
[ ! -e "$DLITE_HOME" ] || fail "uninstall left $DLITE_HOME"
echo "all bad inputs rejected cleanly"

# bench/floor.sh, sourced by bench/idle and bench/memory: "the floor", a
# bare VM of the same kernel with the same QEMU command line as dlite's VM
# but an initrd whose /init only waits (no agent, no containerd, no
# dockerd), to measure against in the same run.
#   floor_start QEMU_PID DIR   boot it beside the running dlite VM; sets FLOOR_PID
#   floor_stop                 kill it
# From dlite's argv (/proc/PID/cmdline) it swaps the initrd, console, QMP
# socket and pidfile for its own, drops the disks (the data disk is locked
# by the running VM), the virtiofs and vsock devices (they need their
# daemons) and the agent's hostfwd; machine, accel (tb-size), CPUs, memory,
# balloon, network, rng and the 9p share stay as they are.

floor_start() { # QEMU_PID DIR
	fd=$2
	mkdir -p "$fd/root/dev"
	cat >"$fd/init.c" <<'C'
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>
int main(void)
{
	mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
	int fd = open("/dev/ttyS0", O_WRONLY);
	if (fd < 0)
		fd = open("/dev/hvc0", O_WRONLY);
	if (fd >= 0)
		write(fd, "\nfloor: idle\n", 13);
	for (;;)
		pause();
}
C
	cc -O2 -static -o "$fd/root/init" "$fd/init.c" || return 1
	(cd "$fd/root" && find . | cpio --quiet -o -H newc -R 0:0) >"$fd/initrd" || return 1
	tr '\0' '\n' <"/proc/$1/cmdline" >"$fd/dlite.argv" || return 1
	python3 - "$fd" <<'PY' || return 1
import re, sys
d = sys.argv[1]
a = open(d + "/dlite.argv").read().split("\n")[:-1]
out, i = [], 0
while i < len(a):
    o = a[i]
    v = a[i + 1] if i + 1 < len(a) else None
    if o == "-initrd":
        out += [o, d + "/initrd"]; i += 2; continue
    if o == "-pidfile":
        out += [o, d + "/floor.pid"]; i += 2; continue
    if o == "-qmp":
        out += [o, "unix:%s/qmp.sock,server=on,wait=off" % d]; i += 2; continue
    if o == "-chardev" and v.startswith("file,id=con,"):
        out += [o, "file,id=con,path=%s/console.log" % d]; i += 2; continue
    if o == "-chardev" and v.startswith("socket,id=vfs"):
        i += 2; continue
    if o == "-drive":
        i += 2; continue
    if o == "-device" and re.match(r"(virtio-blk|vhost-user-fs|vhost-vsock)", v):
        i += 2; continue
    if o == "-netdev" and v.startswith("user,"):
        out += [o, re.sub(r",hostfwd=[^,]*", "", v)]; i += 2; continue
    out.append(o); i += 1
open(d + "/floor.argv", "w").write("\n".join(out) + "\n")
PY
	# shellcheck disable=SC2046 # one argument per line, none with a newline
	(set -f; IFS='
'; exec $(cat "$fd/floor.argv")) >"$fd/qemu.log" 2>&1 &
	FLOOR_PID=$!
	i=0
	until grep -q "floor: idle" "$fd/console.log" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$FLOOR_PID" 2>/dev/null; then
			echo "floor VM did not boot: $(tail -n 3 "$fd/qemu.log")" >&2
			return 1
		fi
		sleep 0.2
	done
}

floor_stop() {
	[ -n "${FLOOR_PID:-}" ] && kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null
	FLOOR_PID=
}

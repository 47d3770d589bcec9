#!/bin/sh
# image/build.sh BUILD_DIR — the dlite guest OS, from Debian trixie packages.
#
# Output in BUILD_DIR/os: vmlinuz, initrd, root.erofs, manifest.json (see the
# guest contract in HACKING.md). Work files in BUILD_DIR/image-work, downloaded
# .debs cached in BUILD_DIR/cache/apt (reused by the next run).
# Needs root (mmdebstrap --mode=root, chroot), mmdebstrap, cpio, zstd, xz,
# kmod (depmod/modprobe), dpkg-deb, jq, sha256sum.
#
# Environment: DLITE_AGENT (default BUILD_DIR/dlite-agent) is the /init of the
# initrd; DLITE_MIRROR / DLITE_SECURITY_MIRROR override the mirrors read from
# the host's apt configuration (image/mirror.sh); DLITE_IMAGE_VERSION
# overrides the version; DLITE_EROFS_COMP overrides the root's compression.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
B=$(cd "$1" && pwd)
W=$B/image-work
OUT=$B/os
CACHE=$B/cache/apt
AGENT=${DLITE_AGENT:-$B/dlite-agent}
SUITE=trixie
T0=$(date +%s)

# A step list like dlite's (src/cli/progress.c): each say() ends the step
# before it with ✓ and its time; a failure marks the running step ✗.
# Plain timestamped lines (the build runs for minutes, mostly under CI).
if printf '%s' "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" | grep -qi 'utf-\?8'; then OK=✓ BAD=✗; else OK=ok BAD=FAILED; fi
STEP="" STEP_T=0
step_end() { # step_end SYMBOL
	if [ -n "$STEP" ]; then
		printf '%s image: %s %s  %s s\n' "$(date +%T)" "$1" "$STEP" "$(( $(date +%s) - STEP_T ))"
	fi
	STEP=""
}
say() { step_end "$OK"; STEP=$*; STEP_T=$(date +%s); printf '%s image: %s ...\n' "$(date +%T)" "$*"; }
die() { step_end "$BAD"; printf 'image/build.sh: %s\n' "$*" >&2; exit 1; }
trap 'if [ $? -ne 0 ]; then step_end "$BAD"; fi' EXIT

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap --mode=root, chroot); try: sudo make image"
[ -x "$AGENT" ] || die "$AGENT missing: build it first (make $B/dlite-agent) or set DLITE_AGENT"
! readelf -l "$AGENT" 2>/dev/null | grep -q 'program interpreter' ||
	die "$AGENT is dynamically linked: it is the guest's PID 1 and the initrd has no libc"
for t in mmdebstrap cpio zstd xz depmod modprobe dpkg-deb jq sha256sum readelf; do
	command -v $t >/dev/null || die "$t not found: apt-get install mmdebstrap cpio zstd xz-utils kmod jq"
done

# ---------------------------------------------------------------- mirrors
MIRRORS=$("$HERE/mirror.sh") || die "cannot read the Debian mirror from the host's apt configuration"
MAIN=$(printf '%s\n' "$MIRRORS" | awk '$1 == "main" { print $2 }')
SEC=$(printf '%s\n' "$MIRRORS" | awk '$1 == "security" { print $2 }')
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f $KEYRING ] || die "$KEYRING missing: apt-get install debian-archive-keyring"
SRC1="deb [signed-by=$KEYRING] $MAIN $SUITE $SUITE-updates main"
SRC2=
[ -z "$SEC" ] || SRC2="deb [signed-by=$KEYRING] $SEC $SUITE-security main"
say "mirror $MAIN${SEC:+ + $SEC}"

# ---------------------------------------------------------------- root tree
# Packages of the guest. docker.io brings containerd, runc, tini
# (docker-init), iptables. erofs-utils is a build tool only: its mkfs.erofs
# (newer than the host's) makes the root image, then it is trimmed away.
# crun replaces runc (a 10.7 MB Go binary; crun is 0.4 MB of C, also faster
# to start a container): runc stays installed for docker.io's dependency but
# /usr/sbin/runc becomes a symlink to crun, which takes runc's command line.
PKGS=docker.io,containerd,runc,crun,tini,iptables,e2fsprogs,openssh-server,ca-certificates,kmod,erofs-utils

mkdir -p "$W" "$CACHE" "$OUT"
R=$W/root
if [ "${DLITE_IMAGE_REUSE:-0}" = 1 ] && [ -f "$W/base/.done" ]; then
say "reusing $W/base (DLITE_IMAGE_REUSE=1)"
else
rm -rf "$W/base" "$W/kernel.pkg"
say "mmdebstrap $SUITE (cache: $CACHE)"
# Kernel: trixie's generic linux-image-amd64, NOT linux-image-cloud-amd64:
# the cloud flavour lacks 9p (NET_9P/9P_FS), which the 9p share needs; the
# generic one has 9p, virtiofs (built in), virtio-mmio, vsock and netfilter.
# The kernel .deb is only downloaded (into the cache) and unpacked outside
# the root: installing it would run initramfs-tools for nothing.
# shellcheck disable=SC2016
mmdebstrap --mode=root --variant=essential --include="$PKGS" \
	--aptopt='APT::Install-Recommends "false"' \
	--aptopt='APT::Sandbox::User "root"' \
	--dpkgopt='force-unsafe-io' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/lintian/*' \
	--skip=essential/unlink \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
	--setup-hook="sync-in $CACHE /var/cache/apt/archives/" \
	--customize-hook='set -e; cd "$1"/var/cache/apt/archives;
		k=$(APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-cache depends linux-image-amd64 |
			awk "/Depends: linux-image-/ { print \$2; exit }");
		[ -n "$k" ] || { echo "no linux-image-amd64 dependency" >&2; exit 1; };
		ls "$k"_*.deb >/dev/null 2>&1 ||
			APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-get -q download "$k";
		v=$(APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-cache policy "$k" | awk "/Candidate:/ { print \$2 }");
		echo "$k ${v}" > '"$W/kernel.pkg" \
	--customize-hook="sync-out /var/cache/apt/archives $CACHE" \
	$SUITE "$W/base" "$SRC1" ${SRC2:+"$SRC2"} > "$W/mmdebstrap.log" 2>&1 ||
	{ tail -n 30 "$W/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $W/mmdebstrap.log)"; }
touch "$W/base/.done"
fi
rm -rf "$R"
cp -a "$W/base" "$R"
rm -f "$R/.done"
read -r KPKG KPKGVER < "$W/kernel.pkg"
# Keep only the .debs of this build in the cache (old versions would pile up).
dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Package}_${Version}_${Architecture}.deb\n' |
	sed 's/:/%3a/g' > "$W/debs.keep"
for f in "$CACHE"/*.deb; do
	b=${f##*/}
	case $b in "${KPKG}_"*) continue ;; esac
	grep -qxF "$b" "$W/debs.keep" || rm -f "$f"
done
DOCKER_VERSION=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Version}' docker.io)
say "docker.io $DOCKER_VERSION, kernel package $KPKG $KPKGVER"

# ---------------------------------------------------------------- kernel
KDEB=$(ls "$CACHE/${KPKG}_"*.deb | head -n1)
KVER=${KPKG#linux-image-}
K=$W/kernel
if [ ! -f "$K/.done-$KVER" ]; then
	say "unpacking $KPKG"
	rm -rf "$K"; mkdir -p "$K"
	dpkg-deb -x "$KDEB" "$K"
	[ -e "$K/lib" ] || ln -s usr/lib "$K/lib"
	depmod -b "$K" "$KVER"
	touch "$K/.done-$KVER"
fi
KCONF=$K/boot/config-$KVER
KMOD=$K/lib/modules/$KVER

# Modules: section [initrd] or [root] of modules.conf, in load order
# (dependencies first, each once); built-ins are skipped (modprobe prints
# "builtin X"). Prints paths relative to $KMOD.
mods() {
	sed -n "/^\[$1\]/,/^\[/p" "$HERE/modules.conf" | sed -e 's/#.*//' -e '/^\[/d' -e '/^[[:space:]]*$/d' |
	while read -r m; do
		modprobe --show-depends -d "$K" -S "$KVER" "$m" ||
			die "module $m: not in $KPKG"
	done | awk '$1 == "insmod" { print $2 }' | sed "s|^$K/*\./*lib/modules/$KVER/||; s|^$KMOD/||" |
	awk '!seen[$0]++'
}
# Copy modules (decompressed: the agent finit_module()s them without
# decompression support) from the kernel tree to DEST/lib/modules/KVER.
putmods() { # DEST list
	while read -r rel; do
		[ -n "$rel" ] || continue
		d=$1/lib/modules/$KVER/$(dirname "$rel")
		mkdir -p "$d"
		case $rel in
		*.xz)  xz -dc "$KMOD/$rel" > "$d/$(basename "$rel" .xz)" ;;
		*.zst) zstd -qdc "$KMOD/$rel" > "$d/$(basename "$rel" .zst)" ;;
		*.gz)  gzip -dc "$KMOD/$rel" > "$d/$(basename "$rel" .gz)" ;;
		*)     cp "$KMOD/$rel" "$d/" ;;
		esac
		unsign "$d/$(basename "$rel" | sed -E 's/\.(xz|zst|gz)$//')"
	done < "$2"
}
# Drop the appended module signature: the kernel does not enforce signatures
# (no MODULE_SIG_FORCE, no lockdown without secure boot) and checking each
# one (RSA) costs tens of ms per module on TCG. Layout at the end of the file:
# signature, struct module_signature (12 bytes, sig_len big-endian in the
# last 4), "~Module signature appended~\n" (28 bytes).
unsign() {
	[ "$(tail -c 28 "$1")" = "~Module signature appended~" ] || return 0
	n=$(tail -c 32 "$1" | head -c 4 | od -An -tu1 | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	truncate -s $(( $(stat -c %s "$1") - 40 - n )) "$1"
}
strip_ext() { sed -E 's/\.(xz|zst|gz)$//'; }

mods initrd > "$W/initrd.mods"
mods root | grep -vxF -f "$W/initrd.mods" > "$W/root.mods" || true
# [root-nfs]: loaded by the agent only for an NFS share (hyperkit), not at boot
mods root-nfs | grep -vxF -f "$W/initrd.mods" | grep -vxF -f "$W/root.mods" > "$W/nfs.mods" || true
say "modules: $(wc -l < "$W/initrd.mods") in initrd, $(wc -l < "$W/root.mods") in root, $(wc -l < "$W/nfs.mods") for nfs"

# ---------------------------------------------------------------- tools
# trixie's mkfs.erofs (lzma, fragments, dedupe; the host's may be older) runs
# from the root's loader and libraries, copied out before the root is trimmed.
TOOLS=$W/tools
rm -rf "$TOOLS"; mkdir -p "$TOOLS/lib"
cp "$R/usr/bin/mkfs.erofs" "$TOOLS/"
cp "$R/usr/lib64/ld-linux-x86-64.so.2" "$TOOLS/lib/"
chroot "$R" /usr/lib64/ld-linux-x86-64.so.2 --list /usr/bin/mkfs.erofs |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r l; do cp -L "$R$l" "$TOOLS/lib/"; done
MKFS="$TOOLS/lib/ld-linux-x86-64.so.2 --library-path $TOOLS/lib $TOOLS/mkfs.erofs"

# ---------------------------------------------------------------- trim
say "trimming the root"
chroot "$R" /bin/sh -e <<'EOF'
# user docker (uid 1000, group docker from docker.io's postinst)
getent group docker >/dev/null || groupadd --system docker
useradd --uid 1000 --gid docker --shell /bin/sh --home-dir /home/docker --create-home docker
# no password, but not "locked" (sshd refuses keys for locked accounts)
usermod -p '*' docker
# sshd host keys are per-VM: the agent keeps them on the data disk
rm -f /etc/ssh/ssh_host_*
EOF
DOCKER_GID=$(chroot "$R" getent group docker | cut -d: -f3)
# shellcheck disable=SC2086
(
	cd "$R"
	# build tools and the package manager
	for p in erofs-utils erofsfuse; do
		[ -f var/lib/dpkg/info/$p.list ] || continue
		grep -v '^/\.$' var/lib/dpkg/info/$p.list | while read -r f; do
			[ -d "./$f" ] && [ ! -L "./$f" ] || rm -f "./$f"; done
	done
	rm -rf usr/bin/dpkg* usr/sbin/dpkg* usr/bin/debconf* usr/sbin/dpkg-* usr/share/dpkg \
		usr/share/debconf usr/share/perl5 usr/lib/x86_64-linux-gnu/perl* usr/share/perl* \
		usr/bin/perl* usr/bin/update-alternatives etc/dpkg usr/share/lintian \
		var/lib/dpkg var/cache/* var/log/* var/lib/apt usr/share/bug usr/share/menu \
		var/lib/ucf var/lib/systemd var/lib/pam \
		usr/share/polkit-1 usr/share/pam-configs
	mkdir -p var/cache var/log
	# systemd: pulled by openssh-server (for sysusers); PID 1 is the agent
	rm -rf usr/lib/systemd usr/bin/systemd* usr/bin/journalctl usr/bin/busctl \
		usr/bin/hostnamectl usr/bin/localectl usr/bin/loginctl usr/bin/networkctl \
		usr/bin/portablectl usr/bin/resolvectl usr/bin/timedatectl usr/bin/userdbctl \
		usr/bin/bootctl usr/bin/coredumpctl usr/bin/kernel-install usr/bin/varlinkctl \
		usr/bin/run0 usr/bin/oomctl usr/bin/homectl usr/bin/machinectl usr/bin/udevadm \
		usr/bin/systemctl usr/sbin/init usr/sbin/halt usr/sbin/poweroff usr/sbin/reboot \
		usr/sbin/shutdown usr/sbin/runlevel usr/sbin/telinit usr/lib/x86_64-linux-gnu/systemd \
		usr/share/systemd usr/lib/udev usr/share/dbus-1 usr/lib/tmpfiles.d usr/lib/sysusers.d \
		usr/lib/kernel usr/lib/environment.d usr/lib/modules-load.d usr/lib/sysctl.d \
		etc/systemd etc/init.d etc/rc?.d etc/udev usr/lib/pcrlock.d usr/lib/repart.d \
		usr/lib/credstore usr/lib/initrd-release usr/share/factory
	# containerd/docker pieces dockerd does not run
	rm -f usr/bin/ctr usr/bin/containerd-stress usr/bin/containerd-shim \
		usr/bin/containerd-shim-runc-v1 usr/sbin/dockerd-rootless* usr/bin/dockerd-rootless* \
		usr/share/docker.io/contrib/* usr/bin/runc-* 
	rm -rf usr/share/docker.io
	[ -x usr/bin/crun ] && ln -sf ../bin/crun usr/sbin/runc
	# iptables-legacy, not -nft: dockerd runs ~60 (first boot) to ~120
	# (later boots: the default bridge is restored, deleted and made again)
	# iptables commands one after another at start; on TCG a legacy call
	# takes ~60 ms against ~90-200 ms for iptables-nft (which reads the whole
	# ruleset over netlink and checks it), 2-3 s of every boot. The nf_tables
	# modules are then not loaded at all (image/modules.conf).
	for t in iptables ip6tables; do
		for s in "" -save -restore; do
			[ -x usr/sbin/$t-legacy$s ] || die "usr/sbin/$t-legacy$s missing"
			ln -sfn /usr/sbin/$t-legacy$s etc/alternatives/$t$s
		done
	done
	# docs, locales, i18n, zone data (UTC only), completions
	rm -rf usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/i18n \
		usr/lib/locale usr/share/bash-completion usr/share/zsh usr/share/fish \
		usr/share/common-licenses usr/share/gcc usr/share/gdb usr/share/lintian \
		usr/share/keyrings usr/share/apport usr/share/initramfs-tools usr/share/pixmaps \
		usr/lib/x86_64-linux-gnu/gconv usr/share/util-linux usr/share/misc/*.txt \
		usr/share/readline usr/share/tabset usr/share/sensible-utils
	if [ -d usr/share/zoneinfo ]; then
		find usr/share/zoneinfo -mindepth 1 -maxdepth 1 ! -name UTC ! -name Etc -exec rm -rf {} +
		find usr/share/zoneinfo/Etc -mindepth 1 ! -name UTC -exec rm -rf {} + 2>/dev/null || true
		ln -sf /usr/share/zoneinfo/UTC etc/localtime
	fi
	echo Etc/UTC > etc/timezone
	# leftovers of package installation
	rm -f etc/*- etc/ssh/ssh_host_* etc/machine-id var/lib/dbus/machine-id \
		usr/bin/openssl
	find . -xdev \( -name '*.pyc' -o -name '__pycache__' \) -exec rm -rf {} + 2>/dev/null || true
	# clients and tools the guest does not use (ssh-keygen, sshd, sftp-server stay)
	rm -f usr/bin/ssh usr/bin/scp usr/bin/sftp usr/bin/ssh-add usr/bin/ssh-agent \
		usr/bin/ssh-keyscan usr/bin/ssh-argv0 usr/bin/ssh-copy-id usr/bin/slogin \
		usr/lib/openssh/ssh-keysign usr/lib/openssh/ssh-pkcs11-helper usr/lib/openssh/ssh-sk-helper \
		usr/sbin/ldconfig usr/bin/ldd usr/bin/tini usr/bin/localedef usr/bin/iconv \
		usr/bin/getconf usr/sbin/iconvconfig usr/bin/pldd usr/bin/sotruss usr/bin/sprof \
		usr/bin/zdump usr/bin/tzselect usr/sbin/zic usr/bin/mtrace usr/bin/catchsegv \
		usr/bin/gencat usr/bin/debugfs usr/sbin/debugfs usr/sbin/e2image usr/sbin/e4defrag \
		usr/sbin/e2freefrag usr/sbin/e4crypt usr/sbin/filefrag usr/sbin/mklost+found \
		usr/bin/infocmp usr/bin/tic usr/bin/toe usr/bin/tabs usr/bin/tset usr/bin/reset \
		usr/bin/clear usr/bin/tput usr/sbin/add-shell usr/sbin/remove-shell \
		usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0 usr/lib/x86_64-linux-gnu/libmemusage.so \
		usr/lib/x86_64-linux-gnu/libpcprofile.so usr/bin/memusage* usr/lib/x86_64-linux-gnu/*.a
	rm -rf usr/lib/x86_64-linux-gnu/engines-3 usr/lib/x86_64-linux-gnu/ossl-modules \
		usr/lib/x86_64-linux-gnu/audit usr/share/terminfo usr/lib/terminfo/[!dlvx]* \
		usr/lib/x86_64-linux-gnu/security/pam_systemd* usr/lib/x86_64-linux-gnu/security/pam_userdb.so
	# no module of the kernel tree but ours
	rm -rf usr/lib/modules lib/modules 2>/dev/null || true
	# empty /tmp /run etc. (mount points for the agent)
	rm -rf tmp/* run/* var/tmp/*
	: > etc/machine-id
)
# Shared libraries nothing uses any more: keep the closure (DT_NEEDED) of
# every ELF file outside the top of the library directory (executables, PAM
# and xtables plugins, which are dlopen()ed) plus NSS modules; drop the rest.
LIBDIR=usr/lib/x86_64-linux-gnu
needed() { xargs -0 -r readelf -d 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u; }
(
	cd "$R"
	find . -xdev -type f ! -path "./$LIBDIR/*.so*" ! -path "./usr/lib/modules/*" -print0 | needed > "$W/libs.keep"
	ls $LIBDIR | grep -E '^(libnss_|ld-linux)' >> "$W/libs.keep" || true
	while :; do
		sort -u "$W/libs.keep" -o "$W/libs.keep"
		while read -r l; do [ -e "$LIBDIR/$l" ] && printf '%s\0' "$LIBDIR/$l"; done < "$W/libs.keep" |
			needed > "$W/libs.more"
		cat "$W/libs.keep" "$W/libs.more" | sort -u > "$W/libs.new"
		cmp -s "$W/libs.new" "$W/libs.keep" && break
		mv "$W/libs.new" "$W/libs.keep"
	done
	# kept sonames and the files their symlinks point to
	while read -r l; do
		echo "$l"
		[ -L "$LIBDIR/$l" ] && basename "$(readlink "$LIBDIR/$l")"
	done < "$W/libs.keep" | sort -u > "$W/libs.files"
	for f in $LIBDIR/*.so*; do
		grep -qxF "${f##*/}" "$W/libs.files" || rm -f "$f"
	done
)
# modules of the root
putmods "$R/usr" "$W/root.mods"
putmods "$R/usr" "$W/nfs.mods"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$KMOD/$f" ] && cp "$KMOD/$f" "$R/usr/lib/modules/$KVER/"
done
depmod -b "$R/usr" "$KVER"    # for dockerd's modprobe calls (already loaded => no-op)
mkdir -p "$R/usr/lib/dlite"
strip_ext < "$W/root.mods" | sed "s|^|/usr/lib/modules/$KVER/|" > "$R/usr/lib/dlite/modules.list"
strip_ext < "$W/nfs.mods" | sed "s|^|/usr/lib/modules/$KVER/|" > "$R/usr/lib/dlite/modules-nfs.list"
# dlite's own files
IMAGE_VERSION=${DLITE_IMAGE_VERSION:-$(date -u +%Y%m%d)-$(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo local)}
cat > "$R/etc/dlite-release" <<EOF
DLITE_IMAGE_VERSION=$IMAGE_VERSION
DEBIAN_SUITE=$SUITE
KERNEL_VERSION=$KVER
DOCKER_VERSION=$DOCKER_VERSION
DOCKER_GID=$DOCKER_GID
EOF
for d in "$HERE"/rootfs; do [ -d "$d" ] && cp -a "$d"/. "$R"/; done
say "root tree: $(du -sm "$R" | cut -f1) MiB"

# ---------------------------------------------------------------- root.erofs
# zstd level 9 (default): 69 MiB against 89 MiB with lz4hc, and boots as
# fast on TCG (measured side by side); lzma is smaller still but boots much
# slower (its decompression is paid by every page fault of dockerd and
# containerd). DLITE_EROFS_COMP overrides. See image/README.md.
COMP=${DLITE_EROFS_COMP:-zstd,level=9}
say "mkfs.erofs -z$COMP"
rm -f "$OUT/root.erofs.tmp"
# shellcheck disable=SC2086
$MKFS --quiet -z"$COMP" -C1048576 -Eztailpacking,fragments,dedupe --workers="$(nproc)" \
	-T"${SOURCE_DATE_EPOCH:-0}" -L dlite-root \
	"$OUT/root.erofs.tmp" "$R" >/dev/null
mv "$OUT/root.erofs.tmp" "$OUT/root.erofs"

# ---------------------------------------------------------------- initrd
say "initrd"
I=$W/initrd
rm -rf "$I"; mkdir -p "$I/dlite" "$I/dev" "$I/proc" "$I/sys" "$I/mnt" "$I/run"
cp "$AGENT" "$I/init"; chmod 0755 "$I/init"
putmods "$I" "$W/initrd.mods"
strip_ext < "$W/initrd.mods" | sed "s|^|/lib/modules/$KVER/|" > "$I/dlite/modules.list"
mknod -m 600 "$I/dev/console" c 5 1
( cd "$I" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible ) |
	zstd -q -19 -T0 > "$OUT/initrd.tmp"
mv "$OUT/initrd.tmp" "$OUT/initrd"
cp "$K/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

# ---------------------------------------------------------------- manifest
rm -f "$OUT/manifest.json"
(
	cd "$OUT"
	for f in *; do [ -f "$f" ] && [ "$f" != manifest.json ] && printf '%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"; done
) | jq -R -s --arg iv "$IMAGE_VERSION" --arg kv "$KVER" --arg dv "$DOCKER_VERSION" --arg ds "$SUITE" '
	{ image_version: $iv, kernel_version: $kv, docker_version: $dv, debian_suite: $ds,
	  files: (split("\n") | map(select(length > 0) | split(" ") | { (.[0]): .[1] }) | add) }' \
	> "$OUT/manifest.json"

step_end "$OK"
printf '%s image: done in %s s\n' "$(date +%T)" "$(( $(date +%s) - T0 ))"
total=0
for f in vmlinuz initrd root.erofs manifest.json; do
	s=$(stat -c %s "$OUT/$f"); total=$((total + s))
	awk -v f="$f" -v s="$s" 'BEGIN { printf "  %-14s %10d bytes  %6.1f MiB\n", f, s, s / 1048576 }'
done
awk -v s="$total" 'BEGIN { printf "  %-14s %10d bytes  %6.1f MiB (target <= 64 MiB)\n", "total", s, s / 1048576 }' 

#!/bin/sh
# make deb: builds build/deb/dlite_VERSION_ARCH.deb from a staged
# `make install DESTDIR=... PREFIX=/usr` tree (binary, agent, OS image, man
# page, completions), the systemd user unit, the copyright file and the
# changelog, with Depends computed here: the shared libraries by
# dpkg-shlibdeps, QEMU for the architecture, and virtiofsd when this
# distribution has a package of that name (Debian 13 does, Debian 12 does not).
# Usage: packaging/deb/build.sh BUILD_DIR VERSION
set -eu
B=$1 VERSION=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
[ -f "$B/os/manifest.json" ] || { echo "make deb: no OS image in $B/os; run \`make image\` first" >&2; exit 1; }
ARCH=$(dpkg --print-architecture)
case $ARCH in
amd64) qemu=qemu-system-x86 ;;
arm64) qemu=qemu-system-arm ;;
*) echo "make deb: no QEMU package known for architecture $ARCH; add it to packaging/deb/build.sh" >&2; exit 1 ;;
esac
D=$B/deb
rm -rf "$D"
mkdir -p "$D/root/DEBIAN" "$D/src/debian"
# Debian's hardening flags (PIE, RELRO, fortify); CFLAGS from the
# environment so the Makefile still adds its warnings
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
export CFLAGS="$(dpkg-buildflags --get CFLAGS)"
export LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
export CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)"
rm -rf "$B/deb-build"
CFLAGS="$CFLAGS $CPPFLAGS" make -s B="$B/deb-build" all
rm -rf "$B/deb-build/os" && ln -s ../os "$B/deb-build/os"
make -s B="$B/deb-build" DESTDIR="$D/root" PREFIX=/usr install
R=$D/root
strip --remove-section=.comment --remove-section=.note "$R/usr/bin/dlite"
strip --remove-section=.comment --remove-section=.note "$R/usr/lib/dlite/dlite-agent"
gzip -9n "$R/usr/share/man/man1/dlite.1"
install -d "$R/usr/lib/systemd/user" "$R/usr/share/doc/dlite" "$R/usr/share/lintian/overrides"
install -m 0644 packaging/deb/dlite.service "$R/usr/lib/systemd/user/dlite.service"
install -m 0644 packaging/deb/copyright "$R/usr/share/doc/dlite/copyright"
install -m 0644 packaging/deb/lintian-overrides "$R/usr/share/lintian/overrides/dlite"
sed "s/@VERSION@/$VERSION/" packaging/deb/changelog | gzip -9n >"$R/usr/share/doc/dlite/changelog.gz"
chmod 0644 "$R/usr/share/doc/dlite/changelog.gz"
find "$R/usr/lib/dlite/os" -type f -exec chmod 0644 {} +
find "$R" -type d -exec chmod 0755 {} +
# shared-library Depends, as dpkg-shlibdeps computes them
printf 'Source: dlite\n\nPackage: dlite\nArchitecture: any\n' >"$D/src/debian/control"
libs=$(cd "$D/src" && dpkg-shlibdeps -O "$ROOT/$R/usr/bin/dlite" | sed -n 's/^shlibs:Depends=//p')
deps="$libs, $qemu"
if apt-cache show virtiofsd >/dev/null 2>&1; then deps="$deps, virtiofsd"; fi
size=$(du -sk --exclude=DEBIAN "$R" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@DEPENDS@/$deps/" -e "s/@SIZE@/$size/" \
	packaging/deb/control.in >"$R/DEBIAN/control"
(cd "$R" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$R/DEBIAN/md5sums"
chmod 0644 "$R/DEBIAN/control" "$R/DEBIAN/md5sums"
out=$D/dlite_${VERSION}_$ARCH.deb
dpkg-deb --root-owner-group -Zxz --build "$R" "$out" >/dev/null
echo "$out"

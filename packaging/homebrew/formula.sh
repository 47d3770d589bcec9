#!/bin/sh
# Prints the Homebrew formula for VERSION with the digest of TARBALL and of
# the OS image tarballs beside it (dlite-os-VERSION-amd64.tar.gz for Intel
# Macs, -arm64 for Apple silicon): an architecture whose OS tarball is not
# there is left out of the formula, and at least one must be there.
# Usage: packaging/homebrew/formula.sh VERSION TARBALL
# RELEASE_URL (where the release files are published) and HOMEPAGE come from
# the environment; `make dist RELEASE_URL=...` passes them.
set -eu
VERSION=$1 TARBALL=$2
dir=$(dirname "$TARBALL")
url=${RELEASE_URL:-https://github.com/nlf/dlite/releases/download/v$VERSION}
res=""
for a in arm64:on_arm amd64:on_intel; do
	f=$dir/dlite-os-$VERSION-${a%%:*}.tar.gz
	[ -f "$f" ] || continue
	res="$res    ${a#*:} do\\
      url \"$url/$(basename "$f")\"\\
      sha256 \"$(sha256sum "$f" | cut -d' ' -f1)\"\\
    end\\
"
done
[ -n "$res" ] || { echo "formula.sh: no OS tarball (dlite-os-$VERSION-ARCH.tar.gz) in $dir; run \`make image dist\` on Linux first" >&2; exit 1; }
sed -e "s|@VERSION@|$VERSION|g" -e "s|@RELEASE_URL@|$url|g" \
	-e "s|@HOMEPAGE@|${HOMEPAGE:-https://github.com/nlf/dlite}|g" \
	-e "s|@SHA256@|$(sha256sum "$TARBALL" | cut -d' ' -f1)|" \
	-e "s|^@OS_RESOURCES@\$|${res%\\
}|" \
	"$(dirname "$0")/dlite.rb.in"

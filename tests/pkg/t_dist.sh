#!/bin/sh
# make dist: the release tarball is reproducible (same bytes twice), holds
# the committed tree, and the Homebrew formula carries its digest and is
# valid Ruby; make install honours DESTDIR.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"
cd "$ROOT" || fail "cd $ROOT"
command -v git >/dev/null && git rev-parse HEAD >/dev/null 2>&1 || skip "not a git checkout"
v=$(sed -n 's/^#define DLITE_VERSION "\(.*\)"/\1/p' src/cli/cli.h)
make -s B="$T/b1" dist >/dev/null || fail "make dist"
# the second run a second later, so that a time stamp anywhere would differ
sleep 1
make -s B="$T/b2" dist >/dev/null || fail "make dist (second run)"
a=$(sha256sum <"$T/b1/dlite-$v.tar.gz") b=$(sha256sum <"$T/b2/dlite-$v.tar.gz")
[ "$a" = "$b" ] || fail "make dist is not reproducible: $a vs $b"
ok "make dist twice: same bytes (${a%% *})"
tar -tzf "$T/b1/dlite-$v.tar.gz" >"$T/list" || fail "tarball unreadable"
for f in Makefile src/cli/main.c agent/init.c image/build.sh packaging/homebrew/dlite.rb.in LICENSE; do
	grep -qx "dlite-$v/$f" "$T/list" || fail "tarball lacks $f"
done
n=$(git ls-files | wc -l) m=$(grep -vc '/$' "$T/list")
[ "$n" = "$m" ] || fail "tarball holds $m files, git tracks $n"
ok "tarball holds the $n tracked files"
# the formula needs an OS tarball, which needs an OS image
if [ -f build/os/manifest.json ]; then
	mkdir -p "$T/b3" && ln -s "$ROOT/build/os" "$T/b3/os"
	make -s B="$T/b3" dist >/dev/null || fail "make dist with an OS image"
	grep -q "sha256 \"$(sha256sum <"$T/b3/dlite-$v.tar.gz" | cut -d' ' -f1)\"" "$T/b3/dlite.rb" ||
		fail "formula lacks the tarball's digest"
	grep -q "sha256 \"$(sha256sum <"$T/b3/dlite-os-$v-amd64.tar.gz" | cut -d' ' -f1)\"" "$T/b3/dlite.rb" ||
		fail "formula lacks the OS tarball's digest"
	ruby -c "$T/b3/dlite.rb" >/dev/null || fail "formula is not valid Ruby"
	ok "formula: both digests, valid Ruby"
else
	fail "no OS image in build/os for the formula's OS tarball; run \`make image\`"
fi
# the committed benchmark chart is what bench/chart.py makes of the committed outputs
python3 bench/chart.py "$T/chart.svg" >/dev/null || fail "bench/chart.py"
cmp -s "$T/chart.svg" bench/chart.svg || fail "bench/chart.svg differs from bench/chart.py's output of bench/results/: run bench/chart.py and commit"
ok "bench/chart.svg matches bench/results/"
# DESTDIR
make -s DESTDIR="$T/dest" PREFIX=/opt/dl install >/dev/null || fail "make install DESTDIR"
[ -x "$T/dest/opt/dl/bin/dlite" ] && [ -f "$T/dest/opt/dl/lib/dlite/os/manifest.json" ] ||
	fail "make install DESTDIR did not put dlite and its OS under $T/dest/opt/dl"
ok "make install honours DESTDIR and PREFIX"

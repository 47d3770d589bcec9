#!/bin/sh
# exploratory (not committed)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mkdir -p "$T/share/sub" "$T/share/sub2"
echo a >"$T/share/f"; echo b >"$T/share/sub/g"; echo c >"$T/share/sub2/k"
dlite_up -S "$T/share"
grep 'share:' "$DLITE_HOME/daemon.log"
import_busybox
cp /tmp/fsprobe /tmp/inwatch "$T/share/"
docker run -d --name pin -v "$T/share:/src" -w /src/sub bb sleep 1000 >/dev/null || fail pin
docker run -d --name ww -v "$T/share:/src" bb /src/inwatch /src /src/sub /src/sub2 >/dev/null || fail w
sleep 3; docker logs ww
ev() { echo "== $1"; docker logs ww 2>&1 | grep -v fsprobe | tail -n +$(( $(cat $T/n 2>/dev/null || echo 0) + 1 )); docker logs ww 2>&1 | grep -v fsprobe | wc -l >$T/n; }
ev start
for x in f sub/g sub2/k; do
echo x >>"$T/share/$x"; stat -c "before %n %y" "$T/share/$x"
docker run --rm -v "$T/share:/src" bb /src/fsprobe touch /src/$x; sleep 1; ev "probe touch $x"
stat -c "after %n %y %z" "$T/share/$x"
done
docker run --rm -v "$T/share:/src" bb /src/fsprobe touch /src/f now; sleep 1; ev "probe nowtouch f"
stat -c "after now %n %y %z" "$T/share/f"
docker run --rm -v "$T/share:/src" bb sh -c 'echo z > /src/sub/h; echo z > /src/sub2/h; rm /src/sub/h /src/sub2/h'; sleep 2; ev "guest own edits"

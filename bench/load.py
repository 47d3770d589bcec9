#!/usr/bin/env python3
"""bench/load's client: N concurrent streams through dlite's docker.sock and N
through a published port, every byte checked.

  load.py SOCK PORT IMAGE STREAMS PORT_BYTES DAEMON_PID

docker.sock: STREAMS concurrent `GET /images/IMAGE/get` (docker save, HTTP/1.0
so the body ends at EOF); each body must have the length and sha256 of a
reference save fetched first.  Published port: STREAMS concurrent
connections to 127.0.0.1:PORT asking bulksrv for "PAT PORT_BYTES id"; each
stream must be exactly the words (id << 40) + i.  Prints one line per part
and the daemon's peak RSS (VmHWM) and peak fd count sampled every 0.2 s.
Exit status 0 only when every stream is intact."""
import array, hashlib, os, socket, sys, threading, time

sock, port, image, n, pbytes, dpid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
pbytes -= pbytes % 8
peak = {"fds": 0, "rss_kb": 0}
stop = threading.Event()

def sample():
    while not stop.is_set():
        try:
            peak["fds"] = max(peak["fds"], len(os.listdir(f"/proc/{dpid}/fd")))
            for l in open(f"/proc/{dpid}/status"):
                if l.startswith("VmHWM:"):
                    peak["rss_kb"] = int(l.split()[1])
        except OSError:
            pass
        stop.wait(0.2)

def docker_get():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(600)
    s.connect(sock)
    s.sendall(f"GET /images/{image}/get HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
    h, head, total, buf = hashlib.sha256(), b"", 0, bytearray(1 << 16)
    while True:
        k = s.recv_into(buf)
        if not k:
            break
        chunk = bytes(buf[:k])
        if head is not None:
            head += chunk
            i = head.find(b"\r\n\r\n")
            if i < 0:
                continue
            status, chunk, head = head[:head.find(b"\r\n")], head[i + 4:], None
            if b" 200 " not in status:
                raise RuntimeError(status.decode(errors="replace"))
        h.update(chunk)
        total += len(chunk)
    s.close()
    return total, h.hexdigest()

def port_get(i):
    s = socket.create_connection(("127.0.0.1", port), timeout=600)
    s.sendall(f"PAT {pbytes} {i}\n".encode())
    h, total, buf = hashlib.sha256(), 0, bytearray(1 << 16)
    while True:
        k = s.recv_into(buf)
        if not k:
            break
        h.update(memoryview(buf)[:k])
        total += k
    s.close()
    want = hashlib.sha256(array.array("Q", range(i << 40, (i << 40) + pbytes // 8)).tobytes()).hexdigest()
    return total, h.hexdigest() == want

def run(fn, args):
    res, errs = [None] * len(args), []
    def one(k):
        try:
            res[k] = fn(*args[k])
        except Exception as e:  # a stream that failed is counted, not fatal
            errs.append(f"{type(e).__name__}: {e}")
    ts = [threading.Thread(target=one, args=(k,)) for k in range(len(args))]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return res, errs, time.monotonic() - t0

threading.Thread(target=sample, daemon=True).start()
ok = True
ref_len, ref_sum = docker_get()
res, errs, secs = run(lambda: docker_get(), [()] * n)
good = sum(1 for r in res if r == (ref_len, ref_sum))
moved = sum(r[0] for r in res if r)
print(f"docker.sock: {n} concurrent saves of {ref_len} bytes: {good} intact, {n - good} not; "
      f"{moved / 1e9:.2f} GB in {secs:.1f} s ({moved / 1e6 / secs:.1f} MB/s)")
for e in errs[:5]:
    print(f"  error: {e}")
ok &= good == n
res, errs, secs = run(port_get, [(i,) for i in range(n)])
good = sum(1 for r in res if r and r[0] == pbytes and r[1])
moved2 = sum(r[0] for r in res if r)
print(f"published port: {n} concurrent streams of {pbytes} bytes: {good} intact, {n - good} not; "
      f"{moved2 / 1e9:.2f} GB in {secs:.1f} s ({moved2 / 1e6 / secs:.1f} MB/s)")
for e in errs[:5]:
    print(f"  error: {e}")
ok &= good == n
stop.set()
lost = (n * ref_len - moved) + (n * pbytes - moved2)
print(f"total: {(moved + moved2) / 1e9:.2f} GB moved, {lost} bytes short; daemon peak RSS "
      f"{peak['rss_kb'] / 1024:.1f} MiB, peak fds {peak['fds']}")
sys.exit(0 if ok else 1)

# A fake dockerd for the host-mode tests: HTTP/1.0 on the unix socket
# argv[1]; /_ping -> OK, any other path -> "path=<path>"; PATH.ready once
# it listens.
import os, socket, sys, threading
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(16)
open(path + ".ready", "w").close()
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        d = c.recv(4096)
        if not d: break
        data += d
    p = data.split(b" ")[1] if data.count(b" ") else b"?"
    body = b"OK" if p == b"/_ping" else b"path=" + p
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()

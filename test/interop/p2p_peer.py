#!/usr/bin/env python3
"""A peer written from p2p-protocol(7) alone: registers a folder's files at an
index (unsigned REGISTER, then UPDATE pages), pings it, and serves
MANIFEST_REQUEST, CHUNK_REQUEST, STATS and PING on its own port.

    p2p_peer.py -d DIR -i HOST:PORT -p PORT [--secret-file F] [--page-bytes N]
"""

import argparse
import errno
import os
import select
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p2p_wire as w  # noqa: E402

MAX_CONNECTIONS = 256
IDLE_S = 60.0           # TIMEOUTS: peer idle
FRAME_S = 10.0          # TIMEOUTS: peer frame completion
PING_UNTIL_TTL_S = 5.0  # "until it knows, pings every 5 s"


def log(*a):
    print("p2p_peer:", *a, file=sys.stderr, flush=True)


class SharedFile:
    def __init__(self, name, path):
        self.name = name
        self.path = path
        st = os.stat(path, follow_symlinks=False)
        self.stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        self.size, self.content_hash, self.chunk_hashes = w.hash_file(path, w.INDEX_CHUNK_SIZE)
        if self.size != st.st_size:
            raise OSError("file changed while hashed")

    def changed(self, st):
        return (st.st_size, st.st_mtime_ns, st.st_ino) != self.stamp


def scan(root):
    """Every regular file under root, hidden files and folders and symbolic
    links left out, named by its path relative to root with / separators."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith("."):
                continue
            path = os.path.join(dirpath, fn)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            name = os.path.relpath(path, root).replace(os.sep, "/").encode()
            if w.valid_name(name):
                files[name] = SharedFile(name, path)
    return files


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}

    def add(self, key, n=1):
        with self.lock:
            self.values[key] = self.values.get(key, 0) + n

    def snapshot(self):
        with self.lock:
            return dict(self.values)


# ---------------------------------------------------------------- index link

def register_pages(port, entries, page_bytes):
    """REGISTER with as many entries as fit in page_bytes, the rest in UPDATEs."""
    pages, cur, size, first = [], [], 6, True
    for e in entries:
        need = w.FileEntry.encoded_size(e.name)
        if cur and size + need > page_bytes:
            pages.append(w.Register(port, cur) if first else w.Update(cur, []))
            cur, size, first = [], 8, False
        cur.append(e)
        size += need
    pages.append(w.Register(port, cur) if first else w.Update(cur, []))
    return pages


class IndexLink(threading.Thread):
    def __init__(self, peer, host, port):
        super().__init__(daemon=True)
        self.peer, self.host, self.port = peer, host, port
        self.registered = threading.Event()
        self.stop = threading.Event()
        self.conn = None
        self.ping_interval = PING_UNTIL_TTL_S
        self.ttl_ms = None

    def run(self):
        while not self.stop.is_set():
            try:
                self.session()
            except (OSError, w.Closed, w.ProtocolError) as e:
                if not self.stop.is_set():
                    log("index link:", e)
            self.registered.clear()
            if self.conn:
                self.conn.close()
            self.stop.wait(1.0)  # reconnect with backoff

    def expect_ok(self, acked):
        m = self.recv_reply()
        if isinstance(m, w.Ok) and m.acked == acked:
            return
        raise w.ProtocolError(w.E_INTERNAL, f"index refused type {acked}: {m}")

    def recv_reply(self):
        """Next reply, answering PING and ignoring what the page says to."""
        while True:
            m = self.conn.recv(timeout=15.0)
            if isinstance(m, w.Ping):
                self.conn.send(w.Pong(m.token))
            elif isinstance(m, (w.Ok, w.Error, w.Challenge, w.StatsReply, w.Pong)):
                return m

    def session(self):
        self.conn = w.Conn.connect(self.host, self.port, self.peer.key)
        entries = [w.FileEntry(f.name, f.size, f.content_hash) for f in self.peer.files.values()]
        pages = register_pages(self.peer.port, entries, self.peer.page_bytes)
        self.conn.send(*pages)  # pipelined: replies come in order
        for p in pages:
            self.expect_ok(p.TYPE)
        self.peer.counters.add("register_pages", len(pages))
        self.conn.send(w.Stats())
        self.registered.set()
        log(f"registered {len(entries)} files in {len(pages)} frames")
        self.keepalive()

    def keepalive(self):
        token = 0
        last_sent = time.monotonic()  # the REGISTER pages and STATS count
        while not self.stop.is_set():
            # Measured from the last frame sent, so that learning a TTL below
            # 5 s moves the next PING forward at once.
            left = last_sent + self.ping_interval - time.monotonic()
            if left <= 0:
                token += 1
                self.conn.send(w.Ping(token))
                self.peer.counters.add("index_pings")
                last_sent = time.monotonic()
                continue
            try:
                m = self.conn.recv(timeout=min(left, 0.5))
            except (socket.timeout, TimeoutError):
                continue
            self.on_index_frame(m)

    def on_index_frame(self, m):
        if isinstance(m, w.Ping):
            self.conn.send(w.Pong(m.token))
        elif isinstance(m, w.StatsReply):
            ttl = m.get("ttl_ms")
            if ttl:
                self.ttl_ms = ttl
                # "a peer sends PING at least every TTL/3"; the TIMEOUTS table
                # adds "at most 5" (seconds).
                self.ping_interval = min(ttl / 3000.0, 5.0)
                log(f"index ttl_ms={ttl}, ping every {self.ping_interval:.3f} s")
        elif isinstance(m, w.Error):
            log("index error", m.code, m.text)
            if m.code in w.CLOSING_CODES or m.code == w.E_ADDRESS_IN_USE:
                raise w.Closed("index ended the connection")

    def unregister(self):
        self.stop.set()
        if self.registered.is_set() and self.conn:
            try:
                self.conn.send(w.Unregister())
            except OSError:
                pass


# ---------------------------------------------------------------- chunk port

class Session:
    def __init__(self, peer, sock):
        self.peer = peer
        self.conn = w.Conn(sock, peer.key, opened=False)

    def refuse(self, code, text, ref=0, close=False):
        log(f"refuse {w.ERROR_NAMES[code]} ref {ref}{' and close' if close else ''}: {text}")
        self.peer.counters.add(f"error_{w.ERROR_NAMES[code].replace('-', '_')}")
        self.conn.send(w.Error(code, ref, text.encode()))
        if close:
            self.linger_close()

    def linger_close(self):
        """Closes after the last ERROR; waits at most 2 s for it to be read."""
        try:
            self.conn.sock.shutdown(socket.SHUT_WR)
            self.conn.sock.settimeout(2.0)
            end = time.monotonic() + 2.0
            while time.monotonic() < end and self.conn.sock.recv(65536):
                pass
        except OSError:
            pass
        self.conn.close()

    def run(self):
        try:
            while True:
                try:
                    m = self.conn.recv(timeout=IDLE_S, frame_timeout=FRAME_S)
                except (socket.timeout, TimeoutError):
                    return self.refuse(w.E_TIMEOUT, "idle or frame not completed", close=True)
                except w.ProtocolError as e:
                    self.peer.counters.add("bad_frames")
                    return self.refuse(e.code, e.text, close=True)
                if not self.dispatch(m):
                    return
        except (w.Closed, OSError) as e:
            if not isinstance(e, w.Closed):
                log(f"connection lost: {e!r}")
            self.conn.close()

    def dispatch(self, m):
        c = self.peer.counters
        if isinstance(m, w.ManifestRequest):
            c.add("manifests")
            self.manifest(m)
        elif isinstance(m, w.ChunkRequest):
            c.add("chunk_requests")
            self.chunk(m)
        elif isinstance(m, w.Stats):
            c.add("stats")
            pairs = sorted(self.peer.counters.snapshot().items())
            pairs = [(b"features", 0), (b"files", len(self.peer.files))] + \
                [(k.encode(), v) for k, v in pairs]
            self.conn.send(w.StatsReply(pairs[:w.MAX_STATS]))
        elif isinstance(m, w.Ping):
            c.add("pings")
            self.conn.send(w.Pong(m.token))
        else:  # ROLES: every other type, PONG included, is error 3
            self.refuse(w.E_UNKNOWN_TYPE, f"type 0x{m.TYPE:02x} is not for a peer", close=True)
            return False
        return True

    def manifest(self, m):
        f = self.peer.files.get(m.name)
        if f is None:
            return self.refuse(w.E_NOT_FOUND, "not shared")
        count = len(f.chunk_hashes)
        if (count == 0 and m.first_chunk != 0) or (count > 0 and m.first_chunk >= count):
            return self.refuse(w.E_BAD_RANGE, "first_chunk not below the number of chunks")
        page = f.chunk_hashes[m.first_chunk:m.first_chunk + self.peer.manifest_page]
        self.conn.send(w.Manifest(f.name, f.size, w.INDEX_CHUNK_SIZE, f.content_hash,
                                  count, m.first_chunk, page))

    def chunk(self, m):
        f = self.peer.files.get(m.name)
        if f is None:
            return self.refuse(w.E_NOT_FOUND, "not shared", ref=m.id)
        if m.content_hash != f.content_hash:
            return self.refuse(w.E_CHANGED, "no longer has that content hash", ref=m.id)
        if m.length > w.MAX_CHUNK_REQUEST or m.offset + m.length > f.size:
            return self.refuse(w.E_BAD_RANGE, "outside the file or above 16 MiB", ref=m.id)
        try:
            fd = os.open(f.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE):
                return self.refuse(w.E_BUSY, "out of descriptors", ref=m.id)
            return self.refuse(w.E_CHANGED, "file is gone", ref=m.id)
        try:
            if f.changed(os.fstat(fd)):
                return self.refuse(w.E_CHANGED, "changed on disk since hashed", ref=m.id)
            self.conn.send(w.ChunkData(m.id, m.offset, m.length))
            self.sendfile(fd, m.offset, m.length)
            self.peer.counters.add("chunks_served")
            self.peer.counters.add("bytes_sent", m.length)
        finally:
            os.close(fd)

    def sendfile(self, fd, offset, length):
        """The raw bytes, zero-copy; a client not reading for 60 s is dropped.
        (A Python socket with a timeout is non-blocking underneath: wait for
        it to drain on EAGAIN.)"""
        sock = self.conn.sock
        while length > 0:
            try:
                n = os.sendfile(sock.fileno(), fd, offset, length)
            except BlockingIOError:
                if not select.select([], [sock], [], IDLE_S)[1]:
                    raise OSError("client not reading for 60 s")
                continue
            if n == 0:
                raise OSError("file shrank while served")
            offset += n
            length -= n


class Peer:
    def __init__(self, root, port, key, page_bytes, manifest_page=w.MAX_MANIFEST_HASHES):
        self.manifest_page = manifest_page
        self.files = scan(root)
        self.port = port
        self.key = key
        self.page_bytes = page_bytes
        self.counters = Counters()
        self.active = 0
        self.lock = threading.Lock()

    def listen(self):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", self.port))
        s.listen(128)
        return s

    def serve_forever(self, listener):
        while True:
            sock, _ = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.session, args=(sock,), daemon=True).start()

    def session(self, sock):
        with self.lock:
            full = self.active >= MAX_CONNECTIONS
            if not full:
                self.active += 1
        s = Session(self, sock)
        if full:  # LIMITS ON CONNECTIONS: ERROR 12 and close
            return s.refuse(w.E_BUSY, "too many connections", close=True)
        try:
            s.run()
        finally:
            with self.lock:
                self.active -= 1


def parse_hostport(text, default_port=60000):
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default_port


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-d", "--dir", required=True)
    ap.add_argument("-i", "--index", default="127.0.0.1:60000")
    ap.add_argument("-p", "--port", type=int, required=True)
    ap.add_argument("--secret-file")
    ap.add_argument("--page-bytes", type=int, default=w.MAX_PAYLOAD,
                    help="payload budget per REGISTER/UPDATE frame (to force UPDATE pages)")
    ap.add_argument("--manifest-page", type=int, default=w.MAX_MANIFEST_HASHES,
                    help="hashes per MANIFEST page (fewer than 16384 to make clients page)")
    a = ap.parse_args()
    key = w.read_secret_file(a.secret_file) if a.secret_file else None
    peer = Peer(a.dir, a.port, key, min(a.page_bytes, w.MAX_PAYLOAD),
                max(1, min(a.manifest_page, w.MAX_MANIFEST_HASHES)))
    listener = peer.listen()
    link = IndexLink(peer, *parse_hostport(a.index))

    def stop(signum, frame):
        link.unregister()
        time.sleep(0.2)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    link.start()
    log(f"serving {len(peer.files)} files on port {a.port}")
    peer.serve_forever(listener)


if __name__ == "__main__":
    main()

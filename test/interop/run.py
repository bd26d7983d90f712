#!/usr/bin/env python3
"""Interop scenarios: the Python client and peer (written from
p2p-protocol(7) alone) against the real indexd, peerd and p2pget found in
$P2P_BIN_DIR, on free loopback ports. Exit 0 when every check passes.

  (a) Python client downloads multi-chunk files from real peerd via indexd;
      STATS (features, ttl_ms), PING, LIST paging to the end.
  (b) real p2pget downloads from the Python peer, and from the Python peer
      and real peerd together.
  (c) (a) and (b) again in a closed cluster; strangers are refused.
  (d) the Python peer and real peerd answer the same bad requests the same
      way, as the page says (codes, ref, connection kept or closed).
"""

import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import p2p_wire as w  # noqa: E402
import p2p_client as pc  # noqa: E402

TTL_S = 3  # short, so the Python peer must ping at TTL/3 to stay registered
MiB = 1 << 20


class Failures:
    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"  FAIL {what}", flush=True)
        return cond


CHECK = Failures()
check = CHECK.check


def note(text):
    print(f"  note {text}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while True:
        try:
            if pred():
                return True
        except (OSError, w.Closed, w.ProtocolError, pc.IndexFailed):
            pass
        if time.monotonic() > end:
            return False
        time.sleep(step)


def die_with_parent():
    """preexec_fn: the child gets SIGKILL if this runner dies (prctl
    PR_SET_PDEATHSIG), so a killed runner leaves no daemons behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Proc:
    """A child process with its output in a log file, stopped by its PID."""

    all = []

    def __init__(self, name, argv, logdir):
        self.name = name
        self.log = os.path.join(logdir, name + ".log")
        with open(self.log, "wb") as f:
            self.p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      preexec_fn=die_with_parent)
        Proc.all.append(self)

    def stop(self, timeout=10.0):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.p.pid, signal.SIGKILL)
            self.p.wait()
            return None

    def tail(self, n=15):
        with open(self.log, "rb") as f:
            return b"".join(f.readlines()[-n:]).decode(errors="replace")


def run(argv, timeout=45.0):
    r = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                       preexec_fn=die_with_parent)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def write_random(path, size, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, MiB)
            f.write(rnd.randbytes(n))
            left -= n


def same_file(a, b):
    try:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()
    except OSError:
        return False


# ---------------------------------------------------------------- the world

class World:
    def __init__(self, top):
        self.top = top
        self.bin = os.environ.get("P2P_BIN_DIR")
        if not self.bin:
            sys.exit("run.py: set P2P_BIN_DIR to the directory holding indexd, peerd, p2pget")
        for prog in ("indexd", "peerd", "p2pget"):
            if not os.access(os.path.join(self.bin, prog), os.X_OK):
                sys.exit(f"run.py: {self.bin}/{prog} is not an executable")
        self.make_data()
        self.make_secrets()

    def make_data(self):
        t = self.top
        self.real = os.path.join(t, "real")
        self.py = os.path.join(t, "py")
        write_random(f"{self.real}/big.bin", 5 * MiB + 4321, 1)        # 3 chunks
        write_random(f"{self.real}/shared.bin", 9 * MiB + 99, 2)       # 5 chunks
        write_random(f"{self.real}/mutable.bin", 1 * MiB, 3)
        open(f"{self.real}/empty.txt", "wb").close()
        write_random(f"{self.py}/pyfile.bin", 5 * MiB + 777, 4)        # 3 chunks
        shutil.copy(f"{self.real}/shared.bin", f"{self.py}/shared.bin")
        write_random(f"{self.py}/mutable.bin", 1 * MiB, 3)
        open(f"{self.py}/empty.txt", "wb").close()
        write_random(f"{self.py}/sub/deep/note.txt", 1000, 5)
        for i in range(40):  # enough entries for REGISTER + several UPDATEs
            write_random(f"{self.py}/many/f{i:03d}.dat", 10 + i, 100 + i)
        write_random(f"{self.py}/.hidden/secret.txt", 10, 6)
        write_random(f"{self.py}/.dotfile", 10, 7)
        os.symlink("pyfile.bin", f"{self.py}/link.bin")
        # Two versions under one name, one holder each: the tie goes to the
        # larger size (sized.bin), then to the smaller content hash (tie.bin).
        write_random(f"{self.real}/tie.bin", MiB + 1, 10)
        write_random(f"{self.py}/tie.bin", MiB + 1, 11)
        write_random(f"{self.real}/sized.bin", 1000, 12)
        write_random(f"{self.py}/sized.bin", 2000, 13)
        self.py_names = {"pyfile.bin", "shared.bin", "mutable.bin", "empty.txt", "sub/deep/note.txt",
                         "tie.bin", "sized.bin"} | {f"many/f{i:03d}.dat" for i in range(40)}
        self.real_names = {"big.bin", "shared.bin", "mutable.bin", "empty.txt", "tie.bin", "sized.bin"}

    def make_secrets(self):
        key = os.urandom(32)
        self.key = key
        self.secret_raw = os.path.join(self.top, "secret.raw")       # 32 raw bytes
        self.secret_crlf = os.path.join(self.top, "secret.crlf")     # HEX + CR LF
        self.secret_lf = os.path.join(self.top, "secret.lf")         # hex + LF
        with open(self.secret_raw, "wb") as f:
            f.write(key)
        with open(self.secret_crlf, "wb") as f:
            f.write(key.hex().upper().encode() + b"\r\n")
        with open(self.secret_lf, "wb") as f:
            f.write(key.hex().encode() + b"\n")
        for p in (self.secret_raw, self.secret_crlf, self.secret_lf):
            os.chmod(p, 0o600)

    def prog(self, name):
        return os.path.join(self.bin, name)


class Cluster:
    """indexd + real peerd + Python peer, optionally closed."""

    def __init__(self, world, label, closed):
        self.world, self.label, self.closed = world, label, closed
        self.key = world.key if closed else None
        self.logs = os.path.join(world.top, label)
        os.makedirs(self.logs)
        self.ip, self.rp, self.pp = free_port(), free_port(), free_port()
        self.index = ("127.0.0.1", self.ip)
        idx = f"127.0.0.1:{self.ip}"
        sec = lambda f: ["--secret-file", f] if closed else []  # noqa: E731
        self.indexd = Proc("indexd", [world.prog("indexd"), "-l", "127.0.0.1", "-p", str(self.ip),
                                      "-t", str(TTL_S), "-v"] + sec(world.secret_crlf), self.logs)
        if not wait_until(lambda: socket.create_connection(self.index, 0.5).close() or True):
            raise SystemExit(f"{label}: indexd did not start:\n{self.indexd.tail()}")
        # peerd keeps its state in DIR/.peerd: give each cluster its own copy.
        self.real_dir = os.path.join(self.logs, "real")
        shutil.copytree(world.real, self.real_dir, symlinks=True)
        # Capped so that peerd alone cannot serve shared.bin (9 MiB) before the
        # Python peer, slower on a loaded machine, answers p2pget's first request.
        self.peerd = Proc("peerd", [world.prog("peerd"), "-d", self.real_dir, "-p", str(self.rp),
                                    "-i", idx, "--rate-limit", "8M"] + sec(world.secret_raw), self.logs)
        self.pypeer = Proc("pypeer", [sys.executable, os.path.join(HERE, "p2p_peer.py"), "-d", world.py,
                                      "-p", str(self.pp), "-i", idx, "--page-bytes", "600", "--manifest-page", "2"]
                           + sec(world.secret_lf), self.logs)
        self.started = time.monotonic()

    def holders(self, name):
        r = pc.index_ask(self.index, self.key, w.Lookup(name.encode()), w.LookupReply)
        return {h.port for h in r.holdings}

    def listed(self):
        entries, _ = pc.list_all(self.index, self.key, 4096)
        return {e.name.decode() for e in entries}

    def wait_ready(self):
        want = self.world.py_names | self.world.real_names
        ok = wait_until(lambda: self.listed() >= want and self.holders("shared.bin") == {self.rp, self.pp},
                        timeout=20.0, step=0.1)
        if not check(ok, f"{self.label}: real peerd and Python peer registered every file"):
            raise SystemExit(f"not ready\n--- indexd\n{self.indexd.tail()}\n--- peerd\n{self.peerd.tail()}"
                             f"\n--- pypeer\n{self.pypeer.tail()}")
        self.registered_at = time.monotonic()

    def client_args(self):
        return ["-i", f"127.0.0.1:{self.ip}"] + (["--secret-file", self.world.secret_raw] if self.closed else [])

    def stop(self):
        # The peers first (they unregister), then the index.
        for p in (self.pypeer, self.peerd, self.indexd):
            rc = p.stop()
            check(rc == 0, f"{self.label}: {p.name} stopped by SIGTERM exits 0 (got {rc})")


# ---------------------------------------------------------------- scenarios

def python_client_downloads(cl, names, sources):
    out = os.path.join(cl.logs, "pyclient-out")
    rc, so, se = run([sys.executable, os.path.join(HERE, "p2p_client.py"), "get", "-o", out]
                     + cl.client_args() + names)
    check(rc == 0, f"{cl.label}: Python client get {' '.join(names)} exits 0 (got {rc}) {se.strip()}")
    results = {json.loads(line)["name"]: json.loads(line) for line in so.splitlines() if line.strip()}
    for n in names:
        check(same_file(os.path.join(out, n), os.path.join(sources[n], n)),
              f"{cl.label}: Python client's {n} is byte-identical to the source")
    return results


def index_and_peer_basics(cl):
    w_ = cl.world
    st = pc.ask_stats(cl.index, cl.key)
    check(st.get("ttl_ms") == TTL_S * 1000, f"{cl.label}: index STATS ttl_ms = {st.get('ttl_ms')}")
    # The page's Feature bits: an index states bit 0 (partial holders).
    check(st.get("features") == 1, f"{cl.label}: index STATS states key features = 1 "
                                   f"(got {st.get('features')})")
    # peerd states bits 1 and 2 (chunk maps, spare requests); the Python
    # peer speaks none.
    for label, port, bits in (("real peerd", cl.rp, 6), ("Python peer", cl.pp, 0)):
        pst = pc.ask_stats(("127.0.0.1", port), cl.key)
        check(pst.features() == bits, f"{cl.label}: {label} STATS features = {bits}")
        if pst.get("features") is None:
            note(f"{cl.label}: {label}'s STATS_REPLY has no 'features' key (the page: "
                 f"'indexd, peerd and p2pget state features 0'; 'a reply without the key means 0')")
        check(pc.ask_ping(("127.0.0.1", port), cl.key), f"{cl.label}: {label} answers PING with its token")
    check(pc.ask_ping(cl.index, cl.key), f"{cl.label}: index answers PING with its token")
    entries, pages = pc.list_all(cl.index, cl.key, limit=7)
    names = [e.name.decode() for e in entries]
    want = w_.py_names | w_.real_names
    check(set(names) == want, f"{cl.label}: LIST paged (limit 7) to the end lists exactly the shared names")
    check(pages >= len(want) // 7, f"{cl.label}: LIST took {pages} pages")
    check(names == sorted(names, key=str.encode), f"{cl.label}: LIST entries in byte order")
    shared = [e for e in entries if e.name == b"shared.bin"]
    check(len(shared) == 1 and shared[0].peers == 2, f"{cl.label}: LIST counts 2 peers for shared.bin")
    # "limit counts names, not entries": one name after note.txt, both versions.
    c = w.Conn.connect(*cl.index, key=cl.key)
    try:
        page = c.ask(w.ListReq(b"sub/deep/note.txt", 1))
    finally:
        c.close()
    check(isinstance(page, w.ListReply) and [e.name for e in page.entries] == [b"tie.bin"] * 2,
          f"{cl.label}: LIST limit 1 after sub/deep/note.txt gives both versions of tie.bin")
    ties = [e for e in entries if e.name == b"tie.bin"]
    check(len(ties) == 2 and all(e.peers == 1 for e in ties), f"{cl.label}: LIST has one entry per version of tie.bin")


def p2pget_downloads(cl, names, sources, both_peers=()):
    out = os.path.join(cl.logs, "p2pget-out")
    rc, so, se = run([cl.world.prog("p2pget"), "-q", "--json", "-o", out] + cl.client_args() + names)
    check(rc == 0, f"{cl.label}: p2pget {' '.join(names)} exits 0 (got {rc}) {se.strip()}")
    results = {}
    for line in so.splitlines():
        if line.strip():
            r = json.loads(line)
            results[r["name"]] = r
    for n in names:
        check(same_file(os.path.join(out, n), os.path.join(sources[n], n)),
              f"{cl.label}: p2pget's {n} from the Python peer is byte-identical")
    for n in both_peers:
        peers = {p["peer"]: p["bytes"] for p in results.get(n, {}).get("peers", [])}
        real, py = f"127.0.0.1:{cl.rp}", f"127.0.0.1:{cl.pp}"
        got = {"real peerd": peers.get(real), "Python peer": peers.get(py)}
        check(set(peers) == {real, py} and all(v > 0 for v in peers.values()),
              f"{cl.label}: p2pget took {n} from the Python peer and real peerd together {got}")


def page_choice(world, cl, name):
    """The version the page's rule picks from the two holdings of name."""
    hs = []
    for d, port in ((cl.real_dir, cl.rp), (world.py, cl.pp)):
        size, h, _ = w.hash_file(os.path.join(d, name))
        hs.append(w.Holding(b"", port, size, h))
    size, h = w.choose_version(hs)
    return next(os.path.join(d, name) for d, x in ((cl.real_dir, hs[0]), (world.py, hs[1]))
                if (x.size, x.content_hash) == (size, h))


def both_clients_pick_the_same_version(world, cl):
    names = ["tie.bin", "sized.bin"]
    py_out, get_out = os.path.join(cl.logs, "pick-py"), os.path.join(cl.logs, "pick-p2pget")
    rc1, _, e1 = run([sys.executable, os.path.join(HERE, "p2p_client.py"), "get", "-o", py_out]
                     + cl.client_args() + names)
    rc2, so, e2 = run([cl.world.prog("p2pget"), "-q", "--json", "-o", get_out] + cl.client_args() + names)
    check(rc1 == 0 and rc2 == 0, f"{cl.label}: both clients download tie.bin and sized.bin ({rc1}, {rc2}) {e1}{e2}")
    versions = {json.loads(x)["name"]: json.loads(x).get("versions") for x in so.splitlines() if x.strip()}
    for n in names:
        want = page_choice(world, cl, n)
        check(same_file(os.path.join(py_out, n), want), f"{cl.label}: Python client took the page's version of {n}")
        check(same_file(os.path.join(get_out, n), want), f"{cl.label}: p2pget took the page's version of {n}")
        check(versions.get(n) == 2, f"{cl.label}: p2pget saw 2 versions of {n}")


def stranger_refused(cl):
    """Closed cluster: programs without the secret are refused (run at once)."""
    p = subprocess.Popen([cl.world.prog("p2pget"), "-q", "-i", f"127.0.0.1:{cl.ip}", "-o",
                          os.path.join(cl.logs, "stranger"), "pyfile.bin"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         preexec_fn=die_with_parent)
    q = subprocess.Popen([sys.executable, os.path.join(HERE, "p2p_client.py"), "get", "-i",
                          f"127.0.0.1:{cl.ip}", "-o", os.path.join(cl.logs, "stranger2"), "big.bin"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         preexec_fn=die_with_parent)
    wrong = os.path.join(cl.logs, "wrong.secret")
    with open(wrong, "wb") as f:
        f.write(os.urandom(32))
    rc3, _, _ = run([sys.executable, os.path.join(HERE, "p2p_client.py"), "get", "-i",
                     f"127.0.0.1:{cl.ip}", "--secret-file", wrong, "-o", os.path.join(cl.logs, "s3"), "big.bin"])
    rc1, rc2 = p.wait(30), q.wait(30)
    check(rc1 == 4, f"{cl.label}: p2pget without the secret exits 4 (got {rc1})")
    check(rc2 == 4, f"{cl.label}: Python client without the secret exits 4 (got {rc2})")
    check(rc3 == 4, f"{cl.label}: Python client with another secret exits 4 (got {rc3})")


# (d): the same requests to both peers; answers compared with the page.

def probe_peer(port, key, files):
    """Sends the page's refusable requests on one connection, pipelined, and
    a few that close. Returns a list of (label, observed) pairs."""
    big, big_h, size = files["mutable"], files["mutable_hash"], files["mutable_size"]
    shared_h = files["shared_hash"]
    shared_size = files["shared_size"]
    nchunks = -(-shared_size // w.INDEX_CHUNK_SIZE)
    reqs = [
        ("offset+length beyond the end", w.ChunkRequest(101, b"shared.bin", shared_h, shared_size - 10, 11)),
        ("length above 16 MiB", w.ChunkRequest(102, b"shared.bin", shared_h, 0, w.MAX_CHUNK_REQUEST + 1)),
        ("length above 16 MiB at offset 0 of a bigger window", w.ChunkRequest(103, b"shared.bin", shared_h, 0, 0xFFFFFFFF)),
        ("offset past the end, length 0", w.ChunkRequest(104, b"shared.bin", shared_h, shared_size + 1, 0)),
        ("length 0 at the end", w.ChunkRequest(105, b"shared.bin", shared_h, shared_size, 0)),
        ("name not shared", w.ChunkRequest(106, b"nope.bin", shared_h, 0, 10)),
        ("another content hash", w.ChunkRequest(107, b"shared.bin", b"\x01" * 32, 0, 10)),
        ("changed on disk since hashed", w.ChunkRequest(108, big, big_h, 0, 10)),
        ("unaligned range in the file", w.ChunkRequest(109, b"shared.bin", shared_h, 12345, 1000)),
        ("MANIFEST from chunk 3", w.ManifestRequest(b"shared.bin", 3)),
        ("MANIFEST of a name not shared", w.ManifestRequest(b"nope.bin", 0)),
        ("MANIFEST first_chunk = chunk count", w.ManifestRequest(b"shared.bin", nchunks)),
        ("MANIFEST of a 0-byte file", w.ManifestRequest(b"empty.txt", 0)),
        ("MANIFEST of a 0-byte file, first_chunk 1", w.ManifestRequest(b"empty.txt", 1)),
        ("PING after all that", w.Ping(99)),
    ]
    seen = []
    c = w.Conn.connect("127.0.0.1", port, key=key)
    try:
        c.send(*[m for _, m in reqs])  # pipelined in one write
        for label, req in reqs:
            m = c.recv(10.0)
            if isinstance(m, w.Error):
                seen.append((label, ("ERROR", m.code, m.ref)))
            elif isinstance(m, w.ChunkData):
                data = c.recv_raw(m.length)
                ok = data == files["shared_bytes"][m.offset:m.offset + m.length]
                seen.append((label, ("CHUNK_DATA", m.id, m.offset, m.length, ok)))
            elif isinstance(m, w.Manifest) and m.size == 0:
                seen.append((label, ("MANIFEST", m.size, m.chunk_count, len(m.hashes), m.content_hash == w.EMPTY_HASH)))
            elif isinstance(m, w.Manifest):
                # Pages may be short (the Python peer sends 2 hashes a page):
                # compare the first hash of the page and where it starts.
                want = files["shared_chunks"][m.first_chunk:m.first_chunk + len(m.hashes)]
                seen.append((label, ("MANIFEST", m.chunk_size, m.chunk_count, m.first_chunk,
                                     bool(m.hashes) and m.hashes == want)))
            else:
                seen.append((label, (type(m).__name__, getattr(m, "token", None))))
    finally:
        c.close()
    for label, frame in (("invalid name (..) in CHUNK_REQUEST",
                          w.encode_frame(w.ChunkRequest(7, b"../x", shared_h, 0, 1))),
                         ("a PONG to a peer", w.encode_frame(w.Pong(1))),
                         ("bad magic", b"XY\x01\x0a\x00\x00\x00\x08" + bytes(8))):
        seen.append((label, closing_probe(port, key, frame)))
    return seen


def closing_probe(port, key, frame):
    c = w.Conn.connect("127.0.0.1", port, key=key)
    try:
        if key and frame[:2] == w.MAGIC:
            frame += c.auth.seal(frame)
        c.send_raw(frame)
        m = c.recv(10.0)
        code = m.code if isinstance(m, w.Error) else type(m).__name__
        return ("ERROR", code, m.ref if isinstance(m, w.Error) else None, "closed" if c.closed_by_peer(5) else "open")
    except (w.Closed, OSError, w.ProtocolError) as e:
        return ("no ERROR", repr(e))
    finally:
        c.close()


EXPECTED = {
    "offset+length beyond the end": ("ERROR", 11, 101),
    "length above 16 MiB": ("ERROR", 11, 102),
    "length above 16 MiB at offset 0 of a bigger window": ("ERROR", 11, 103),
    "offset past the end, length 0": ("ERROR", 11, 104),
    "name not shared": ("ERROR", 9, 106),
    "another content hash": ("ERROR", 10, 107),
    "changed on disk since hashed": ("ERROR", 10, 108),
    "MANIFEST from chunk 3": ("MANIFEST", w.INDEX_CHUNK_SIZE, 5, 3, True),
    "MANIFEST of a name not shared": ("ERROR", 9, 0),
    "MANIFEST first_chunk = chunk count": ("ERROR", 11, 0),
    "MANIFEST of a 0-byte file": ("MANIFEST", 0, 0, 0, True),
    "MANIFEST of a 0-byte file, first_chunk 1": ("ERROR", 11, 0),
    "PING after all that": ("Pong", 99),
    "invalid name (..) in CHUNK_REQUEST": ("ERROR", 6, 0, "closed"),
    "a PONG to a peer": ("ERROR", 3, 0, "closed"),
    "bad magic": ("ERROR", 1, 0, "closed"),
}


def expected_for(label, files):
    if label == "length 0 at the end":
        return ("CHUNK_DATA", 105, files["shared_size"], 0, True)
    if label == "unaligned range in the file":
        return ("CHUNK_DATA", 109, 12345, 1000, True)
    return EXPECTED[label]


def peers_answer_alike(cl, files):
    results = {}

    def one(label, port):
        results[label] = probe_peer(port, cl.key, files)

    ts = [threading.Thread(target=one, args=a) for a in (("real peerd", cl.rp), ("Python peer", cl.pp))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    real, py = dict(results["real peerd"]), dict(results["Python peer"])
    for label, _ in results["real peerd"]:
        want = expected_for(label, files)
        check(real[label] == want, f"{cl.label}: real peerd, {label}: {real[label]}")
        check(py[label] == want, f"{cl.label}: Python peer, {label}: {py[label]}")


def spare_requests(cl, files):
    """The page's CHUNK_REQUEST_SPARE at the real peerd: chunk 0 sent on one
    connection is ERROR 19 (taken), ref = id, on another within 5 s, which
    stays open and is answered next; it is never taken on the connection it
    went to, nor is a plain CHUNK_REQUEST."""
    n = min(files["shared_size"], w.INDEX_CHUNK_SIZE)
    h = files["shared_hash"]
    a = w.Conn.connect("127.0.0.1", cl.rp, key=cl.key)
    b = w.Conn.connect("127.0.0.1", cl.rp, key=cl.key)
    try:
        a.send(w.ChunkRequest(1, b"shared.bin", h, 0, n), w.ChunkRequestSpare(4, b"shared.bin", h, 0, n))
        for i in (1, 4):
            m = a.recv(10.0)
            got = isinstance(m, w.ChunkData) and m.id == i and a.recv_raw(m.length) == files["shared_bytes"][:n]
            check(got, f"{cl.label}: chunk 0, request {i}: CHUNK_DATA, right bytes")
        b.send(w.ChunkRequestSpare(2, b"shared.bin", h, 0, n), w.ChunkRequest(3, b"shared.bin", h, 0, n))
        m = b.recv(10.0)
        check(isinstance(m, w.Error) and (m.code, m.ref) == (w.E_TAKEN, 2),
              f"{cl.label}: spare request for a chunk just sent elsewhere: ERROR 19, ref 2 ({m})")
        m = b.recv(10.0)
        got = isinstance(m, w.ChunkData) and m.id == 3 and b.recv_raw(m.length) == files["shared_bytes"][:n]
        check(got, f"{cl.label}: then the plain request on that connection: CHUNK_DATA, right bytes")
    finally:
        a.close()
        b.close()


def mac_refusals(cl):
    """Closed cluster: a frame with a wrong MAC, and one with none, get
    ERROR 16 (itself MAC'd) and the close, at both peers and the index."""
    targets = (("real peerd", cl.rp), ("Python peer", cl.pp), ("index", cl.ip))
    out = {}

    def one(label, port, how):
        c = w.Conn.connect("127.0.0.1", port, key=cl.key)
        try:
            frame = w.encode_frame(w.Ping(1))
            c.send_raw(frame + (bytes(32) if how == "wrong" else b""))
            m = c.recv(6.0)  # verifies the ERROR's own MAC
            out[(label, how)] = (m.code if isinstance(m, w.Error) else m, c.closed_by_peer(5))
        except Exception as e:  # noqa: BLE001 - reported as the outcome
            out[(label, how)] = repr(e)
        finally:
            c.close()

    ts = [threading.Thread(target=one, args=(lb, p, how)) for lb, p in targets for how in ("wrong", "none")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for (label, how), got in sorted(out.items()):
        check(got == (16, True), f"{cl.label}: {label}, frame with {how} MAC: ERROR 16 MAC'd, then closed ({got})")


def still_registered(cl):
    # Outlive the TTL by half again: only PINGs at TTL/3 keep the peer listed.
    time.sleep(max(0.0, cl.registered_at + 1.5 * TTL_S - time.monotonic()))
    alive = time.monotonic() - cl.registered_at
    check(cl.holders("pyfile.bin") == {cl.pp},
          f"{cl.label}: Python peer still registered after {alive:.1f} s (TTL {TTL_S} s)")
    st = pc.ask_stats(cl.index, cl.key)
    check(st.get("expired") == 0, f"{cl.label}: index expired no peer (expired={st.get('expired')})")


def scenario(world, label, closed):
    print(f"== {label} cluster", flush=True)
    cl = Cluster(world, label, closed)
    try:
        cl.wait_ready()
        real_src = {n: cl.real_dir for n in world.real_names}
        py_src = {n: world.py for n in world.py_names}
        python_client_downloads(cl, ["big.bin", "shared.bin"], real_src)
        index_and_peer_basics(cl)
        p2pget_downloads(cl, ["pyfile.bin", "empty.txt", "sub/deep/note.txt", "shared.bin"],
                         {**py_src}, both_peers=["shared.bin"])
        both_clients_pick_the_same_version(world, cl)
        files = probe_files(world, cl)
        peers_answer_alike(cl, files)
        spare_requests(cl, files)
        if closed:
            mac_refusals(cl)
            stranger_refused(cl)
        still_registered(cl)
    finally:
        cl.stop()


def probe_files(world, cl):
    """mutable.bin is rewritten in place (same size) in both peers' folders
    after they hashed it, so a request with the old hash must get CHANGED."""
    _, h, _ = w.hash_file(os.path.join(world.py, "mutable.bin"))
    for d in (world.py, cl.real_dir):
        with open(os.path.join(d, "mutable.bin"), "r+b") as f:
            f.write(b"changed!")
    with open(os.path.join(world.py, "shared.bin"), "rb") as f:
        shared = f.read()
    _, sh, chunks = w.hash_file(os.path.join(world.py, "shared.bin"))
    return {"mutable": b"mutable.bin", "mutable_hash": h, "mutable_size": 1 * MiB,
            "shared_hash": sh, "shared_size": len(shared), "shared_bytes": shared, "shared_chunks": chunks}


def secret_formats(world):
    """CLOSED CLUSTERS: "exactly 32 bytes, or 64 hexadecimal digits (either
    case) optionally followed by a newline (LF or CR LF); anything else is
    refused". p2pget tells: exit 2 for a refused file, 4 (no index at port 1)
    for an accepted one. What the page accepts must be accepted; what it
    refuses but the programs accept is reported, and fails with
    P2P_INTEROP_STRICT=1."""
    print("== secret file formats", flush=True)
    k = bytes(range(1, 33))
    hx = k.hex().encode()
    cases = [("32 raw bytes", k, True), ("64 hex digits", hx, True), ("64 HEX + LF", hx.upper() + b"\n", True),
             ("64 hex + CR LF", hx + b"\r\n", True),
             ("32 raw bytes + LF", k + b"\n", False), ("64 hex + CR", hx + b"\r", False),
             ("64 hex + LF LF", hx + b"\n\n", False), ("64 hex + space", hx + b" ", False),
             ("63 hex + LF", hx[:63] + b"\n", False), ("empty", b"", False)]
    strict = os.environ.get("P2P_INTEROP_STRICT") == "1"
    path = os.path.join(world.top, "secret.case")
    for label, data, accepted in cases:
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o600)
        try:
            ours = w.parse_secret(data) == k
        except ValueError:
            ours = False
        check(ours == accepted, f"secret '{label}': Python reads it as the page says ({ours})")
        rc, _, err = run([world.prog("p2pget"), "-q", "--lookup", "x", "-i", "127.0.0.1:1",
                          "--secret-file", path], timeout=20)
        theirs = {2: False, 4: True}.get(rc)
        if theirs == accepted or (not strict and accepted is False and theirs is True):
            check(True, f"secret '{label}': p2pget {'accepts' if theirs else 'refuses'} it (exit {rc})")
            if theirs != accepted:
                note(f"secret '{label}': the page says refused, p2pget accepts it (exit {rc})")
        else:
            check(False, f"secret '{label}': p2pget exit {rc}, page says {'accepted' if accepted else 'refused'}")


def on_signal(signum, frame):
    raise SystemExit(f"run.py: stopped by signal {signum}")


def main():
    # A bound of our own, well inside the Catch2 test's, so that the daemons
    # are always stopped by us.
    signal.signal(signal.SIGALRM, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.alarm(int(os.environ.get("P2P_INTEROP_LIMIT_S", "150")))
    t0 = time.monotonic()
    top = tempfile.mkdtemp(prefix="p2p-interop-")
    keep = os.environ.get("P2P_INTEROP_KEEP")
    try:
        world = World(top)
        secret_formats(world)
        scenario(world, "open", closed=False)
        # mutable.bin was changed: rewrite it so the closed cluster starts clean.
        write_random(f"{world.py}/mutable.bin", 1 * MiB, 3)
        write_random(f"{world.real}/mutable.bin", 1 * MiB, 3)
        scenario(world, "closed", closed=True)
    finally:
        for p in Proc.all:
            if p.p.poll() is None:
                p.stop(5)
        if keep:
            print(f"kept {top}")
        else:
            shutil.rmtree(top, ignore_errors=True)
    took = time.monotonic() - t0
    if CHECK.failed:
        print(f"interop: {len(CHECK.failed)} of {CHECK.passed + len(CHECK.failed)} checks FAILED "
              f"in {took:.1f} s:")
        for f in CHECK.failed:
            print(f"  - {f}")
        return 1
    print(f"interop: all {CHECK.passed} checks passed in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

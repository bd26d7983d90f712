#!/usr/bin/env python3
"""A client written from p2p-protocol(7) alone.

    p2p_client.py get   -i HOST:PORT [--secret-file F] [-o DIR] NAME...
    p2p_client.py list  -i HOST:PORT [--secret-file F] [--limit N]
    p2p_client.py stats HOST:PORT [--secret-file F]
    p2p_client.py ping  HOST:PORT [--secret-file F]

get: LOOKUP at the index, take the version the page says, STATS + MANIFEST
(every page) from a holder, check the content hash, fetch every chunk with
pipelined CHUNK_REQUESTs, check each chunk hash, write DIR/NAME.
Exit status as p2pget(1): 0 ok, 1 a download failed, 3 not in the index,
4 index unreachable or refused us.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p2p_wire as w  # noqa: E402
from p2p_peer import parse_hostport  # noqa: E402

DEPTH = 4  # chunk requests in flight per connection


class Failed(Exception):
    pass


class IndexFailed(Exception):
    pass


def index_ask(index, key, msg, want):
    """One request to the index on a fresh connection; the reply of type want."""
    try:
        c = w.Conn.connect(*index, key=key)
    except OSError as e:
        raise IndexFailed(f"cannot connect: {e}")
    try:
        m = c.ask(msg, timeout=15.0)
    except (OSError, w.Closed, w.ProtocolError) as e:
        raise IndexFailed(f"no reply: {e}")
    finally:
        c.close()
    if isinstance(m, w.Error):
        raise IndexFailed(f"index refused us: error {m.code} ({w.ERROR_NAMES.get(m.code)})")
    if not isinstance(m, want):
        raise IndexFailed(f"unexpected reply {m}")
    return m


def list_all(index, key, limit=4096):
    """LIST paging to the end: (entries, pages)."""
    after, entries, pages = b"", [], 0
    c = w.Conn.connect(*index, key=key)
    try:
        while True:
            m = c.ask(w.ListReq(after, limit), timeout=15.0)
            if not isinstance(m, w.ListReply):
                raise IndexFailed(f"unexpected reply to LIST: {m}")
            pages += 1
            entries += m.entries
            if not m.more:
                return entries, pages
            if not m.entries:
                raise IndexFailed("LIST_REPLY with more = 1 and no entries")
            after = m.entries[-1].name
    finally:
        c.close()


def ask_stats(addr, key):
    c = w.Conn.connect(*addr, key=key)
    try:
        m = c.ask(w.Stats())
        if not isinstance(m, w.StatsReply):
            raise Failed(f"unexpected reply to STATS: {m}")
        return m
    finally:
        c.close()


def ask_ping(addr, key, token=0x0102030405060708):
    c = w.Conn.connect(*addr, key=key)
    try:
        m = c.ask(w.Ping(token))
        return isinstance(m, w.Pong) and m.token == token
    finally:
        c.close()


class PeerFetch:
    """One connection to one holder: STATS, the manifest, then chunks."""

    def __init__(self, holding, name, version, key):
        self.addr = (holding.host_str(), holding.port)
        self.name, self.version, self.key = name, version, key
        self.conn = None
        self.features = None

    def open(self):
        self.conn = w.Conn.connect(*self.addr, key=self.key, timeout=15.0)
        # STATS pipelined with the first real request.
        self.conn.send(w.Stats(), w.ManifestRequest(self.name, 0))
        st = self.conn.recv(15.0)
        if not isinstance(st, w.StatsReply):
            raise Failed(f"unexpected reply to STATS: {st}")
        self.features = st.features()
        return self.read_manifest()

    def read_manifest(self):
        hashes, first = [], 0
        while True:
            if first:
                self.conn.send(w.ManifestRequest(self.name, first))
            m = self.conn.recv(15.0)
            if not isinstance(m, w.Manifest) or m.name != self.name or m.first_chunk != first:
                raise Failed(f"unexpected reply to MANIFEST_REQUEST: {m}")
            hashes += m.hashes
            first += len(m.hashes)
            if first >= m.chunk_count:
                break
            if not m.hashes:
                raise Failed("empty MANIFEST page before the end")
        size, content_hash = self.version
        if (m.size, m.content_hash) != (size, content_hash):
            raise Failed("manifest is for another version")
        if w.content_hash_of(hashes) != content_hash:
            raise Failed("manifest chunk hashes do not add up to the content hash")
        return m.chunk_size, hashes

    def fetch(self, chunks, chunk_size, hashes, out, done):
        """Fetches the chunk indexes in `chunks`, DEPTH requests in flight;
        writes each verified chunk to out. Raises Failed at the first fault."""
        size, content_hash = self.version
        queue = list(chunks)
        inflight = []
        next_id = 1
        while queue or inflight:
            reqs = []
            while queue and len(inflight) < DEPTH:
                i = queue.pop(0)
                off = i * chunk_size
                req = w.ChunkRequest(next_id, self.name, content_hash, off, min(chunk_size, size - off))
                next_id += 1
                inflight.append((i, req))
                reqs.append(req)
            if reqs:
                self.conn.send(*reqs)
            i, req = inflight.pop(0)
            m = self.conn.recv(15.0)
            if isinstance(m, w.Error):
                raise Failed(f"peer error {m.code} ({w.ERROR_NAMES.get(m.code)}) ref {m.ref}")
            if not isinstance(m, w.ChunkData) or (m.id, m.offset, m.length) != (req.id, req.offset, req.length):
                raise Failed(f"unexpected reply to CHUNK_REQUEST {req.id}: {m}")
            data = self.conn.recv_raw(m.length, 15.0)
            if w.blake2b32(data) != hashes[i]:
                raise Failed(f"chunk {i} does not match its hash")
            out.seek(req.offset)
            out.write(data)
            done.add(i)

    def close(self):
        if self.conn:
            self.conn.close()


def download(index, key, name, outdir):
    """Returns a result dict; raises IndexFailed when the index fails us."""
    name_b = name.encode()
    reply = index_ask(index, key, w.Lookup(name_b), w.LookupReply)
    version = w.choose_version(reply.holdings)
    if version is None:
        return {"name": name, "status": "missing"}
    holders = [h for h in reply.holdings if (h.size, h.content_hash) == version]
    dest = os.path.join(outdir, name)
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    part = os.path.join(os.path.dirname(dest), "." + os.path.basename(dest) + ".part")
    done, errors, features, used = set(), [], {}, []
    with open(part, "wb") as out:
        out.truncate(version[0])
        for h in holders:
            pf = PeerFetch(h, name_b, version, key)
            try:
                chunk_size, hashes = pf.open()
                features[f"{pf.addr[0]}:{pf.addr[1]}"] = pf.features
                todo = [i for i in range(len(hashes)) if i not in done]
                pf.fetch(todo, chunk_size, hashes, out, done)
                used.append(f"{pf.addr[0]}:{pf.addr[1]}")
                if len(done) == len(hashes):
                    break
            except (Failed, OSError, w.Closed, w.ProtocolError) as e:
                errors.append(f"{pf.addr}: {e}")
            finally:
                pf.close()
        else:
            os.unlink(part)
            return {"name": name, "status": "failed", "errors": errors}
    _, got, _ = w.hash_file(part, chunk_size)
    if got != version[1]:
        os.unlink(part)
        return {"name": name, "status": "failed", "errors": ["file does not match the content hash"]}
    os.replace(part, dest)
    return {"name": name, "status": "ok", "size": version[0], "hash": version[1].hex(),
            "peers": used, "features": features, "errors": errors,
            "versions": len({(h.size, h.content_hash) for h in reply.holdings})}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("command", choices=["get", "list", "stats", "ping"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("-i", "--index", default="127.0.0.1:60000")
    ap.add_argument("-o", "--output", default=".")
    ap.add_argument("--secret-file")
    ap.add_argument("--limit", type=int, default=4096)
    a = ap.parse_intermixed_args()
    try:
        key = w.read_secret_file(a.secret_file) if a.secret_file else None
    except (OSError, ValueError) as e:
        print(f"p2p_client: {e}", file=sys.stderr)
        return 2
    index = parse_hostport(a.index)
    try:
        if a.command == "get":
            results = [download(index, key, n, a.output) for n in a.args]
            for r in results:
                print(json.dumps(r))
            status = [r["status"] for r in results]
            return 1 if "failed" in status else 3 if "missing" in status else 0
        if a.command == "list":
            entries, pages = list_all(index, key, a.limit)
            for e in entries:
                print(json.dumps({"name": e.name.decode(errors="replace"), "size": e.size,
                                  "hash": e.content_hash.hex(), "peers": e.peers}))
            print(json.dumps({"pages": pages}))
            return 0
        addr = parse_hostport(a.args[0])
        if a.command == "stats":
            st = ask_stats(addr, key)
            print(json.dumps({k.decode(): v for k, v in st.pairs}))
            return 0
        return 0 if ask_ping(addr, key) else 1
    except IndexFailed as e:
        print(f"p2p_client: index: {e}", file=sys.stderr)
        return 4
    except (Failed, OSError, w.Closed, w.ProtocolError) as e:
        print(f"p2p_client: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

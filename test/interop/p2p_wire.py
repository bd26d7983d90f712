"""The wire protocol of p2p-protocol(7), written again from the page alone.

Frames, every message (encode and decode, exact layouts, the limits), the
closed-cluster MAC, the secret file, content hashes, and a blocking framed
connection. Python standard library only.
"""

import hashlib
import hmac
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import List

MAGIC = b"P2"
VERSION = 1
HEADER_SIZE = 8
MAC_SIZE = 32

# LIMITS
MAX_PAYLOAD = 1048576
MAX_NAME = 4096
MAX_ERROR_TEXT = 1024
MAX_STAT_KEY = 64
MAX_CHUNK_REQUEST = 16777216
MAX_CHUNK_SIZE = 16777216
DEFAULT_CHUNK_SIZE = 2097152
MAX_MANIFEST_HASHES = 16384
MAX_LIST_ENTRIES = 4096
MAX_LIST_LIMIT = 4096
MAX_LIST_AFTER = 4096
MAX_LOOKUP_PEERS = 4096
MAX_STATS = 256
INDEX_CHUNK_SIZE = 2097152  # every content hash at the index uses 2 MiB chunks

EMPTY_HASH = bytes.fromhex("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")

# ERROR CODES
E_BAD_MAGIC, E_BAD_VERSION, E_UNKNOWN_TYPE, E_TOO_LARGE, E_MALFORMED = 1, 2, 3, 4, 5
E_BAD_NAME, E_NOT_REGISTERED, E_ADDRESS_IN_USE, E_NOT_FOUND, E_CHANGED = 6, 7, 8, 9, 10
E_BAD_RANGE, E_BUSY, E_TIMEOUT, E_INTERNAL, E_SHUTDOWN = 11, 12, 13, 14, 15
E_BAD_AUTH, E_BAD_SIGNATURE, E_UNAVAILABLE, E_TAKEN = 16, 17, 18, 19
ERROR_NAMES = {
    1: "bad-magic", 2: "bad-version", 3: "unknown-type", 4: "too-large", 5: "malformed",
    6: "bad-name", 7: "not-registered", 8: "address-in-use", 9: "not-found", 10: "changed",
    11: "bad-range", 12: "busy", 13: "timeout", 14: "internal", 15: "shutdown",
    16: "bad-auth", 17: "bad-signature",
}
# Codes after which the sender closes (bad frames and unprompted ERRORs).
CLOSING_CODES = {1, 2, 3, 4, 5, 6, 13, 15, 16, 17}


class ProtocolError(Exception):
    """A frame that breaks the page: code is the ERROR code to answer with."""

    def __init__(self, code, text=""):
        super().__init__(f"{ERROR_NAMES.get(code, code)}: {text}")
        self.code = code
        self.text = text


# ---------------------------------------------------------------- payloads

class Writer:
    def __init__(self):
        self.parts = []

    def u8(self, v): self.parts.append(struct.pack(">B", v)); return self
    def u16(self, v): self.parts.append(struct.pack(">H", v)); return self
    def u32(self, v): self.parts.append(struct.pack(">I", v)); return self
    def u64(self, v): self.parts.append(struct.pack(">Q", v)); return self

    def raw(self, b, n):
        if len(b) != n:
            raise ValueError(f"need {n} bytes, got {len(b)}")
        self.parts.append(bytes(b))
        return self

    def hash(self, h): return self.raw(h, 32)
    def ip(self, a): return self.raw(a, 16)

    def string(self, s, limit):
        b = s.encode() if isinstance(s, str) else bytes(s)
        if len(b) > limit:
            raise ValueError(f"string of {len(b)} bytes above {limit}")
        self.parts.append(struct.pack(">H", len(b)) + b)
        return self

    def bytes(self):
        return b"".join(self.parts)


class Reader:
    """Reads a payload field by field; any shortfall or excess is error 5."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ProtocolError(E_MALFORMED, "payload too short")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack(">H", self.take(2))[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def u64(self): return struct.unpack(">Q", self.take(8))[0]
    def hash(self): return self.take(32)
    def ip(self): return self.take(16)

    def string(self, limit):
        n = self.u16()
        if n > limit:
            raise ProtocolError(E_MALFORMED, f"string of {n} bytes above {limit}")
        return self.take(n)

    def name(self):
        """A field that must be a name: a bad one (even too long) is error 6."""
        n = self.u16()
        b = self.take(n)
        if not valid_name(b):
            raise ProtocolError(E_BAD_NAME, "invalid name")
        return b

    def count(self, per_item_min, limit=None):
        """A u32 count; one larger than the bytes that follow is error 5."""
        n = self.u32()
        if limit is not None and n > limit:
            raise ProtocolError(E_MALFORMED, f"count {n} above {limit}")
        if n * per_item_min > len(self.data) - self.pos:
            raise ProtocolError(E_MALFORMED, "count larger than the bytes that follow")
        return n

    def end(self):
        if self.pos != len(self.data):
            raise ProtocolError(E_MALFORMED, "extra bytes at the end")


def valid_name(b):
    """NAMES: 1..4096 bytes, no NUL, not starting with /, no component empty,
    "..", or starting with "."."""
    if isinstance(b, str):
        b = b.encode()
    if not 1 <= len(b) <= MAX_NAME or b"\0" in b or b.startswith(b"/"):
        return False
    return all(c and not c.startswith(b".") for c in b.split(b"/"))


def as_bytes(s):
    return s.encode() if isinstance(s, str) else bytes(s)


# ---------------------------------------------------------------- messages

@dataclass
class FileEntry:
    name: bytes
    size: int
    content_hash: bytes

    def put(self, w):
        w.string(self.name, MAX_NAME).u64(self.size).hash(self.content_hash)

    @staticmethod
    def get(r):
        return FileEntry(r.name(), r.u64(), r.hash())

    @staticmethod
    def encoded_size(name):
        return 2 + len(name) + 8 + 32


@dataclass
class Register:
    TYPE = 0x01
    port: int
    files: List[FileEntry] = field(default_factory=list)

    def encode(self):
        if not 1 <= self.port <= 65535:
            raise ValueError("port out of range")
        w = Writer().u16(self.port).u32(len(self.files))
        for f in self.files:
            f.put(w)
        return w.bytes()

    @staticmethod
    def decode(r):
        port = r.u16()
        if port == 0:
            raise ProtocolError(E_MALFORMED, "REGISTER port 0")
        n = r.count(42)
        return Register(port, [FileEntry.get(r) for _ in range(n)])


@dataclass
class Update:
    TYPE = 0x02
    added: List[FileEntry] = field(default_factory=list)
    removed: List[bytes] = field(default_factory=list)

    def encode(self):
        w = Writer().u32(len(self.added))
        for f in self.added:
            f.put(w)
        w.u32(len(self.removed))
        for n in self.removed:
            w.string(n, MAX_NAME)
        return w.bytes()

    @staticmethod
    def decode(r):
        added = [FileEntry.get(r) for _ in range(r.count(42))]
        removed = [r.name() for _ in range(r.count(2))]
        return Update(added, removed)


@dataclass
class Empty:
    """Base of the messages with an empty payload."""

    def encode(self):
        return b""

    @classmethod
    def decode(cls, r):
        return cls()


class Unregister(Empty):
    TYPE = 0x03


class Stats(Empty):
    TYPE = 0x08


class Hello(Empty):
    TYPE = 0x10


@dataclass
class Lookup:
    TYPE = 0x04
    name: bytes

    def encode(self):
        return Writer().string(self.name, MAX_NAME).bytes()

    @staticmethod
    def decode(r):
        return Lookup(r.name())


@dataclass
class Holding:
    host: bytes  # 16-byte ip
    port: int
    size: int
    content_hash: bytes

    def host_str(self):
        if self.host[:12] == b"\0" * 10 + b"\xff\xff":
            return socket.inet_ntop(socket.AF_INET, self.host[12:])
        return socket.inet_ntop(socket.AF_INET6, self.host)


@dataclass
class LookupReply:
    TYPE = 0x05
    name: bytes
    holdings: List[Holding] = field(default_factory=list)

    def encode(self):
        w = Writer().string(self.name, MAX_NAME).u32(len(self.holdings))
        for h in self.holdings:
            w.ip(h.host).u16(h.port).u64(h.size).hash(h.content_hash)
        return w.bytes()

    @staticmethod
    def decode(r):
        name = r.name()
        n = r.count(58, MAX_LOOKUP_PEERS)
        return LookupReply(name, [Holding(r.ip(), r.u16(), r.u64(), r.hash()) for _ in range(n)])


@dataclass
class ListReq:
    TYPE = 0x06
    after: bytes
    limit: int

    def encode(self):
        return Writer().string(self.after, MAX_LIST_AFTER).u32(self.limit).bytes()

    @staticmethod
    def decode(r):
        after = r.string(MAX_LIST_AFTER)  # a position, not a name: any bytes
        limit = r.u32()
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ProtocolError(E_MALFORMED, "LIST limit out of range")
        return ListReq(after, limit)


@dataclass
class ListEntry:
    name: bytes
    size: int
    content_hash: bytes
    peers: int


@dataclass
class ListReply:
    TYPE = 0x07
    more: int
    entries: List[ListEntry] = field(default_factory=list)

    def encode(self):
        w = Writer().u8(self.more).u32(len(self.entries))
        for e in self.entries:
            w.string(e.name, MAX_NAME).u64(e.size).hash(e.content_hash).u32(e.peers)
        return w.bytes()

    @staticmethod
    def decode(r):
        more = r.u8()
        if more > 1:
            raise ProtocolError(E_MALFORMED, "LIST_REPLY more not 0 or 1")
        n = r.count(46, MAX_LIST_ENTRIES)
        return ListReply(more, [ListEntry(r.name(), r.u64(), r.hash(), r.u32()) for _ in range(n)])


@dataclass
class StatsReply:
    TYPE = 0x09
    pairs: List[tuple] = field(default_factory=list)  # (key bytes, value)

    def encode(self):
        w = Writer().u32(len(self.pairs))
        for k, v in self.pairs:
            w.string(k, MAX_STAT_KEY).u64(v)
        return w.bytes()

    @staticmethod
    def decode(r):
        n = r.count(10, MAX_STATS)
        return StatsReply([(r.string(MAX_STAT_KEY), r.u64()) for _ in range(n)])

    def get(self, key, default=None):
        k = as_bytes(key)
        for kk, v in self.pairs:
            if kk == k:
                return v
        return default

    def features(self):
        """A reply without the key means 0."""
        return self.get("features", 0)


@dataclass
class Ping:
    TYPE = 0x0A
    token: int

    def encode(self):
        return Writer().u64(self.token).bytes()

    @classmethod
    def decode(cls, r):
        return cls(r.u64())


@dataclass
class Pong:
    TYPE = 0x0B
    token: int

    def encode(self):
        return Writer().u64(self.token).bytes()

    @staticmethod
    def decode(r):
        return Pong(r.u64())


@dataclass
class Ok:
    TYPE = 0x0E
    acked: int

    def encode(self):
        return Writer().u8(self.acked).bytes()

    @staticmethod
    def decode(r):
        t = r.u8()
        if t not in (0x01, 0x02, 0x03):
            raise ProtocolError(E_MALFORMED, "OK for a type other than 1, 2, 3")
        return Ok(t)


@dataclass
class Error:
    TYPE = 0x0F
    code: int
    ref: int = 0
    text: bytes = b""

    def encode(self):
        return Writer().u16(self.code).u32(self.ref).string(self.text[:MAX_ERROR_TEXT], MAX_ERROR_TEXT).bytes()

    @staticmethod
    def decode(r):
        return Error(r.u16(), r.u32(), r.string(MAX_ERROR_TEXT))


@dataclass
class Challenge:
    TYPE = 0x11
    nonce: bytes

    def encode(self):
        return Writer().raw(self.nonce, 32).bytes()

    @staticmethod
    def decode(r):
        return Challenge(r.take(32))


@dataclass
class Identify:
    TYPE = 0x12
    public_key: bytes
    signature: bytes

    def encode(self):
        return Writer().raw(self.public_key, 32).raw(self.signature, 64).bytes()

    @staticmethod
    def decode(r):
        return Identify(r.take(32), r.take(64))


@dataclass
class ManifestRequest:
    TYPE = 0x20
    name: bytes
    first_chunk: int = 0

    def encode(self):
        return Writer().string(self.name, MAX_NAME).u32(self.first_chunk).bytes()

    @staticmethod
    def decode(r):
        return ManifestRequest(r.name(), r.u32())


@dataclass
class Manifest:
    TYPE = 0x21
    name: bytes
    size: int
    chunk_size: int
    content_hash: bytes
    chunk_count: int
    first_chunk: int
    hashes: List[bytes] = field(default_factory=list)

    def encode(self):
        w = Writer().string(self.name, MAX_NAME).u64(self.size).u32(self.chunk_size)
        w.hash(self.content_hash).u32(self.chunk_count).u32(self.first_chunk).u32(len(self.hashes))
        for h in self.hashes:
            w.hash(h)
        return w.bytes()

    @staticmethod
    def decode(r):
        name, size, chunk_size, ch = r.name(), r.u64(), r.u32(), r.hash()
        chunk_count, first = r.u32(), r.u32()
        n = r.count(32, MAX_MANIFEST_HASHES)
        hashes = [r.hash() for _ in range(n)]
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise ProtocolError(E_MALFORMED, "chunk size out of range")
        if chunk_count != -(-size // chunk_size) or first + n > chunk_count:
            raise ProtocolError(E_MALFORMED, "chunk_count or page out of range")
        return Manifest(name, size, chunk_size, ch, chunk_count, first, hashes)


@dataclass
class ChunkRequest:
    TYPE = 0x22
    id: int
    name: bytes
    content_hash: bytes
    offset: int
    length: int

    def encode(self):
        w = Writer().u32(self.id).string(self.name, MAX_NAME).hash(self.content_hash)
        return w.u64(self.offset).u32(self.length).bytes()

    @staticmethod
    def decode(r):
        # A length above 16 MiB is NOT error 5 here: the page gives it error 11
        # with ref = id and the connection kept (see CHUNK_REQUEST).
        return ChunkRequest(r.u32(), r.name(), r.hash(), r.u64(), r.u32())


class ChunkRequestSpare(ChunkRequest):
    """Feature bit 2: laid out as CHUNK_REQUEST. Only sent, never decoded
    here: the Python peer states no feature bits."""
    TYPE = 0x28


@dataclass
class ChunkData:
    TYPE = 0x23
    id: int
    offset: int
    length: int

    def encode(self):
        return Writer().u32(self.id).u64(self.offset).u32(self.length).bytes()

    @staticmethod
    def decode(r):
        return ChunkData(r.u32(), r.u64(), r.u32())


MESSAGES = {m.TYPE: m for m in (
    Register, Update, Unregister, Lookup, LookupReply, ListReq, ListReply, Stats, StatsReply,
    Ping, Pong, Ok, Error, Hello, Challenge, Identify, ManifestRequest, Manifest, ChunkRequest,
    ChunkData)}


def decode_payload(mtype, payload):
    r = Reader(payload)
    msg = MESSAGES[mtype].decode(r)
    r.end()
    return msg


# ---------------------------------------------------------------- frames

def encode_header(mtype, n):
    if n > MAX_PAYLOAD:
        raise ValueError("payload above 1 MiB")
    return MAGIC + bytes([VERSION, mtype]) + struct.pack(">I", n)


def encode_frame(msg):
    payload = msg.encode()
    return encode_header(msg.TYPE, len(payload)) + payload


def check_header_prefix(buf):
    """Order of checks 1-4, each as soon as its byte is there. Returns the
    payload length once all 8 bytes are in, else None; raises ProtocolError."""
    if len(buf) >= 1 and buf[0] != 0x50:
        raise ProtocolError(E_BAD_MAGIC, "bad magic")
    if len(buf) >= 2 and buf[1] != 0x32:
        raise ProtocolError(E_BAD_MAGIC, "bad magic")
    if len(buf) >= 3 and buf[2] != VERSION:
        raise ProtocolError(E_BAD_VERSION, f"version {buf[2]}")
    if len(buf) >= 4 and buf[3] not in MESSAGES:
        raise ProtocolError(E_UNKNOWN_TYPE, f"type 0x{buf[3]:02x}")
    if len(buf) < HEADER_SIZE:
        return None
    n = struct.unpack(">I", bytes(buf[4:8]))[0]
    if n > MAX_PAYLOAD:
        raise ProtocolError(E_TOO_LARGE, f"payload of {n} bytes")
    return n


# ---------------------------------------------------------------- closed cluster

def parse_secret(data):
    """32 raw bytes, or 64 hex digits (either case) optionally followed by LF
    or CR LF; anything else is refused."""
    if len(data) == 32:
        return bytes(data)
    body = data
    if body.endswith(b"\r\n"):
        body = body[:-2]
    elif body.endswith(b"\n"):
        body = body[:-1]
    if len(body) == 64 and all(c in b"0123456789abcdefABCDEF" for c in body):
        return bytes.fromhex(body.decode())
    raise ValueError("secret file holds neither 32 bytes nor 64 hex digits")


def read_secret_file(path):
    with open(path, "rb") as f:
        return parse_secret(f.read())


def frame_mac(key, side, n, frame):
    """HMAC-SHA-512 truncated to 32 bytes over side byte || u64 n || frame."""
    msg = side + struct.pack(">Q", n) + frame
    return hmac.new(key, msg, hashlib.sha512).digest()[:32]


class FrameAuth:
    """Per-connection MAC state: our side byte and both frame counters."""

    def __init__(self, key, opened):
        self.key = key
        self.ours = b"I" if opened else b"R"
        self.theirs = b"R" if opened else b"I"
        self.sent = 0
        self.received = 0

    def seal(self, frame):
        mac = frame_mac(self.key, self.ours, self.sent, frame)
        self.sent += 1
        return mac

    def verify(self, frame, mac):
        good = hmac.compare_digest(frame_mac(self.key, self.theirs, self.received, frame), mac)
        if good:
            self.received += 1
        return good


# ---------------------------------------------------------------- hashes

def blake2b32(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def hash_file(path, chunk_size=INDEX_CHUNK_SIZE):
    """(size, content hash, chunk hashes) as CONTENT HASHES defines them."""
    hashes = []
    size = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk_size)
            if not b:
                break
            size += len(b)
            hashes.append(blake2b32(b))
    return size, blake2b32(b"".join(hashes)), hashes


def content_hash_of(chunk_hashes):
    return blake2b32(b"".join(chunk_hashes))


def choose_version(holdings):
    """The version the most holdings have; a tie goes to the larger size, then
    the smaller content hash as bytes. Returns (size, hash) or None."""
    counts = {}
    for h in holdings:
        counts[(h.size, h.content_hash)] = counts.get((h.size, h.content_hash), 0) + 1
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], -v[0], v[1]))


# ---------------------------------------------------------------- connection

class Closed(Exception):
    """The other side closed the connection."""


class Conn:
    """A blocking framed connection (both client and server side)."""

    def __init__(self, sock, key=None, opened=True):
        self.sock = sock
        self.auth = FrameAuth(key, opened) if key else None
        self.buf = bytearray()

    @staticmethod
    def connect(host, port, key=None, timeout=10.0):
        s = socket.create_connection((host, port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Conn(s, key, opened=True)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def frame_bytes(self, msg):
        frame = encode_frame(msg)
        if self.auth:
            frame += self.auth.seal(frame)
        return frame

    def send(self, *msgs):
        """Writes frames (each with its MAC) in one go."""
        self.sock.sendall(b"".join(self.frame_bytes(m) for m in msgs))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, want, deadline):
        while len(self.buf) < want:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(left)
            b = self.sock.recv(max(65536, want - len(self.buf)))
            if not b:
                raise Closed("connection closed")
            self.buf += b

    def _fill_header(self, deadline):
        """Reads the header judging each byte as soon as it is in."""
        while True:
            n = check_header_prefix(self.buf[:HEADER_SIZE])
            if n is not None:
                return n
            self._fill(len(self.buf) + 1, deadline)

    def recv(self, timeout=10.0, mac_timeout=2.0, frame_timeout=None):
        """Next message; raises ProtocolError for a bad frame, Closed at EOF,
        socket.timeout when nothing complete arrives in time. With
        frame_timeout, timeout only bounds the wait for a frame's first byte
        (idle) and the frame must then complete within frame_timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if frame_timeout is not None:
            self._fill(1, deadline)
            deadline = time.monotonic() + frame_timeout
        n = self._fill_header(deadline)
        self._fill(HEADER_SIZE + n, deadline)
        frame = bytes(self.buf[:HEADER_SIZE + n])
        used = len(frame)
        if self.auth:
            mac_deadline = time.monotonic() + mac_timeout
            try:
                self._fill(used + MAC_SIZE, mac_deadline)
            except socket.timeout:
                raise ProtocolError(E_BAD_AUTH, "MAC did not follow its frame")
            if not self.auth.verify(frame, bytes(self.buf[used:used + MAC_SIZE])):
                raise ProtocolError(E_BAD_AUTH, "MAC does not verify")
            used += MAC_SIZE
        del self.buf[:used]
        return decode_payload(frame[3], frame[HEADER_SIZE:])

    def recv_raw(self, n, timeout=10.0):
        deadline = None if timeout is None else time.monotonic() + timeout
        self._fill(n, deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def closed_by_peer(self, timeout=5.0):
        """True once the other side closed (EOF or reset) within timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.buf.clear()
                self._fill(1, deadline)
        except (Closed, ConnectionResetError):
            return True
        except (socket.timeout, TimeoutError):
            return False

    def ask(self, msg, timeout=10.0):
        self.send(msg)
        return self.recv(timeout)

#!/usr/bin/env python3
"""bench-swarm's network: hosts as network namespaces on one bridge.

  <prefix>-br      bridge br0 and the bridge-side veth ends b1..bH
  <prefix>-<host>  eth0 (10.203.0.X/16) and lo

Each link is shaped to R both ways with tbf: a host's upload on its eth0,
its download on its bridge-side veth end (the egress towards it). Nothing
is made in the root namespace: each veth pair is created inside the
bridge namespace with its host end put straight into the host's.

The prefix is bsw<PID>-<hex>, so a later run can tell a dead run's
leftovers (its PID is gone) from a live one's.

As a script (run inside a namespace by the harness):
  bench-swarm-net.py recv ADDR:PORT CONNS TIMEOUT   prints {"bytes","seconds"}
  bench-swarm-net.py send ADDR:PORT BYTES TIMEOUT
  bench-swarm-net.py cleanup-stale
"""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

SUBNET = "10.203.0."
STALE_RE = re.compile(r"^bsw(\d+)-")
MTU = 1500


class LabError(RuntimeError):
    pass


def sh(argv, check=True, timeout=20):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise LabError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


def tbf_args(rate_mbit):
    """tbf at rate_mbit. The bucket holds a 64 KiB GSO packet (veth sends
    them whole) or 2 ms of traffic; the queue 50 ms more, since TCP small
    queues let megabytes per socket into an upload shaper and many flows
    converge on a download shaper."""
    rate_bps = rate_mbit * 1e6 / 8
    burst = max(64 * 1024 + 2 * MTU, int(rate_bps * 0.002))
    limit = int(rate_bps * 0.050) + burst
    return ["rate", "%dbit" % int(rate_mbit * 1e6), "burst", str(burst),
            "limit", str(limit)]


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_ns_pids(ns):
    """SIGKILL, by PID, whatever still runs in a namespace of ours."""
    out = sh(["ip", "netns", "pids", ns], check=False).stdout
    for tok in out.split():
        if tok.isdigit() and int(tok) != os.getpid():
            try:
                os.kill(int(tok), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def cleanup_stale():
    """Delete the namespaces of earlier runs whose harness is gone."""
    gone = []
    for line in sh(["ip", "netns", "list"]).stdout.splitlines():
        ns = line.split()[0] if line.strip() else ""
        m = STALE_RE.match(ns)
        if not m or int(m.group(1)) == os.getpid() or pid_alive(int(m.group(1))):
            continue
        kill_ns_pids(ns)
        sh(["ip", "netns", "del", ns], check=False)
        gone.append(ns)
    return gone


class Lab:
    """build(), then start()/run() processes in hosts; close() always."""

    def __init__(self, names, rate_mbit):
        if len(names) > 250:
            raise LabError("at most 250 hosts")
        self.prefix = "bsw%d-%04x" % (os.getpid(), int.from_bytes(os.urandom(2), "big"))
        self.rate_mbit = rate_mbit
        self.bridge = self.prefix + "-br"
        self.ip = {n: SUBNET + str(i) for i, n in enumerate(names, 1)}
        self.port = {n: "b%d" % i for i, n in enumerate(names, 1)}
        self.made = []
        self.procs = []
        self.closed = False

    def ns(self, host):
        return "%s-%s" % (self.prefix, host)

    def build(self):
        br = self.bridge
        self._add_ns(br)
        sh(["ip", "-n", br, "link", "set", "lo", "up"])
        sh(["ip", "-n", br, "link", "add", "br0", "type", "bridge",
            "stp_state", "0", "forward_delay", "0"])
        sh(["ip", "-n", br, "link", "set", "br0", "up"])
        for host in self.ip:
            self._add_host(host)
        self._wait_forwarding()
        return self

    def _add_ns(self, ns):
        sh(["ip", "netns", "add", ns])
        self.made.append(ns)

    def _add_host(self, host):
        ns, br, port = self.ns(host), self.bridge, self.port[host]
        self._add_ns(ns)
        sh(["ip", "-n", br, "link", "add", port, "mtu", str(MTU), "type", "veth",
            "peer", "name", "eth0", "mtu", str(MTU), "netns", ns])
        sh(["ip", "-n", br, "link", "set", port, "master", "br0", "up"])
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        sh(["ip", "-n", ns, "addr", "add", self.ip[host] + "/16", "dev", "eth0"])
        sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        tbf = tbf_args(self.rate_mbit)
        sh(["tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root", "tbf"] + tbf)
        sh(["tc", "-n", br, "qdisc", "replace", "dev", port, "root", "tbf"] + tbf)

    def _wait_forwarding(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = sh(["ip", "-n", self.bridge, "-d", "-j", "link", "show",
                      "master", "br0"]).stdout
            states = [l.get("linkinfo", {}).get("info_slave_data", {}).get("state")
                      for l in json.loads(out or "[]")]
            if len(states) == len(self.ip) and all(s == "forwarding" for s in states):
                return
            time.sleep(0.05)
        raise LabError("bridge ports not forwarding after %.0f s" % timeout)

    def describe(self):
        return "%d hosts %s1-%d, bridge namespace %s, tbf %s on each eth0 (upload) " \
               "and bridge-side veth (download)" % (
                   len(self.ip), SUBNET, len(self.ip), self.bridge,
                   " ".join(tbf_args(self.rate_mbit)))

    def tbf_counters(self, host, side):
        """{"bytes", "drops"} of host's upload ("up") or download shaper."""
        ns, dev = (self.ns(host), "eth0") if side == "up" else (self.bridge, self.port[host])
        out = sh(["tc", "-n", ns, "-s", "-j", "qdisc", "show", "dev", dev]).stdout
        q = [x for x in json.loads(out) if x.get("kind") == "tbf"][0]
        return {"bytes": q.get("bytes", 0), "drops": q.get("drops", 0)}

    def sysctl(self, host, key):
        return sh(["ip", "netns", "exec", self.ns(host), "sysctl", "-n", key],
                  check=False).stdout.strip()

    def start(self, host, argv, **kw):
        """argv in host's namespace; `ip netns exec` execs in place, so the
        PID held is the program's own."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(host)] + list(argv),
                             stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def run(self, host, argv, timeout=30):
        return sh(["ip", "netns", "exec", self.ns(host)] + list(argv), False, timeout)

    @staticmethod
    def stop(p, grace=5.0):
        """SIGTERM one process of ours by PID, SIGKILL after grace."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if p.poll() is not None:
                return p.returncode
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                return p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        return None

    def stop_all(self):
        for p in self.procs:
            self.stop(p, grace=3.0)
        self.procs = []

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            self.stop_all()
        finally:
            for ns in reversed(self.made):
                kill_ns_pids(ns)
                sh(["ip", "netns", "del", ns], check=False)


def close_on_exit(lab):
    """Tear the lab down at exit and on SIGINT, SIGTERM and SIGHUP."""
    atexit.register(lab.close)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)


def probe_recv(addr, conns, timeout):
    """Accept conns connections, read them to EOF; time first to last byte."""
    host, port = addr.rsplit(":", 1)
    srv = socket.create_server((host, int(port)))
    srv.settimeout(timeout)
    socks = [srv.accept()[0] for _ in range(conns)]
    total, first, last = 0, None, None
    import selectors
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            data = key.fileobj.recv(1 << 20)
            now = time.monotonic()
            if not data:
                sel.unregister(key.fileobj)
                continue
            first = now if first is None else first
            total, last = total + len(data), now
    secs = (last - first) if first is not None and last > first else 0.0
    print(json.dumps({"bytes": total, "seconds": secs,
                      "mbit": total * 8 / secs / 1e6 if secs else 0.0}))


def probe_send(addr, nbytes, timeout):
    host, port = addr.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.create_connection((host, int(port)), timeout=timeout)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    block = b"\0" * (1 << 20)
    while nbytes > 0:
        nbytes -= s.send(block[:min(nbytes, len(block))])
    s.close()


def main(argv):
    if argv[:1] == ["recv"] and len(argv) == 4:
        probe_recv(argv[1], int(argv[2]), float(argv[3]))
    elif argv[:1] == ["send"] and len(argv) == 4:
        probe_send(argv[1], int(argv[2]), float(argv[3]))
    elif argv == ["cleanup-stale"]:
        for ns in cleanup_stale():
            print("deleted", ns)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""bench-swarm's link sampler: how busy every host's link was during a run.

Every 0.5 s, on a thread, one process in the bridge namespace reads each
bridge-side veth end's counters: b<i>'s tx bytes are host i's download,
its rx bytes the host's upload (tbf shapes both to R). use() gives the
share of R the downloads and the uploads carried between two moments;
write() keeps every sample as Mbit/s per host. A swarm at the bound keeps
the downloads near 100% (the uploads then near N/(N+1), as every byte
uploaded is one downloaded)."""
import subprocess
import threading
import time

READ = ('for d in /sys/class/net/b[0-9]*; do '
        'echo "${d##*/} $(cat $d/statistics/tx_bytes) $(cat $d/statistics/rx_bytes)"; done')


class LinkSampler:
    def __init__(self, lab, downloaders, every=0.5):
        self.lab, self.every = lab, every
        self.down_hosts = list(downloaders)
        self.up_hosts = ["seed"] + self.down_hosts
        self.samples = []  # (monotonic time, {port: (tx, rx)})
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _read(self):
        r = subprocess.run(["ip", "netns", "exec", self.lab.bridge, "sh", "-c", READ],
                           capture_output=True, text=True, timeout=5)
        out = {}
        for line in r.stdout.splitlines():
            port, tx, rx = line.split()
            out[port] = (int(tx), int(rx))
        return out

    def _run(self):
        while not self.halt.is_set():
            try:
                self.samples.append((time.monotonic(), self._read()))
            except (OSError, ValueError, subprocess.SubprocessError):
                pass
            self.halt.wait(self.every)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.halt.set()
        self.thread.join(timeout=10)

    def _bytes_at(self, t):
        """Counters of the last sample at or before t (else the first)."""
        best = self.samples[0]
        for s in self.samples:
            if s[0] <= t:
                best = s
        return best

    def use(self, t_from, t_to):
        """(downloads, uploads) as shares of R, or None without samples."""
        if len(self.samples) < 2:
            return None
        (a, ca), (b, cb) = self._bytes_at(t_from), self._bytes_at(t_to)
        if b <= a:
            return None
        cap = self.lab.rate_mbit * 1e6 / 8 * (b - a)
        port = self.lab.port
        down = sum(cb[port[h]][0] - ca[port[h]][0] for h in self.down_hosts)
        up = sum(cb[port[h]][1] - ca[port[h]][1] for h in self.up_hosts)
        return down / (cap * len(self.down_hosts)), up / (cap * len(self.up_hosts))

    def write(self, path, t0):
        """One line per interval: seconds after t0, then Mbit/s up and down
        per host (seed first for uploads)."""
        port = self.lab.port
        with open(path, "w") as f:
            f.write("# t_s " + " ".join("up_" + h for h in self.up_hosts) + " " +
                    " ".join("down_" + h for h in self.down_hosts) + "\n")
            for (a, ca), (b, cb) in zip(self.samples, self.samples[1:]):
                rate = lambda h, k: (cb[port[h]][k] - ca[port[h]][k]) * 8 / (b - a) / 1e6
                f.write("%.2f " % (b - t0) + " ".join("%.0f" % rate(h, 1) for h in self.up_hosts) +
                        " " + " ".join("%.0f" % rate(h, 0) for h in self.down_hosts) + "\n")

#!/usr/bin/env python3
"""make bench-swarm: one file from one seed to N hosts at once, on links of R.

Hosts are network namespaces on one bridge (tools/bench-swarm-net.py), each
link shaped to R both ways with tbf: infra runs indexd, seed runs peerd
with the file, d1..dN each run p2pget, all started at one moment T0
(tools/bench-swarm-start.py). Per run it prints F, N, R, the bound F/R
(Kumar & Ross with every link at R), the median and the last completion,
max/bound, and the seed's upload over F twice: the payload that p2pget's
--json says came from the seed's address, summed over the downloaders,
and the wire bytes through the seed's upload shaper. p2pget runs with
default flags and, when it has the flag, with --no-serve (no swarming).
The wire figure counts Ethernet frames (headers add ~4.6% at MTU 1500).
How busy the links were from T0 to the last copy, downloads and uploads
as shares of R, is printed per run (tools/bench-swarm-links.py), and the
samples, Mbit/s per host every 0.5 s, go to links.txt in the kept logs.
Every copy is compared with the source (exit 1 when one differs or a
download fails; that run's logs stay in /tmp/bench-swarm-logs-PID/).
Root only: otherwise it says why it skips, exit 0.

Options (make variables or the environment; flags override):
  HOSTS=8      downloaders; a list ("8 16") runs each
  SIZE_MIB=128 file size F     RATE_MBIT=100 link rate R
  RUNS=1       runs of each variant       BIN=.  where the programs are
  NO_SERVE=0   skip the --no-serve comparison run
  P2PGET_ARGS="-vv" more p2pget flags    KEEP_LOGS=1 keep every run's logs
  --selftest   only check that the shaping gives ~R to one TCP stream
               (and to two streams into one host)
"""
import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "swarm.bin"
INDEX_PORT, SEED_PORT = 60000, 7001


def load(name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"),
                                                  os.path.join(HERE, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


net = load("bench-swarm-net")
links = load("bench-swarm-links")


def say(*a):
    print("bench-swarm:", *a, file=sys.stderr, flush=True)


def load1():
    return os.getloadavg()[0]


def parse_args(argv):
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default=env("HOSTS") or "8")
    ap.add_argument("--size-mib", type=int, default=int(env("SIZE_MIB") or 128))
    ap.add_argument("--rate-mbit", type=float, default=float(env("RATE_MBIT") or 100))
    ap.add_argument("--runs", type=int, default=int(env("RUNS") or 1))
    ap.add_argument("--bin", default=env("BIN") or os.path.dirname(HERE))
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)
    a.hosts = [int(x) for x in a.hosts.replace(",", " ").split()]
    if not a.hosts or min(a.hosts) < 1 or max(a.hosts) > 200 or a.runs < 1 or \
            a.runs > 20 or a.size_mib < 1 or a.rate_mbit <= 0:
        ap.error("HOSTS 1-200, RUNS 1-20, SIZE_MIB >= 1, RATE_MBIT > 0")
    a.bin = os.path.abspath(a.bin)
    a.size = a.size_mib << 20
    a.bound = a.size * 8 / (a.rate_mbit * 1e6)
    return a


def why_skip():
    if os.geteuid() != 0:
        return "needs root (network namespaces, tc): sudo make bench-swarm"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return "no %s tool (iproute2) on PATH" % tool
    return None


def build_lab(names, rate_mbit):
    """The network, torn down at exit; None (and why) when it cannot be."""
    lab = net.Lab(names, rate_mbit)
    net.close_on_exit(lab)
    try:
        lab.build()
    except (net.LabError, subprocess.TimeoutExpired) as e:
        lab.close()
        return None, str(e)
    return lab, None


# ---- TCP check ----------------------------------------------------------

def tcp_check(lab, senders, receiver, seconds=3.0):
    """Senders each push their share of `seconds` at R into receiver at once;
    the receiver's rate from its first byte to its last, Mbit/s."""
    probe = os.path.join(HERE, "bench-swarm-net.py")
    addr = "%s:5201" % lab.ip[receiver]
    limit = str(seconds * 4 + 10)
    nbytes = int(lab.rate_mbit * 1e6 / 8 * seconds / len(senders))
    recv = lab.start(receiver, [sys.executable, probe, "recv", addr,
                                str(len(senders)), limit],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sends = [lab.start(s, [sys.executable, probe, "send", addr, str(nbytes), limit],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for s in senders]
    for p in sends:
        p.wait(timeout=seconds * 4 + 15)
    out, err = recv.communicate(timeout=seconds * 4 + 15)
    try:
        return json.loads(out)["mbit"]
    except (ValueError, KeyError):
        raise net.LabError("TCP probe into %s failed: %s" % (receiver, err.strip()))


def selftest(a):
    lab, why = build_lab(["a", "b", "c"], a.rate_mbit)
    if lab is None:
        say("skipped: cannot build the network:", why)
        return 0
    say(lab.describe())
    say("tcp congestion control:", lab.sysctl("a", "net.ipv4.tcp_congestion_control"))
    ok = True
    for label, senders, recv in (("one stream a->b", ["a"], "b"),
                                 ("two streams a,b->c", ["a", "b"], "c")):
        mbit = tcp_check(lab, senders, recv)
        pct = 100 * mbit / a.rate_mbit
        ok &= 90.0 <= pct <= 101.0
        print("selftest: %-20s %7.2f Mbit/s = %5.1f%% of R=%g Mbit/s" % (
            label, mbit, pct, a.rate_mbit))
    lab.close()
    print("selftest:", "ok" if ok else "FAILED (want 90-101% of R)")
    return 0 if ok else 1


# ---- the file and its copies ---------------------------------------------

def cleanup_stale_dirs():
    """Scratch dirs of dead runs (bench-swarm-<PID>), as for namespaces."""
    for base in ("/dev/shm", "/tmp"):
        for name in os.listdir(base) if os.path.isdir(base) else []:
            pid = name[len("bench-swarm-"):]
            if name.startswith("bench-swarm-") and pid.isdigit() and \
                    not net.pid_alive(int(pid)):
                say("deleted a dead run's scratch dir", os.path.join(base, name))
                shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def make_workdir(a):
    """On tmpfs when it has room for the file and every copy, so that the
    disk plays no part."""
    need = (max(a.hosts) + 2) * a.size + (256 << 20)
    base = "/dev/shm" if os.path.isdir("/dev/shm") and \
        shutil.disk_usage("/dev/shm").free > need else "/tmp"
    work = os.path.join(base, "bench-swarm-%d" % os.getpid())
    os.makedirs(os.path.join(work, "seed", "1"))
    return work


def make_payload(work, size):
    path = os.path.join(work, NAME)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for off in range(0, size, 4 << 20):
            block = os.urandom(min(4 << 20, size - off))
            h.update(block)
            f.write(block)
    os.link(path, os.path.join(work, "seed", "1", NAME))
    return h.hexdigest()


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---- one run ------------------------------------------------------------

def wait_for(pred, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


def seed_listed(lab, a):
    try:
        r = lab.run("infra", [os.path.join(a.bin, "p2pget"), "--lookup", NAME, "--json",
                              "-i", "%s:%d" % (lab.ip["infra"], INDEX_PORT)], timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0 and lab.ip["seed"] in r.stdout


def start_daemons(lab, a, work):
    """indexd on infra and peerd with the file on seed, fresh for each run
    so that no run sees another's registrations."""
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    index = "%s:%d" % (lab.ip["infra"], INDEX_PORT)
    idx = lab.start("infra", [os.path.join(a.bin, "indexd"), "-l", lab.ip["infra"],
                              "-p", str(INDEX_PORT)],
                    stderr=open(os.path.join(logs, "indexd.log"), "ab"))
    seed = lab.start("seed", [os.path.join(a.bin, "peerd"), "-d",
                              os.path.join(work, "seed", "1"), "-p", str(SEED_PORT),
                              "-i", index],
                     stderr=open(os.path.join(logs, "peerd.log"), "ab"))
    if not wait_for(lambda: seed_listed(lab, a), 60, 0.2):
        raise net.LabError("the index never listed the seed (see %s)" % logs)
    return [seed, idx], index


def start_downloaders(lab, a, n, rundir, index, extra):
    starter = os.path.join(HERE, "bench-swarm-start.py")
    limit = 2 * n * a.bound + 30
    procs = []
    for i in range(1, n + 1):
        d = os.path.join(rundir, "d%d" % i)
        os.makedirs(os.path.join(d, "out"))
        cmd = [os.path.join(a.bin, "p2pget"), "-q", "--json", "-i", index,
               "-o", os.path.join(d, "out")] + extra + os.environ.get("P2PGET_ARGS", "").split() + [NAME]
        procs.append(lab.start("d%d" % i, [
            sys.executable, starter, d + "/ready", rundir + "/start", d + "/result",
            os.path.join(d, "out", NAME), str(limit), d + "/json", "--"] + cmd,
            stderr=open(d + "/stderr", "wb")))
    return procs, limit


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def barrier_and_wait(procs, rundir, n, limit):
    """Release every downloader at T0 once all are ready; wait (bounded)
    until each is done; then stop those still serving. Returns T0's lag."""
    dirs = [os.path.join(rundir, "d%d" % i) for i in range(1, n + 1)]
    ready = lambda: all(os.path.exists(d + "/ready") for d in dirs)
    if not wait_for(ready, 60, 0.01):
        raise net.LabError("downloaders not ready within 60 s")
    t0 = time.monotonic() + 0.5
    tmp = rundir + "/start.tmp"
    with open(tmp, "w") as f:
        json.dump({"t0": t0}, f)
    os.replace(tmp, rundir + "/start")

    def all_done():
        return all(p.poll() is not None or
                   (read_json(d + "/result") or {}).get("seconds") is not None
                   for p, d in zip(procs, dirs))
    wait_for(all_done, limit + 10, 0.05)
    for p in procs:
        net.Lab.stop(p, grace=10.0)
    return dirs, t0


def seed_payload(jpath, seed_ip):
    """(bytes from the seed, bytes from all) per p2pget's --json, or None."""
    try:
        with open(jpath) as f:
            lines = [json.loads(l) for l in f if l.strip()]
    except (OSError, ValueError):
        return None
    for obj in lines:
        if obj.get("name") == NAME and "peers" in obj:
            peers = obj["peers"]
            seed = sum(p.get("bytes", 0) for p in peers
                       if str(p.get("peer", p.get("host", ""))).rsplit(":", 1)[0] == seed_ip)
            return seed, sum(p.get("bytes", 0) for p in peers)
    return None


def host_result(d, digest, seed_ip):
    rec = read_json(d + "/result") or {}
    copy = os.path.join(d, "out", NAME)
    rec["identical"] = os.path.exists(copy) and sha256_of(copy) == digest
    rec["json"] = seed_payload(d + "/json", seed_ip)
    ended_ok = rec.get("rc") == 0 or (rec.get("stopped") and rec.get("done_by") == "file")
    rec["ok"] = rec.get("seconds") is not None and rec["identical"] and bool(ended_ok)
    return rec


def counters(lab, n):
    up = lab.tbf_counters("seed", "up")
    drops = up["drops"] + lab.tbf_counters("seed", "down")["drops"]
    for i in range(1, n + 1):
        for side in ("up", "down"):
            drops += lab.tbf_counters("d%d" % i, side)["drops"]
    return {"seed_wire": up["bytes"], "drops": drops}


def keep_logs(work, rundir):
    """A failed run's logs (not its copies; every run's with KEEP_LOGS=1)
    outlive the scratch dir."""
    dest = os.path.join("/tmp", "bench-swarm-logs-%d" % os.getpid(),
                        os.path.basename(rundir))
    shutil.copytree(rundir, dest, ignore=shutil.ignore_patterns("out"))
    shutil.copytree(os.path.join(work, "logs"), os.path.join(dest, "daemons"))
    say("logs of this run kept in", dest)


def run_once(lab, a, n, work, tag, extra, digest):
    rundir = os.path.join(work, tag)
    os.makedirs(rundir)
    daemons, index = start_daemons(lab, a, work)
    try:
        procs, limit = start_downloaders(lab, a, n, rundir, index, extra)
        before = counters(lab, n)
        sampler = links.LinkSampler(lab, ["d%d" % i for i in range(1, n + 1)]).start()
        try:
            dirs, t0 = barrier_and_wait(procs, rundir, n, limit)
        finally:
            sampler.stop()
        after = counters(lab, n)
    finally:
        for p in daemons:
            net.Lab.stop(p)
    hosts = [host_result(d, digest, lab.ip["seed"]) for d in dirs]
    times = [h["seconds"] for h in hosts if h.get("seconds") is not None]
    use = sampler.use(t0, t0 + max(times)) if times else None
    sampler.write(os.path.join(rundir, "links.txt"), t0)
    if not all(h["ok"] for h in hosts) or os.environ.get("KEEP_LOGS") == "1":
        keep_logs(work, rundir)
    shutil.rmtree(rundir, ignore_errors=True)
    return hosts, dict({k: after[k] - before[k] for k in after}, use=use)


# ---- report -------------------------------------------------------------

HEADER = "# run variant N F_MiB R_Mbit bound_s p50_s max_s max/bound " \
         "seed_json_xF seed_wire_xF drops load1_start load1_end status"


def report(a, n, run, label, hosts, c, loads):
    times = [h["seconds"] for h in hosts if h.get("seconds") is not None]
    ok = len(times) == n and all(h["ok"] for h in hosts)
    fmt = lambda x: "%.3f" % x if x is not None else "nan"
    p50 = statistics.median(times) if times else None
    top = max(times) if times else None
    js = [h["json"] for h in hosts if h["json"] is not None]
    seed_json = sum(s for s, _ in js) / a.size if len(js) == n else None
    print(" ".join([str(run), label.replace(" ", ""), str(n), str(a.size_mib),
                    "%g" % a.rate_mbit, fmt(a.bound), fmt(p50), fmt(top),
                    "%.2f" % (top / a.bound) if top else "nan",
                    "%.2f" % seed_json if seed_json is not None else "n/a",
                    "%.2f" % (c["seed_wire"] / a.size),
                    str(c["drops"]), "%.2f" % loads[0], "%.2f" % loads[1],
                    "ok" if ok else "FAILED"]), flush=True)
    for i, h in enumerate(hosts, 1):
        say("  d%d %s s done_by=%s rc=%s stopped=%s identical=%s json(seed,all)=%s" % (
            i, fmt(h.get("seconds")), h.get("done_by"), h.get("rc"), h.get("stopped"),
            h["identical"], h["json"]))
    for i in (i for i, h in enumerate(hosts, 1) if not h["identical"]):
        say("  d%d: its copy is missing or differs from the source" % i)
    if c.get("use"):
        say("  links from T0 to the last copy: downloads at %.0f%% of R, uploads at %.0f%% "
            "(links.txt in kept logs)" % (100 * c["use"][0], 100 * c["use"][1]))
    if len(js) != n:
        say("  %d of %d p2pget printed no --json result: seed_json_xF n/a" % (n - len(js), n))
    else:
        say("  payload received / (N*F) = %.3f (above 1: endgame or duplicate copies)" % (
            sum(t for _, t in js) / (n * a.size)))
    return ok


def variants(a):
    out = subprocess.run([os.path.join(a.bin, "p2pget"), "--help"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    if "--no-serve" in out:
        if os.environ.get("NO_SERVE") == "0":
            say("NO_SERVE=0: skipping the --no-serve comparison")
            return [("p2pget", [])]
        return [("p2pget", []), ("p2pget --no-serve", ["--no-serve"])]
    say("this p2pget has no --no-serve flag (it does not swarm yet): "
        "running it with default flags only")
    return [("p2pget", [])]


def bench_hosts(a, n, work, digest, kinds):
    names = ["infra", "seed"] + ["d%d" % i for i in range(1, n + 1)]
    lab, why = build_lab(names, a.rate_mbit)
    if lab is None:
        return None, why
    ok = True
    try:
        say(lab.describe())
        say("tcp congestion control:", lab.sysctl("seed", "net.ipv4.tcp_congestion_control"))
        mbit = tcp_check(lab, ["seed"], "d1")
        say("tcp check seed->d1: %.2f Mbit/s (%.1f%% of R)" % (mbit, 100 * mbit / a.rate_mbit))
        for run in range(1, a.runs + 1):
            for label, extra in kinds:
                start = load1()
                hosts, c = run_once(lab, a, n, work, "n%d-r%d-%d" % (n, run, len(extra)),
                                    extra, digest)
                ok &= report(a, n, run, label, hosts, c, (start, load1()))
    finally:
        lab.close()
    return ok, None


def main(argv):
    a = parse_args(argv)
    why = why_skip()
    if why:
        print("bench-swarm: skipped:", why)
        return 0
    for ns in net.cleanup_stale():
        say("deleted a dead run's namespace", ns)
    cleanup_stale_dirs()
    if a.selftest:
        return selftest(a)
    for p in ("indexd", "peerd", "p2pget"):
        if not os.access(os.path.join(a.bin, p), os.X_OK):
            say("%s/%s missing: run make first" % (a.bin, p))
            return 1
    work = make_workdir(a)
    import atexit
    atexit.register(shutil.rmtree, work, True)
    digest = make_payload(work, a.size)
    kinds = variants(a)
    say("F=%d MiB R=%g Mbit/s bound F/R=%.3f s, N=%s, %d run(s), files in %s, load1=%.2f" % (
        a.size_mib, a.rate_mbit, a.bound, ",".join(map(str, a.hosts)), a.runs, work, load1()))
    print(HEADER, flush=True)
    ok = True
    for n in a.hosts:
        try:
            res, why = bench_hosts(a, n, work, digest, kinds)
        except net.LabError as e:
            print("bench-swarm: FAILED:", e)
            return 1
        if res is None:
            print("bench-swarm: skipped: cannot build the network:", why)
            return 0
        ok &= res
    print("bench-swarm:", "ok, every copy byte-identical" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

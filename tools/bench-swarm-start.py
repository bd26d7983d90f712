#!/usr/bin/env python3
"""Start a command at bench-swarm's common moment T0 and time it.

  bench-swarm-start.py READY START RESULT DONE_PATH TIMEOUT OUT -- CMD...

Writes READY, waits (bounded) for START, which holds T0 on CLOCK_MONOTONIC
(every network namespace shares that clock), sleeps until T0 and starts
CMD with its stdout into OUT. The download is done when DONE_PATH appears
(p2pget renames its verified file into place) or CMD exits, whichever is
first; RESULT then gets {"seconds" from T0, "done_by", "late"}. A CMD that
goes on serving keeps running until SIGTERM or TIMEOUT s after T0; RESULT
is rewritten with its exit status ("rc") and whether we stopped it.
"""
import json
import os
import signal
import subprocess
import sys
import time

# 16 of these polling every 2 ms took a third of a core from the hosts they
# time; 10 ms is still 0.1% of the bound at the default sizes.
POLL = 0.01
START_WAIT = 120.0


def write_json(path, obj):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def wait_t0(start):
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        try:
            with open(start) as f:
                t0 = float(json.load(f)["t0"])
        except (OSError, ValueError, KeyError):
            time.sleep(POLL)
            continue
        time.sleep(max(0.0, t0 - time.monotonic()))
        return t0
    return None


def watch(child, t0, done_path, timeout, result, stop):
    """Poll until CMD is done and has exited, or stop/timeout."""
    rec = {"seconds": None, "done_by": None, "rc": None, "stopped": False}
    while not stop and time.monotonic() < t0 + timeout:
        rc = child.poll()
        now = time.monotonic() - t0
        if rec["done_by"] is None and os.path.exists(done_path):
            rec.update(seconds=now, done_by="file")
            write_json(result, rec)
        elif rec["done_by"] is None and rc is not None:
            rec.update(seconds=now, done_by="exit")
        if rc is not None:
            rec["rc"] = rc
            return rec
        time.sleep(POLL)
    rec["stopped"] = True
    child.send_signal(signal.SIGTERM)
    try:
        rec["rc"] = child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
        rec["rc"] = child.wait(timeout=5)
    return rec


def main(argv):
    if len(argv) < 8 or argv[6] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    ready, start, result, done_path, timeout, out = argv[:6]
    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
    signal.signal(signal.SIGINT, lambda s, f: stop.append(s))
    write_json(ready, {"pid": os.getpid()})
    t0 = wait_t0(start)
    if t0 is None or stop:
        write_json(result, {"seconds": None, "error": "no start"})
        return 3
    late = time.monotonic() - t0
    with open(out, "wb") as f:
        child = subprocess.Popen(argv[7:], stdin=subprocess.DEVNULL, stdout=f)
    rec = watch(child, t0, done_path, float(timeout), result, stop)
    rec["late"] = late
    write_json(result, rec)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

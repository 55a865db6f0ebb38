"""What multiprocessing.Queue and multiprocessing.Pipe cost on this machine, as one JSON object,
to set beside conlab's `queue` (mode=rate) and `pipe` scenarios, measured the same way:

- queue: a writer process puts `count` time stamps (time.monotonic_ns, CLOCK_MONOTONIC, the
  clock conlab stamps its messages with) on a Queue(maxsize=capacity) as fast as it can; a
  reader process gets them, and takes each item's latency from its stamp. items/s is the count
  over the time from the first put to the last get. Percentiles are nearest-rank, as conlab's.
- pipe: Pipe() is duplex (a socketpair on Unix). This process sends 8 bytes with send_bytes,
  a child sends them back, `rounds` times after 100 of warm-up; each round trip is timed with
  time.perf_counter_ns.

With --conlab PATH, the same figures from `PATH run queue --set mode=rate ... --json` and
`PATH run pipe ... --json` are added under "conlab".

Usage: python3 queue_pipe.py [--count N] [--capacity N] [--rounds N] [--conlab PATH]
"""

import argparse
import json
import multiprocessing as mp
import platform
import subprocess
import sys
import time


def percentiles(samples_ns):
    s = sorted(samples_ns)
    n = len(s)

    def rank(p):
        r = -(-p * n // 100)  # ceil(p/100 * n)
        return s[min(max(r, 1), n) - 1]

    us = lambda ns: round(ns / 1000.0, 3)
    return {
        "min_us": us(s[0]),
        "p50_us": us(rank(50)),
        "p99_us": us(rank(99)),
        "max_us": us(s[-1]),
        "mean_us": us(sum(s) / n),
    }


def queue_writer(q, count):
    for _ in range(count):
        q.put(time.monotonic_ns())


def queue_reader(q, count, results):
    latencies = []
    first = last = None
    for _ in range(count):
        stamp = q.get()
        last = time.monotonic_ns()
        if first is None:
            first = stamp
        latencies.append(last - stamp)
    results.send((first, last, latencies))
    results.close()


def queue_rate(count, capacity):
    q = mp.Queue(maxsize=capacity)
    mine, theirs = mp.Pipe(duplex=False)
    reader = mp.Process(target=queue_reader, args=(q, count, theirs))
    writer = mp.Process(target=queue_writer, args=(q, count))
    reader.start()
    writer.start()
    first, last, latencies = mine.recv()
    writer.join()
    reader.join()
    out = {
        "count": count,
        "capacity": capacity,
        "items_per_sec": round(count / ((last - first) / 1e9), 1),
    }
    out.update({f"latency_{k}": v for k, v in percentiles(latencies).items()})
    return out


def pong(conn, other_end):
    # Forked, this process holds both ends; until it closes the parent's, it never sees EOF.
    other_end.close()
    while True:
        try:
            data = conn.recv_bytes()
        except EOFError:
            break
        conn.send_bytes(data)


def pipe_rtt(rounds):
    mine, theirs = mp.Pipe()  # duplex: a socketpair
    child = mp.Process(target=pong, args=(theirs, mine))
    child.start()
    theirs.close()
    message = b"\0" * 8
    for _ in range(100):
        mine.send_bytes(message)
        mine.recv_bytes()
    rtts = []
    started = time.perf_counter_ns()
    for _ in range(rounds):
        t = time.perf_counter_ns()
        mine.send_bytes(message)
        mine.recv_bytes()
        rtts.append(time.perf_counter_ns() - t)
    elapsed = (time.perf_counter_ns() - started) / 1e9
    mine.close()
    child.join()
    out = {"rounds": rounds, "round_trips_per_sec": round(rounds / elapsed, 1)}
    out.update({f"rtt_{k}": v for k, v in percentiles(rtts).items()})
    return out


def conlab_figures(path, count, capacity, rounds):
    def run(*args):
        done = subprocess.run(
            [path, "run", *args, "--json"], capture_output=True, text=True, timeout=600
        )
        return json.loads(done.stdout)["metrics"]

    q = run("queue", "--set", "mode=rate", "--set", f"count={count}",
            "--set", f"capacity={capacity}")
    p = run("pipe", "--set", f"rounds={rounds}")
    pick = lambda m, prefix: {k: v for k, v in m.items() if k.startswith(prefix)}
    return {
        "queue": {"items_per_sec": q.get("items_per_sec"), **pick(q, "latency_")},
        "pipe": {"round_trips_per_sec": p.get("round_trips_per_sec"), **pick(p, "rtt_"),
                 "context_switch_us": p.get("context_switch_us")},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--capacity", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=10_000)
    ap.add_argument("--conlab", metavar="PATH")
    args = ap.parse_args()
    result = {
        "python": platform.python_version(),
        "start_method": mp.get_start_method(),
        "queue": queue_rate(args.count, args.capacity),
        "pipe": pipe_rtt(args.rounds),
    }
    if args.conlab:
        result["conlab"] = conlab_figures(args.conlab, args.count, args.capacity, args.rounds)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

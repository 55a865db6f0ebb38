# conlab's `cpu-vs-io --set mode=python`: the same two task sets as the native mode, in CPython
# threads. CPU-bound: a busy loop of about CPU_US microseconds. IO-bound: a request to conlab's
# service on 127.0.0.1:PORT, which answers after its delay. For each worker count, each set runs
# POINT_MS milliseconds; one JSON line per point, printed as soon as it is measured.
# Usage: python3 -c <this file> PORT CPU_US POINT_MS COUNTS     (COUNTS: 1,2,4,...)
import json
import socket
import sys
import threading
import time

port = int(sys.argv[1])
cpu_us = float(sys.argv[2])
point_s = float(sys.argv[3]) / 1000.0
counts = [int(n) for n in sys.argv[4].split(",")]
MESSAGE = 8


def loops_per_us():
    """Loop turns a microsecond, the fastest of a few timings (a busy machine only slows it)."""
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        x = 0
        for _ in range(20000):
            x ^= 1
        best = min(best, time.perf_counter() - t)
    return 20000 / (best * 1e6)


cpu_loops = max(1, int(cpu_us * loops_per_us()))


def cpu_task():
    x = 0
    for _ in range(cpu_loops):
        x ^= 1


def io_task(sock, request):
    sock.sendall(request)
    got = b""
    while len(got) < MESSAGE:
        chunk = sock.recv(MESSAGE - len(got))
        if not chunk:
            raise ConnectionError("the service closed the connection")
        got += chunk


def point(kind, workers):
    done = [0] * workers
    start = threading.Barrier(workers + 1)
    deadline = [0.0]

    def work(i):
        sock = None
        if kind == "io":
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = i.to_bytes(MESSAGE, "little")
        start.wait()
        while time.monotonic() < deadline[0]:
            if sock is None:
                cpu_task()
            else:
                io_task(sock, request)
            done[i] += 1
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=work, args=(i,), name=f"{kind}-{i}") for i in range(workers)]
    for t in threads:
        t.start()
    cpu_before = time.process_time()
    deadline[0] = time.monotonic() + point_s
    t0 = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    cpu = time.process_time() - cpu_before
    print(json.dumps({"set": kind, "workers": workers, "tasks": sum(done), "secs": secs,
                      "cpu_s": cpu}), flush=True)


print(json.dumps({"python": sys.version.split()[0], "switch_interval_s": sys.getswitchinterval(),
                  "cpu_loops": cpu_loops}), flush=True)
for n in counts:
    for kind in ("cpu", "io"):
        point(kind, n)

# conlab's `multicore --set mode=python`: the same busy loop as the Rust modes, in real CPython
# threads, so the real GIL can be watched next to the simulated one.
# Usage: python3 -c <this file> WORKERS SECONDS      Prints one JSON line: {"ops": N, ...}
import json
import sys
import threading
import time

workers = int(sys.argv[1])
seconds = float(sys.argv[2])
counts = [0] * workers
deadline = time.monotonic() + seconds


def busy(index):
    x = 0
    ops = 0
    while time.monotonic() < deadline:
        for _ in range(1000):
            x ^= 1
        ops += 1000
    counts[index] = ops


threads = [threading.Thread(target=busy, args=(i,), name=f"busy-{i}") for i in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"ops": sum(counts), "switch_interval_s": sys.getswitchinterval(),
                  "python": sys.version.split()[0]}))

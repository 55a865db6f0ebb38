# CPython's GIL hand-off, for comparison with conlab's simulated one (`cargo bench -- gil`).
# Two threads give the GIL away as often as they can (time.sleep(0) releases it) and count
# how often the other thread ran next: that is a hand-off. Prints one JSON line.
# Usage: python3 assets/python/gil_handoff.py [SECONDS]
import json
import sys
import threading
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
last = [None]
handoffs = [0]
deadline = time.monotonic() + seconds


def player(me):
    while time.monotonic() < deadline:
        if last[0] != me:
            handoffs[0] += 1
            last[0] = me
        time.sleep(0)


threads = [threading.Thread(target=player, args=(i,)) for i in range(2)]
started = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - started
print(json.dumps({"python": sys.version.split()[0], "seconds": round(elapsed, 3),
                  "handoffs": handoffs[0],
                  "us_per_handoff": round(elapsed * 1e6 / max(handoffs[0], 1), 2)}))

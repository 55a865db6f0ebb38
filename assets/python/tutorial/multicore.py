# 多核CPU: one busy loop per core, first as threads, then as processes;
# how many cores each kept busy is CPU time divided by wall time.
import multiprocessing
import os
import threading
import time

SECONDS = 1.0


def loop():
    x = 0
    deadline = time.monotonic() + SECONDS  # the tutorial's loop never ends
    while time.monotonic() < deadline:
        x = x ^ 1


def cores_used(kind, start_worker):
    before = os.times()
    workers = [start_worker() for _ in range(multiprocessing.cpu_count())]
    for w in workers:
        w.join()
    after = os.times()
    cpu = sum(after[:4]) - sum(before[:4])  # user + system, children too
    wall = after.elapsed - before.elapsed
    print("%s: %d busy loops kept %.2f cores busy"
          % (kind, len(workers), cpu / wall))


def started(worker):
    worker.start()
    return worker


if __name__ == '__main__':
    cores_used("threads", lambda: started(threading.Thread(target=loop)))
    cores_used("processes",
               lambda: started(multiprocessing.Process(target=loop)))

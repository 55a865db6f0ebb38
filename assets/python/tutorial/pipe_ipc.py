# 进程间通信 through a Pipe: two ends, one process at each. ping sends a
# message, pong sends it back, ping times the round trip.
import statistics
import time
from multiprocessing import Pipe, Process


def pong(conn):
    while (message := conn.recv()) is not None:
        conn.send(message)


if __name__ == '__main__':
    ping_end, pong_end = Pipe()  # duplex: each end sends and receives
    p = Process(target=pong, args=(pong_end,))
    p.start()
    times = []
    for i in range(1000):
        start = time.perf_counter()
        ping_end.send(i)
        assert ping_end.recv() == i
        times.append(time.perf_counter() - start)
    ping_end.send(None)  # tells pong to stop
    p.join()
    print("round trips: %d, median %.1f us, pong exit code %s"
          % (len(times), statistics.median(times) * 1e6, p.exitcode))

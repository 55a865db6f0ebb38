# The tutorial's distributed queues, timed: a BaseManager serves a task queue and a result
# queue on loopback; worker processes connect, take each number, square it (with no sleep
# unless asked), and put back "n * n = r". Prints one JSON line: tasks per second from the
# first put to the last result, as conlab's `distributed` scenario reports its own.
#
#   python3 distributed_bench.py TASKS WORKERS WORK_MS
import json
import queue
import random
import sys
import time
from multiprocessing import Process
from multiprocessing.managers import BaseManager

TASKS, WORKERS, WORK_MS = (int(a) for a in sys.argv[1:4])
AUTHKEY = b'conlab-bench'

task_queue = queue.Queue()
result_queue = queue.Queue()


class QueueManager(BaseManager):
    pass


def worker(address):
    class WorkerManager(BaseManager):
        pass
    WorkerManager.register('get_task_queue')
    WorkerManager.register('get_result_queue')
    m = WorkerManager(address=address, authkey=AUTHKEY)
    m.connect()
    task, result = m.get_task_queue(), m.get_result_queue()
    while True:
        n = task.get()
        if n is None:
            return
        if WORK_MS:
            time.sleep(WORK_MS / 1000)
        result.put('%d * %d = %d' % (n, n, n * n))


if __name__ == '__main__':
    QueueManager.register('get_task_queue', callable=lambda: task_queue)
    QueueManager.register('get_result_queue', callable=lambda: result_queue)
    manager = QueueManager(address=('127.0.0.1', 0), authkey=AUTHKEY)
    manager.start()
    task, result = manager.get_task_queue(), manager.get_result_queue()
    workers = [Process(target=worker, args=(manager.address,)) for _ in range(WORKERS)]
    for w in workers:
        w.start()
    started = time.perf_counter()
    for _ in range(TASKS):
        task.put(random.randint(0, 10000))
    results = [result.get(timeout=60) for _ in range(TASKS)]
    seconds = time.perf_counter() - started
    for _ in workers:
        task.put(None)
    for w in workers:
        w.join()
    manager.shutdown()
    print(json.dumps({'tasks': len(results), 'seconds': seconds,
                      'tasks_per_sec': len(results) / seconds}))

# 进程间通信: a writer process puts A, B, C on a Queue; a reader process
# takes them off, in an endless loop that only terminate() ends.
import os
import random
import time
from multiprocessing import JoinableQueue, Process


def write(q):
    print("process to write: %s" % os.getpid(), flush=True)
    for value in ['A', 'B', 'C']:
        print("put %s to queue..." % value, flush=True)
        q.put(value)
        time.sleep(random.random())


def read(q):
    print("process to read: %s" % os.getpid(), flush=True)
    while True:
        value = q.get(True)
        print("get %s from queue" % value, flush=True)
        q.task_done()


if __name__ == '__main__':
    q = JoinableQueue()
    pw = Process(target=write, args=(q,))
    pr = Process(target=read, args=(q,))
    pw.start()
    pr.start()
    pw.join()
    q.join()  # wait until the reader has taken every item
    pr.terminate()  # its loop never ends on its own
    pr.join()
    print("reader exit code: %s" % pr.exitcode)  # -15: killed by SIGTERM

# 进程池Pool: Pool(4) runs five tasks; task 4 waits for a free worker.
import os
import random
import time
from multiprocessing import Pool


def func(name):
    print("run task %s %s" % (name, os.getpid()), flush=True)
    start = time.time()
    time.sleep(random.random() * 3)
    end = time.time()
    print("finish task %s use %0.2f second" % (name, end - start),
          flush=True)


if __name__ == "__main__":
    print("parent process is %s" % os.getpid(), flush=True)
    p = Pool(4)
    results = [p.apply_async(func, args=(i,)) for i in range(5)]
    print("waiting for subprocess done", flush=True)
    p.close()
    p.join()
    for result in results:
        result.get()  # raises here whatever a task raised in its worker
    print("all subprocess done")

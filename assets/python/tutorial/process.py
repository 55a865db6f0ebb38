# 多进程(multiprocessing): a Process runs a function with arguments in a
# child; join() waits for it.
import multiprocessing
import os
from multiprocessing import Process

GLOBAL = 0


def run_proc(name):
    print("run child process %s %s" % (name, os.getpid()))


def read_global():
    print("the child sees GLOBAL = %s" % GLOBAL)


if __name__ == '__main__':
    print("run parent process %s" % os.getpid())
    p = Process(target=run_proc, args=('test',))  # args is a tuple
    print("child process start %s" % p.name)
    p.start()
    p.join()
    print("child process end, exit code %s" % p.exitcode)

    # What a child sees of a change made just before start() depends on
    # how it was started: fork copies memory, spawn imports afresh.
    print("default start method: %s" % multiprocessing.get_start_method())
    GLOBAL = 42
    for method in ('fork', 'spawn'):
        print("%s:" % method, end=' ', flush=True)
        context = multiprocessing.get_context(method)
        child = context.Process(target=read_global)
        child.start()
        child.join()

# 多线程: a thread runs a function; start() starts it, join() waits.
import threading


def thr():
    name = threading.current_thread().name
    print("thread %s is running" % name)
    n = 0
    while n < 5:
        n += 1
        print("thread %s >>> %s" % (name, n))
    print("thread %s ended" % name)


print("thread %s is running" % threading.current_thread().name)
t = threading.Thread(target=thr, name="thread-01")
u = threading.Thread(target=thr)  # unnamed: Python names it for us
t.start()
u.start()
t.join()
u.join()
print("thread %s ended" % threading.current_thread().name)

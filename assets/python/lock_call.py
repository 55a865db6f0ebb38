# The tutorial's Lock example with one change that lets the race show in CPython 3.10 and
# later: the new balance comes from a function call placed between the read and the write.
# Entering a function is one of the few points where CPython switches threads, so another
# thread can now write between this thread's read and its write.
#     python3 assets/python/lock_call.py         without the lock: usually not 0
#     python3 assets/python/lock_call.py lock    with the tutorial's lock: always 0
# With `lock`, each change holds the lock, taken and released in try...finally: the
# tutorial's second example, its mix of tabs and spaces (a TabError in Python 3) straightened.
import sys, threading

balance = 0
lock = threading.Lock()

def plus(a, b):
    return a + b

def change_it(n):
    global balance
    balance = plus(balance, n)
    balance = plus(balance, -n)

def run_thread(n):
    for i in range(1000000):
        change_it(n)

def run_thread_locked(n):
    for i in range(1000000):
        lock.acquire()
        try:
            change_it(n)
        finally:
            lock.release()

target = run_thread_locked if sys.argv[1:] == ["lock"] else run_thread
t1 = threading.Thread(target=target, args=(5,))
t2 = threading.Thread(target=target, args=(8,))
t1.start()
t2.start()
t1.join()
t2.join()
print(balance)

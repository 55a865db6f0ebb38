# The tutorial's Lock example without the lock, as the tutorial writes it (only its
# commented-out Python 2 prints are left out). conlab's `lock --set mode=python` runs it, and
# so can you: python3 assets/python/lock_tutorial.py
# CPython 3.10 and later print 0 here; the lock lesson says why.
import time, threading

balance = 0

def change_it(n):
    global balance
    balance = balance + n
    balance = balance - n

def run_thread(n):
    for i in range(1000000):
        change_it(n)

t1 = threading.Thread(target=run_thread, args=(5,))
t2 = threading.Thread(target=run_thread, args=(8,))
t1.start()
t2.start()
t1.join()
t2.join()
print(balance)

# ThreadLocal: each thread finds its own student without it being passed
# down, first through a global dict, then through threading.local().
import threading


class Student:
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


# A dict keyed by the thread. Each dict operation is safe on its own in
# CPython, so no lock is needed; but every function must look it up.
global_dict = {}


def std_thread(name):
    global_dict[threading.current_thread()] = Student(name)
    do_task_1()
    del global_dict[threading.current_thread()]  # or it outlives the thread


def do_task_1():
    std = global_dict[threading.current_thread()]
    print("%s in %s (global_dict)" % (std, threading.current_thread().name))


# threading.local() does the lookup: each thread sees its own attributes.
local_school = threading.local()


def process_student():
    std = local_school.student
    print("%s in %s" % (std, threading.current_thread().name))


def process_thread(name):
    local_school.student = Student(name)
    process_student()


for target in (std_thread, process_thread):
    t1 = threading.Thread(target=target, args=('aaron',), name='Thread-A')
    t2 = threading.Thread(target=target, args=('ss',), name='Thread-B')
    t1.start()
    t2.start()
    t1.join()
    t2.join()

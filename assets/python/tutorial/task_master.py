# task_master.py -- the tutorial's master, corrected: import time, random, queue (the
# tutorial had a full-width comma), lambda (not lamba), task_queue (not send_queue).
# It listens on 127.0.0.1: the tutorial's '' listens on every interface, where anyone who can
# reach port 5000 can try the key.
import os
import random
import queue
from multiprocessing.managers import BaseManager

# The task queue and the result queue
task_queue = queue.Queue()
result_queue = queue.Queue()


# A QueueManager derived from BaseManager
class QueueManager(BaseManager):
    pass


# Register both queues on the network; callable names the queue each call returns
QueueManager.register('get_task_queue', callable=lambda: task_queue)
QueueManager.register('get_result_queue', callable=lambda: result_queue)

# Bind port 5000 and set the authkey abc
port = int(os.environ.get('TASK_MASTER_PORT', '5000'))
manager = QueueManager(address=('127.0.0.1', port), authkey=b'abc')

# Start the manager
manager.start()

# The queues as the network serves them: only through these may tasks be put
task = manager.get_task_queue()
result = manager.get_result_queue()

# Put some tasks
for i in range(10):
    n = random.randint(0, 10000)
    print('Put task %d...' % n)
    task.put(n)

# Read the results from the result queue
print('Try get results...')
for i in range(10):
    r = result.get(timeout=10)
    print('Result: %s' % r)

# Shut down
manager.shutdown()
print('master exit.')

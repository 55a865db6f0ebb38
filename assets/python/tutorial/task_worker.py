# task_worker.py -- the tutorial's worker, corrected: Python 3's queue (not Python 2's
# Queue), multiprocessing.managers (not multiprocessing.Manager), and except
# queue.Empty rather than a bare except that would hide every other error.
import os
import time
import queue
from multiprocessing.managers import BaseManager


# A QueueManager like the master's
class QueueManager(BaseManager):
    pass


# This QueueManager only gets the queues from the network, so it registers only their names
QueueManager.register('get_task_queue')
QueueManager.register('get_result_queue')

# Connect to the server, the machine that runs task_master.py
server = os.environ.get('TASK_MASTER_HOST', '127.0.0.1')
port = int(os.environ.get('TASK_MASTER_PORT', '5000'))
print('Connect to server %s...' % server)

# The port and the authkey must be exactly those of task_master.py
m = QueueManager(address=(server, port), authkey=b'abc')

# Connect over the network
m.connect()

# The queue objects
task = m.get_task_queue()
result = m.get_result_queue()

# Take tasks from the task queue and put the results on the result queue
for i in range(10):
    try:
        n = task.get(timeout=1)
        print('run task %d * %d...' % (n, n))
        r = '%d * %d = %d' % (n, n, n * n)
        time.sleep(float(os.environ.get('TASK_SECONDS', '1')))
        result.put(r)
    except queue.Empty:
        print('task queue is empty.')

# Done
print('worker exit.')

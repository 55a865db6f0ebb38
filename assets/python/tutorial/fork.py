# 多进程(multiprocessing): os.fork() is called once and returns twice.
import os

# Flush first: a line still in the buffer would be copied into the child
# and printed twice when the output goes to a pipe or a file.
print("process %s start" % os.getpid(), flush=True)

pid = os.fork()
if pid == 0:
    print("this is child process %s, the parent process is %s"
          % (os.getpid(), os.getppid()), flush=True)
    os._exit(0)  # the child's work ends here, not in the parent's code
else:
    print("this is parent process %s, the child process is %s"
          % (os.getpid(), pid), flush=True)
    _, status = os.waitpid(pid, 0)  # reap it: no zombie stays behind
    print("child %s exited with code %s"
          % (pid, os.waitstatus_to_exitcode(status)))

# 子进程: call() waits for an exit code; communicate() feeds stdin and
# reads stdout and stderr. readlink and sort are on every Linux.
import subprocess

# call() hands the child this program's own stdin (from a terminal: the
# terminal). /proc/self/fd/0 names what the child got as its stdin.
print("$ readlink /proc/self/fd/0", flush=True)
code = subprocess.call(['readlink', '/proc/self/fd/0'])
print('exit code:', code, flush=True)
code = subprocess.call(['readlink', '/proc/self/fd/0'],
                       stdin=subprocess.DEVNULL)
print('exit code:', code, flush=True)

print("$ sort", flush=True)
p = subprocess.Popen(['sort'], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
output, err = p.communicate(b"set q=mx\nwww.google.com\nexit\n")
print(output.decode('utf-8'), end='')
print('exit code:', p.returncode)

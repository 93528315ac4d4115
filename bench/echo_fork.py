"""Echo server with a process per client (os.fork), as the forked server of the concurrency study.

    python3 echo_fork.py PORT    (prints the port once listening; 0 picks one)
"""
import os
import signal
import socket
import sys

# Children are reaped by the kernel: no zombies, no wait loop.
signal.signal(signal.SIGCHLD, signal.SIG_IGN)

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(('127.0.0.1', int(sys.argv[1])))
listener.listen(4096)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    if os.fork() == 0:
        listener.close()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except ConnectionError:
            pass
        os._exit(0)
    conn.close()

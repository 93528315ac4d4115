"""A prime server in the original style, the baseline of `npm run bench:gateway`.

One thread per client, JSON lines in and out, and a process pool doing every computation
(primality by trial division, counts by a sieve), the way the first version of this
project's prime server answered `prime N`, `count A B` and `echo TEXT`.

    python3 bench/gateway-python-server.py PORT
"""
import json
import math
import os
import socket
import sys
import threading
from concurrent.futures import ProcessPoolExecutor


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    for d in range(3, math.isqrt(n) + 1, 2):
        if n % d == 0:
            return False
    return True


def count_primes(a, b):
    if b < 2:
        return 0
    sieve = bytearray([1]) * (b + 1)
    sieve[0] = sieve[1] = 0
    for p in range(2, math.isqrt(b) + 1):
        if sieve[p]:
            for m in range(p * p, b + 1, p):
                sieve[m] = 0
    return sum(sieve[max(a, 0):])


def echo(text):
    return text


def serve(conn, pool):
    reader = conn.makefile('rb')
    try:
        for raw in reader:
            words = raw.decode('utf-8', 'replace').split()
            try:
                if words[0] == 'prime':
                    n = int(words[1])
                    answer = {'ok': True, 'n': str(n), 'is_prime': pool.submit(is_prime, n).result()}
                elif words[0] == 'count':
                    a, b = int(float(words[1])), int(float(words[2]))
                    answer = {'ok': True, 'count': pool.submit(count_primes, a, b).result()}
                elif words[0] == 'echo':
                    answer = {'ok': True, 'echo': pool.submit(echo, ' '.join(words[1:])).result()}
                else:
                    answer = {'ok': False, 'error': 'unknown command'}
            except (IndexError, ValueError):
                answer = {'ok': False, 'error': 'bad request'}
            conn.sendall((json.dumps(answer) + '\n').encode())
    except OSError:
        pass
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    pool = ProcessPoolExecutor(max_workers=os.cpu_count())
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', port))
    server.listen(1024)
    print('ready', server.getsockname()[1], flush=True)
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn, pool), daemon=True).start()


if __name__ == '__main__':
    main()

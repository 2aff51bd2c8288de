# Holds N idle TCP connections from one source address for the memory tests
# (test_tcp_idle_memory.py); on command, echoes a distinct payload on each.
"""Usage: conn_holder.py SRC DST PORT N  (run inside the peer namespace)

Opens N connections from SRC to DST:PORT one after the other, prints
"open N", then reads commands from stdin, one a line:
  echo   send each connection its own payload and read it back; prints
         "echo OK BAD" (BAD: connections whose echo differed or failed)
  close  close everything, print "closed", exit
EOF on stdin closes too. Only the standard library; RLIMIT_NOFILE is raised
to its hard limit (20,000 here), so N stays below that.
"""

import random
import resource
import socket
import struct
import sys


def recv_exact(s, n):
    b = bytearray()
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise ConnectionError(f"EOF after {len(b)} of {n} bytes")
        b += c
    return bytes(b)


def payload(src, i, rnd):
    return struct.pack("!4sI", socket.inet_aton(src), i) + rnd.randbytes(16 + i % 200)


def main():
    src, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(20)
        s.bind((src, 0))
        s.connect((dst, port))
        socks.append(s)
    print("open", len(socks), flush=True)
    rounds = 0
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "echo":
            rnd = random.Random(rounds)
            rounds += 1
            bad = 0
            for i, s in enumerate(socks):
                msg = payload(src, i, rnd)
                try:
                    s.sendall(msg)
                    if recv_exact(s, len(msg)) != msg:
                        bad += 1
                except OSError:
                    bad += 1
            print("echo", len(socks) - bad, bad, flush=True)
        elif cmd == "close":
            break
    for s in socks:
        s.close()
    print("closed", flush=True)


if __name__ == "__main__":
    main()

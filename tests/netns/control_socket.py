#!/usr/bin/env python3
"""Abuse for a mesh-site control socket (tests/netns/control_socket.sh); stdlib only.

  control_socket.py ask SOCKET PART...
      sends the bytes on one connection, prints what comes back until the
      daemon closes it (at most 10 s): one line of JSON, or nothing. Each
      PART is hex, or hex*N for N copies of it (an argument holds at most
      128 KiB)
  control_socket.py hold SOCKET PART...
      sends the bytes and holds the connection without a newline; prints the
      seconds until the daemon closes it (at most 30 s)
  control_socket.py flood SOCKET COUNT READY_FILE
      opens COUNT connections that never send a byte and holds them (in
      several processes if RLIMIT_NOFILE cannot be raised) until killed; when all are open, or 60 s
      have passed, writes "opened N refused M in S s" to READY_FILE
"""

import os
import resource
import signal
import socket
import sys
import time


def ask(path, data):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon refused a long line before reading all of it
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # the daemon closed with part of a long line unread: its answer came first
    sys.stdout.write(answer.decode("utf-8", "backslashreplace"))


def hold(path, data):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(data)
        start = time.monotonic()
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        print(f"{time.monotonic() - start:.2f}")


def open_connections(path, count, deadline):
    held = []
    refused = 0
    while len(held) < count and time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
            held.append(s)
        except OSError:
            # BlockingIOError: the listen queue is full, the daemon is not accepting.
            s.close()
            refused += 1
            time.sleep(0.001)
    return held, refused


def flood(path, count, ready_file):
    # Raising the hard limit needs CAP_SYS_RESOURCE, which a container's root
    # may lack: then several processes share the connections.
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count + 256, count + 256))
    except (ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    per_process = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64
    shares = [min(per_process, count - i) for i in range(0, count, per_process)]
    start = time.monotonic()
    deadline = start + 60
    reports, report = os.pipe()
    children = []
    for share in shares:
        pid = os.fork()
        if pid == 0:
            os.close(reports)
            held, refused = open_connections(path, share, deadline)
            os.write(report, f"{len(held)} {refused}\n".encode())
            while True:
                time.sleep(3600)
        children.append(pid)
    os.close(report)

    def stop(*_):
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    text = b""
    while text.count(b"\n") < len(shares):
        chunk = os.read(reports, 4096)
        if not chunk:
            break
        text += chunk
    counts = [tuple(map(int, line.split())) for line in text.decode().splitlines()]
    opened = sum(c[0] for c in counts)
    refused = sum(c[1] for c in counts)
    with open(ready_file + ".tmp", "w") as f:
        f.write(f"opened {opened} refused {refused} in {time.monotonic() - start:.1f} s by {len(shares)} process(es)\n")
    os.rename(ready_file + ".tmp", ready_file)
    while True:
        time.sleep(3600)


def parts(args):
    data = b""
    for part in args:
        hex_bytes, _, copies = part.partition("*")
        data += bytes.fromhex(hex_bytes) * int(copies or 1)
    return data


def main():
    command = sys.argv[1]
    if command == "ask":
        ask(sys.argv[2], parts(sys.argv[3:]))
    elif command == "hold":
        hold(sys.argv[2], parts(sys.argv[3:]))
    elif command == "flood":
        flood(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()

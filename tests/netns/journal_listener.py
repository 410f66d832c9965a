#!/usr/bin/env python3
"""A stand-in for journald's native socket: binds SOCKET (a Unix datagram
socket, as /run/systemd/journal/socket) and writes each entry it receives to
OUT as one JSON object a line, fields by name.

The native protocol (systemd's "Native Journal Protocol"): an entry is one
datagram of fields, each either "KEY=value\\n" or, for a value that may hold
a newline, "KEY\\n", the value's length as a 64-bit little-endian integer,
the value and "\\n". An entry too big for a datagram comes as a memfd passed
with SCM_RIGHTS instead; its contents are read the same way.

usage: journal_listener.py SOCKET OUT
"""
import array
import json
import os
import socket
import struct
import sys


def fields(data: bytes) -> dict:
    out = {}
    i = 0
    while i < len(data):
        end = data.index(b"\n", i)
        line = data[i:end]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = end + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, end + 1)
            start = end + 1 + 8
            value = data[start:start + size]
            if data[start + size:start + size + 1] != b"\n":
                raise ValueError(f"field {key!r}: no newline after its {size} bytes")
            i = start + size + 1
        out.setdefault(key.decode(), []).append(value.decode("utf-8", "replace"))
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def main() -> None:
    path, out_path = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(out_path, "a", encoding="utf-8") as out:
        while True:
            fds = array.array("i")
            data, ancdata, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(fds.itemsize))
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                # The sender's writes left the shared offset at the end.
                data = os.pread(fd, os.fstat(fd).st_size, 0)
                os.close(fd)
            try:
                entry = fields(data)
            except (ValueError, struct.error) as error:
                entry = {"_unparsable": str(error), "_raw": data.hex()}
            out.write(json.dumps(entry) + "\n")
            out.flush()


if __name__ == "__main__":
    main()

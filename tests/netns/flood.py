#!/usr/bin/python3
"""Garbage at a site's IKE and NAT-T ports for tests/netns/flood.sh (stdlib only).

  flood.py TARGET SOURCE SECONDS RATE REAL_SPI SEED

For SECONDS, about RATE datagrams a second from SOURCE (an address no peer
has) to TARGET's ports 500 and 4500, each of one kind drawn at random:

  port 500 and 4500 (after the non-ESP marker on 4500), IKE:
    random          0-1500 random bytes; a few large ones, up to 65000
    bad-length      an IKE_SA_INIT whose header Length is not the datagram's
    spi-zero        a well-formed IKE_SA_INIT with SPIi 0 (RFC 7296 section 3.1)
    critical        an IKE_SA_INIT with an unknown payload marked critical
    version         major version 0, 1, 3 or 15
    truncated       a well-formed IKE_SA_INIT cut short
    no-ke           an IKE_SA_INIT without its KE payload
    init            a well-formed IKE_SA_INIT (no peer has SOURCE)
    unknown-spis    an INFORMATIONAL request for SPIs no IKE SA has
  port 4500 only, ESP:
    esp-unknown     an ESP header with a random SPI no SA has
    esp-short       fewer than 8 bytes (no room for SPI and sequence number)
    esp-real-short  REAL_SPI and a sequence number, too short for IV and ICV
    esp-bad-icv     REAL_SPI, a random sequence number, random IV, body and ICV
    keepalive       a NAT keepalive (0xFF), empty

Prints one JSON object: the seed, how many were sent of each kind to each
port, the total, the seconds it took and the rate reached.
"""
import json
import os
import random
import socket
import struct
import sys
import time

KE_POINT = bytes.fromhex(
    "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
    "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3")


def transform(last, ttype, tid, attributes=b""):
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attributes), ttype, 0, tid) + attributes


def ike_sa_init(rng, spi_i=None, version=0x20, with_ke=True, critical=False):
    transforms = (transform(False, 1, 20, struct.pack("!HH", 0x800E, 256))
                  + transform(False, 2, 5)
                  + transform(True, 4, 19))
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, 3) + transforms
    nonce_data = rng.randbytes(32)
    nonce = struct.pack("!BBH", 0, 0, 4 + len(nonce_data)) + nonce_data          # next: none
    payloads = []                                                                  # (type, body)
    payloads.append((33, proposal))
    if with_ke:
        payloads.append((34, struct.pack("!HH", 19, 0) + KE_POINT))
    if critical:
        payloads.append((200, rng.randbytes(8)))
    payloads.append((40, nonce_data))
    body = b""
    for i, (ptype, data) in enumerate(payloads):
        next_type = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        flags = 0x80 if ptype == 200 else 0
        body += struct.pack("!BBH", next_type, flags, 4 + len(data)) + data
    spi = rng.randbytes(8) if spi_i is None else spi_i
    header = struct.pack("!8s8sBBBBII", spi, bytes(8), payloads[0][0], version, 34, 0x08, 0, 28 + len(body))
    return header + body


def informational(rng):
    header = struct.pack("!8s8sBBBBII", rng.randbytes(8), rng.randbytes(8), 46, 0x20, 37, 0x08, 1, 28 + 36)
    return header + struct.pack("!BBH", 0, 0, 36) + rng.randbytes(32)


def ike_kind(rng, kind):
    if kind == "random":
        return rng.randbytes(rng.randint(1500, 65000) if rng.random() < 0.01 else rng.randint(0, 1500))
    if kind == "bad-length":
        message = bytearray(ike_sa_init(rng))
        struct.pack_into("!I", message, 24, len(message) + rng.choice([-100, -1, 1, 1000]))
        return bytes(message)
    if kind == "spi-zero":
        return ike_sa_init(rng, spi_i=bytes(8))
    if kind == "critical":
        return ike_sa_init(rng, critical=True)
    if kind == "version":
        return ike_sa_init(rng, version=rng.choice([0x00, 0x10, 0x30, 0xF0]))
    if kind == "truncated":
        message = ike_sa_init(rng)
        return message[:rng.randint(0, len(message) - 1)]
    if kind == "no-ke":
        return ike_sa_init(rng, with_ke=False)
    if kind == "init":
        return ike_sa_init(rng)
    if kind == "unknown-spis":
        return informational(rng)
    raise ValueError(kind)


IKE_KINDS = ["random", "bad-length", "spi-zero", "critical", "version", "truncated", "no-ke", "init",
             "unknown-spis"]
ESP_KINDS = ["esp-unknown", "esp-short", "esp-real-short", "esp-bad-icv", "keepalive"]


def esp_kind(rng, kind, real_spi):
    if kind == "esp-unknown":
        return struct.pack("!II", rng.randint(256, 0xFFFFFFFF), rng.getrandbits(32)) + rng.randbytes(rng.randint(0, 1400))
    if kind == "esp-short":
        return rng.randbytes(rng.randint(2, 7))   # 1 byte could be a keepalive, 4 zero bytes a marker
    if kind == "esp-real-short":
        return struct.pack("!II", real_spi, rng.getrandbits(32)) + rng.randbytes(rng.randint(0, 15))
    if kind == "esp-bad-icv":
        return struct.pack("!II", real_spi, rng.getrandbits(32)) + rng.randbytes(rng.randint(24, 1400))
    if kind == "keepalive":
        return b"\xff" if rng.random() < 0.5 else b""
    raise ValueError(kind)


def main():
    target, source, seconds, rate, real_spi, seed = (sys.argv[1], sys.argv[2], float(sys.argv[3]),
                                                     int(sys.argv[4]), int(sys.argv[5], 0), int(sys.argv[6]))
    rng = random.Random(seed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 0))
    sent = {}
    total = 0
    start = time.monotonic()
    end = start + seconds
    batch = max(1, rate // 100)   # paced in slices of 10 ms
    while time.monotonic() < end:
        slice_start = time.monotonic()
        for _ in range(batch):
            port = 500 if rng.random() < 0.4 else 4500
            if port == 500 or rng.random() < 0.3:
                kind = rng.choice(IKE_KINDS)
                data = ike_kind(rng, kind)
                if port == 4500:
                    data = bytes(4) + data
            else:
                kind = rng.choice(ESP_KINDS)
                data = esp_kind(rng, kind, real_spi)
            sock.sendto(data, (target, port))
            key = "%d/%s" % (port, kind)
            sent[key] = sent.get(key, 0) + 1
            total += 1
        pause = 0.01 - (time.monotonic() - slice_start)
        if pause > 0:
            time.sleep(pause)
    elapsed = time.monotonic() - start
    print(json.dumps({"seed": seed, "sent": total, "seconds": round(elapsed, 2), "rate": round(total / elapsed),
                      "by-kind": dict(sorted(sent.items()))}))


if __name__ == "__main__":
    main()

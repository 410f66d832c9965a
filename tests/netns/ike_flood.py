#!/usr/bin/python3
"""Spoofed IKE_SA_INIT requests for tests/netns/cookie_flood.sh (stdlib only).

  ike_flood.py TARGET COUNT SOURCE_PREFIX

Sends COUNT IKE_SA_INIT requests to TARGET:500 through a raw socket, each
from a random address in SOURCE_PREFIX (a /24 written as "a.b.c"), with a
random SPI and nonce: a well-formed offer (AES-GCM-16-256, PRF-HMAC-SHA2-256,
ecp256) whose KE is RFC 5903's test point, so that a responder without
cookies would do a DH and keep a half-open IKE SA for each. Nothing comes
back to these addresses: only cookies protect the responder.
"""
import os
import random
import socket
import struct
import sys

KE_POINT = bytes.fromhex(
    "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
    "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3")


def transform(last, ttype, tid, attributes=b""):
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attributes), ttype, 0, tid) + attributes


def ike_sa_init():
    transforms = (transform(False, 1, 20, struct.pack("!HH", 0x800E, 256))   # ENCR AES-GCM-16, 256-bit key
                  + transform(False, 2, 5)                                  # PRF HMAC-SHA2-256
                  + transform(True, 4, 19))                                 # DH ecp256
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, 3) + transforms
    sa = struct.pack("!BBH", 34, 0, 4 + len(proposal)) + proposal                       # next: KE
    ke = struct.pack("!BBHHH", 40, 0, 8 + len(KE_POINT), 19, 0) + KE_POINT              # next: Nonce
    nonce_data = os.urandom(32)
    nonce = struct.pack("!BBH", 0, 0, 4 + len(nonce_data)) + nonce_data
    body = sa + ke + nonce
    header = struct.pack("!8s8sBBBBII", os.urandom(8), bytes(8), 33, 0x20, 34, 0x08, 0, 28 + len(body))
    return header + body


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def datagram(source, target, payload):
    udp = struct.pack("!HHHH", 500, 500, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.getrandbits(16), 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(source), socket.inet_aton(target))
    return ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:] + udp


def main():
    target, count, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(count):
        source = "%s.%d" % (prefix, random.randint(1, 254))
        raw.sendto(datagram(source, target, ike_sa_init()), (target, 0))
    print("sent %d spoofed IKE_SA_INIT requests" % count)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A tiny authoritative DNS server over UDP for the podman suite.

Usage: dnsd.py ADDR NAME=IPV4... Answers A queries for the names given,
an empty NOERROR for other types of a known name, NXDOMAIN for the rest.
Serves until killed; prints "ready" once bound.
"""
import socket
import struct
import sys


def question(packet):
    """The query's name (lowercase, no trailing dot), qtype and wire end."""
    labels, pos = [], 12
    while packet[pos]:
        length = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + length].decode("ascii").lower())
        pos += 1 + length
    qtype = struct.unpack("!H", packet[pos + 1:pos + 3])[0]
    return ".".join(labels), qtype, pos + 5


def answer(packet, records):
    ident, flags = struct.unpack("!HH", packet[:4])
    name, qtype, end = question(packet)
    reply_flags = 0x8400 | (flags & 0x0100)  # response, authoritative, RD echoed
    body = b""
    if name not in records:
        reply_flags |= 3  # NXDOMAIN
    elif qtype == 1:
        body = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(records[name])
    header = struct.pack("!HHHHHH", ident, reply_flags, 1, 1 if body else 0, 0, 0)
    return header + packet[12:end] + body


def main():
    if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 64
    records = dict(arg.lower().split("=", 1) for arg in sys.argv[2:])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((sys.argv[1], 53))
    print("ready", flush=True)
    while True:
        packet, peer = sock.recvfrom(512)
        try:
            sock.sendto(answer(packet, records), peer)
        except (IndexError, UnicodeDecodeError, struct.error):
            continue
    return 0


if __name__ == "__main__":
    sys.exit(main())

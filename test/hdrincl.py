#!/usr/bin/env python3
"""One UDP datagram in a raw IPv4 packet whose header names another
destination than the address sendto() routes it by (IP_HDRINCL).

Usage: hdrincl.py ROUTE HEADER-DST PORT PAYLOAD: sends PAYLOAD to
HEADER-DST:PORT, routed as if to ROUTE. Prints "sent" (exit 0), or
"refused EPERM" (exit 2); another error: its name, exit 1. Needs
CAP_NET_RAW.
"""
import errno
import socket
import struct
import sys


def main():
    route, dst, port, payload = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
    udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload  # no UDP checksum
    # total length, checksum and id are the kernel's to fill in (raw(7))
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_UDP, 0,
                         socket.inet_aton("0.0.0.0"), socket.inet_aton(dst))
    try:
        sock.sendto(header + udp, (route, 0))
    except OSError as err:
        if err.errno == errno.EPERM:
            print("refused EPERM")
            return 2
        print(errno.errorcode.get(err.errno, str(err.errno)))
        return 1
    print("sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())

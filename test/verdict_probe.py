#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UDP probes netprobe does not have, for test/verdict.bats. Each prints
one line and exits like netprobe: "ok in N ms" 0 (the whole echo came back),
"refused EPERM at CALL in N ms" 2, "timeout in N ms" 3 (no echo within
WAIT_S), "error ENAME at CALL in N ms" 4, usage 64.

    verdict_probe.py cmsg ADDR PORT CMSG      connected UDP socket, then
                                              sendmsg with one control
                                              message: none, IP_TOS,
                                              IPV6_TCLASS or UDP_SEGMENT
                                              (two segments: two echoes)
    verdict_probe.py cmsg-hold ADDR PORT CMSG the same, but connect, print
                                              "connected", and send only
                                              after a line on stdin
    verdict_probe.py unspec ADDR PORT         sendto with a sockaddr_in whose
                                              family is AF_UNSPEC (IPv4 UDP
                                              takes it as AF_INET)
    verdict_probe.py inet-on-inet6 ADDR PORT  sendto with an AF_INET
                                              sockaddr on an AF_INET6 socket
    verdict_probe.py tcp-connect ADDR PORT    TCP connect only (port 0 too):
                                              "ok" once connected
    verdict_probe.py udp-send ADDR PORT       connected UDP send (port 0
                                              too): "ok" once sent
    verdict_probe.py lsrr ADDR PORT HOP       connected UDP send with an IPv4
                                              loose source route through HOP
                                              (the packet goes to HOP first):
                                              "ok" once sent
    verdict_probe.py exthdr-ping ADDR 0       ICMPv6 echo request behind a
                                              hop-by-hop options header (a
                                              raw socket: the backstop only)
    verdict_probe.py fragment ADDR 0          an IPv4 UDP later fragment (no
                                              ports); "ok" once sent, since
                                              nothing answers a lone fragment
    verdict_probe.py again ADDR PORT HOW ADDR2 PORT2
                                              one socket sends to ADDR PORT,
                                              which must echo, then to ADDR2
                                              PORT2: the second's outcome.
                                              HOW: sendto (unconnected UDP),
                                              connect (UDP connected to each
                                              in turn), hdrincl (IPv4 UDP
                                              datagrams built whole on a raw
                                              IP_HDRINCL socket: the backstop
                                              only; the echo comes back to a
                                              UDP socket bound to their
                                              source port)
"""

import ctypes
import errno
import socket
import struct
import sys
import time

WAIT_S = 1.5
PAYLOAD = b"verdict probe\n"
GSO_SIZE = 200
SOL_UDP = 17
UDP_SEGMENT = 103
IPV6_HOPOPTS = 54
LIBC = ctypes.CDLL(None, use_errno=True)


class Failed(Exception):
    def __init__(self, err, call):
        super().__init__(err, call)
        self.err = err
        self.call = call


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp_socket(family):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return s


def call(what, function, *args):
    try:
        return function(*args)
    except OSError as e:
        raise Failed(e.errno, what) from e


def control_message(kind):
    if kind == "none":
        return [], PAYLOAD, 1
    if kind == "IP_TOS":
        return [(socket.IPPROTO_IP, socket.IP_TOS, struct.pack("i", 0x10))], PAYLOAD, 1
    if kind == "IPV6_TCLASS":
        return [(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, struct.pack("i", 0x10))], PAYLOAD, 1
    if kind == "UDP_SEGMENT":
        data = (PAYLOAD * (2 * GSO_SIZE // len(PAYLOAD) + 1))[:2 * GSO_SIZE]
        return [(SOL_UDP, UDP_SEGMENT, struct.pack("H", GSO_SIZE))], data, 2
    raise ValueError(kind)


def echoes(s, want_bytes, want_count):
    """Wait for want_count datagrams holding want_bytes in all."""
    s.settimeout(WAIT_S)
    got = b""
    count = 0
    deadline = time.monotonic() + WAIT_S
    while count < want_count:
        s.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            got += s.recv(65536)
        except socket.timeout:
            return "timeout"
        count += 1
    return "ok" if got == want_bytes else "error EBADMSG at recv"


def cmsg_probe(addr, port, kind, hold):
    family = family_of(addr)
    ancillary, data, segments = control_message(kind)
    s = udp_socket(family)
    call("connect", s.connect, (addr, port))
    if hold:
        print("connected", flush=True)
        sys.stdin.readline()
    call("sendmsg", s.sendmsg, [data], ancillary)
    return echoes(s, data, segments)


def raw_sendto(s, sockaddr):
    buf = ctypes.create_string_buffer(PAYLOAD, len(PAYLOAD))
    if LIBC.sendto(s.fileno(), buf, len(PAYLOAD), 0, sockaddr,
                   len(sockaddr)) < 0:
        raise Failed(ctypes.get_errno(), "sendto")
    return echoes(s, PAYLOAD, 1)


def exthdr_ping(addr):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    # next header and length are the kernel's; one PadN option of 4 bytes
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
    call("sendto", s.sendto, struct.pack("!BBHHH", 128, 0, 0, 0, 1) + PAYLOAD,
         (addr, 0))
    deadline = time.monotonic() + WAIT_S
    while True:
        s.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            data = s.recv(2048)
        except socket.timeout:
            return "timeout"
        if data[0] == 129 and data[8:] == PAYLOAD:
            return "ok"


def fragment(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    # offset 8 bytes, no more fragments; the kernel fills in source,
    # length and checksum
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0x4242, 1, 64,
                         socket.IPPROTO_UDP, 0, bytes(4),
                         socket.inet_aton(addr))
    call("sendto", s.sendto, header + PAYLOAD, (addr, 0))
    return "ok"


def hdrincl_datagram(addr, port, source_port):
    """An IPv4 UDP datagram to addr:port, UDP checksum 0 (none); the kernel
    fills in the source address, the total length, ID and checksum."""
    udp = struct.pack("!HHHH", source_port, port, 8 + len(PAYLOAD), 0) + PAYLOAD
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_UDP, 0,
                       bytes(4), socket.inet_aton(addr)) + udp


def again(addr, port, how, addr2, port2):
    """The second send's outcome; the first must echo."""
    if how == "hdrincl":
        reply = udp_socket(socket.AF_INET)
        reply.bind(("0.0.0.0", 0))
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        source_port = reply.getsockname()[1]
    else:
        reply = s = udp_socket(family_of(addr))
    for first, (to, at) in ((True, (addr, port)), (False, (addr2, port2))):
        try:
            if how == "hdrincl":
                call("sendto", s.sendto, hdrincl_datagram(to, at, source_port), (to, 0))
            elif how == "connect":
                call("connect", s.connect, (to, at))
                call("send", s.send, PAYLOAD)
            else:
                call("sendto", s.sendto, PAYLOAD, (to, at))
        except Failed as e:
            if not first:
                raise
            return "error first-%s" % errno.errorcode.get(e.err, str(e.err))
        outcome = echoes(reply, PAYLOAD, 1)
        if first and outcome != "ok":
            return "error first-%s" % outcome.split()[0]
    return outcome


def sockaddr_in(family, addr, port):
    return (struct.pack("=H", family) + struct.pack("!H", port) +
            socket.inet_pton(socket.AF_INET, addr) + bytes(8))


def main(argv):
    if len(argv) < 3 or not argv[2].isdigit():
        sys.stderr.write(__doc__)
        return 64
    mode, addr, port = argv[0], argv[1], int(argv[2])
    start = time.monotonic()
    try:
        if mode in ("cmsg", "cmsg-hold") and len(argv) == 4:
            if mode == "cmsg-hold":
                outcome = cmsg_probe(addr, port, argv[3], True)
                start = time.monotonic()  # ... of the send, after the wait
            else:
                outcome = cmsg_probe(addr, port, argv[3], False)
        elif mode == "unspec" and len(argv) == 3:
            outcome = raw_sendto(udp_socket(socket.AF_INET),
                                 sockaddr_in(socket.AF_UNSPEC, addr, port))
        elif mode == "inet-on-inet6" and len(argv) == 3:
            outcome = raw_sendto(udp_socket(socket.AF_INET6),
                                 sockaddr_in(socket.AF_INET, addr, port))
        elif mode in ("tcp-connect", "udp-send") and len(argv) == 3:
            s = socket.socket(family_of(addr), socket.SOCK_STREAM
                              if mode == "tcp-connect" else socket.SOCK_DGRAM)
            s.settimeout(WAIT_S)
            call("connect", s.connect, (addr, port))
            if mode == "udp-send":
                call("send", s.send, PAYLOAD)
            outcome = "ok"
        elif mode == "lsrr" and len(argv) == 4:
            s = udp_socket(socket.AF_INET)
            call("connect", s.connect, (addr, port))
            # IPOPT_LSRR, length, pointer, the hop, then end of list
            s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes(
                [131, 7, 4]) + socket.inet_aton(argv[3]) + b"\x00")
            call("send", s.send, PAYLOAD)
            outcome = "ok"
        elif mode == "exthdr-ping" and len(argv) == 3:
            outcome = exthdr_ping(addr)
        elif mode == "fragment" and len(argv) == 3:
            outcome = fragment(addr)
        elif (mode == "again" and len(argv) == 6 and argv[5].isdigit() and
              argv[3] in ("sendto", "connect", "hdrincl")):
            outcome = again(addr, port, argv[3], argv[4], int(argv[5]))
        else:
            sys.stderr.write(__doc__)
            return 64
    except Failed as e:
        name = errno.errorcode.get(e.err, str(e.err))
        outcome = ("refused EPERM at %s" % e.call if e.err == errno.EPERM
                   else "error %s at %s" % (name, e.call))
    print("%s in %d ms" % (outcome, (time.monotonic() - start) * 1000))
    return {"ok": 0, "refused": 2, "timeout": 3}.get(outcome.split()[0], 4)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

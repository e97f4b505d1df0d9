#!/usr/bin/env python3
"""Listeners and probes for test/hostfence.bats (host reachability).

Usage:
  hostfence.py listen PORT IFNAME
      In the "host": UDP on PORT, 5353 (mDNS), 1900 (SSDP) and 5355 (LLMNR)
      and TCP on PORT, each over IPv4 (0.0.0.0) and IPv6 ([::], v6only);
      joins 224.0.0.251, 239.255.255.250, 224.0.0.252, ff02::fb and ff02::1:3
      on IFNAME, as avahi and resolved do. Prints "ready" once bound, then one
      line per datagram or connection received:
          delivered udp|tcp DST PORT from SRC: PAYLOAD
      (DST is the packet's destination, from IP_PKTINFO / IPV6_PKTINFO or the
      accepted socket's own address). Serves until killed.
  hostfence.py probe TAG SPEC...
      In the jail: one attempt per SPEC, in order, each printed as
      "SPEC OUTCOME"; exits 0 unless a SPEC is malformed (64). SPEC is
          udp/ADDR/PORT  one datagram "TAG SPEC" (SO_BROADCAST set):
                         sent | EPERM | error ENAME
          tcp/ADDR/PORT  connect, then send "TAG SPEC\\n":
                         connected | EPERM | timeout | error ENAME
          ping/ADDR      one echo request from a ping socket (SOCK_DGRAM):
                         reply | noreply | EPERM | error ENAME
          dns/ADDR/NAME  an A query over UDP to ADDR:53:
                         answer IP | nxdomain | EPERM | timeout | error ENAME
      ADDR is IPv4 or IPv6; ADDR%IFNAME gives a link-local or multicast IPv6
      address its scope; ::ffff:a.b.c.d goes through an AF_INET6 socket. The
      ping requests are all sent first and then awaited together, for at
      most WAIT seconds (environment HOSTFENCE_WAIT, default 3), so a probe
      run that expects no reply waits once, not once per address.
"""
import errno
import ipaddress
import os
import select
import socket
import struct
import sys
import threading
import time

MDNS, SSDP, LLMNR = 5353, 1900, 5355
GROUPS = {MDNS: ["224.0.0.251", "ff02::fb"], SSDP: ["239.255.255.250"],
          LLMNR: ["224.0.0.252", "ff02::1:3"]}
CONNECT_WAIT = 20.0  # a TCP connect or DNS answer; a refusal comes at once
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux; Python < 3.12 lacks it
LOCK = threading.Lock()


def log(line):
    with LOCK:
        print(line, flush=True)


def ename(err):
    return errno.errorcode.get(err.errno, str(err.errno)) if err.errno else str(err)


# --- listen ------------------------------------------------------------

def udp_socket(family, port, ifindex):
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        sock.bind(("::", port))
    else:
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind(("0.0.0.0", port))
    for group in GROUPS.get(port, []):
        addr = ipaddress.ip_address(group)
        if addr.version == 4 and family == socket.AF_INET:
            mreqn = addr.packed + struct.pack("=4si", b"\0" * 4, ifindex)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        elif addr.version == 6 and family == socket.AF_INET6:
            mreq = addr.packed + struct.pack("=I", ifindex)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    return sock


def tcp_socket(family, port):
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(("::", port))
    else:
        sock.bind(("0.0.0.0", port))
    sock.listen(64)
    return sock


def destination(sock, ancdata):
    """The datagram's destination address, from its packet info."""
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            # struct in_pktinfo: ifindex, spec_dst, addr (the header's)
            return socket.inet_ntop(socket.AF_INET, data[8:12])
        if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
            return socket.inet_ntop(socket.AF_INET6, data[:16])
    return "?" + sock.getsockname()[0]


def text(payload):
    return payload.decode("ascii", "replace").strip().replace("\n", " ")


def serve_connection(conn, peer):
    dst = conn.getsockname()
    payload = b""
    conn.settimeout(10)
    try:
        while not payload.endswith(b"\n") and len(payload) < 512:
            chunk = conn.recv(512)
            if not chunk:
                break
            payload += chunk
    except OSError:
        pass
    log(f"delivered tcp {dst[0]} {dst[1]} from {peer[0]}: {text(payload) or '-'}")
    conn.close()


def listen(port, ifname):
    ifindex = socket.if_nametoindex(ifname)
    udp = [udp_socket(family, p, ifindex)
           for p in (port, MDNS, SSDP, LLMNR)
           for family in (socket.AF_INET, socket.AF_INET6)]
    tcp = [tcp_socket(family, port) for family in (socket.AF_INET, socket.AF_INET6)]
    log("ready")
    while True:
        ready, _, _ = select.select(udp + tcp, [], [])
        for sock in ready:
            if sock in tcp:
                conn, peer = sock.accept()
                threading.Thread(target=serve_connection, args=(conn, peer),
                                 daemon=True).start()
                continue
            payload, ancdata, _, peer = sock.recvmsg(2048, 256)
            dst = destination(sock, ancdata)
            port_here = sock.getsockname()[1]
            log(f"delivered udp {dst} {port_here} from {peer[0]}: {text(payload)}")


# --- probe -------------------------------------------------------------

def target(addr_text, port):
    """(family, sockaddr) for ADDR[%IFNAME]; ::ffff:a.b.c.d stays AF_INET6."""
    addr_text, _, ifname = addr_text.partition("%")
    addr = ipaddress.ip_address(addr_text)
    if addr.version == 4:
        return socket.AF_INET, (addr_text, port)
    scope = socket.if_nametoindex(ifname) if ifname else 0
    return socket.AF_INET6, (addr_text, port, 0, scope)


def new_socket(family, kind, proto=0):
    sock = socket.socket(family, kind, proto)
    if family == socket.AF_INET6 and proto != socket.IPPROTO_ICMPV6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return sock


def probe_udp(tag, spec, addr, port):
    family, to = target(addr, int(port))
    with new_socket(family, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        try:
            sock.sendto(f"{tag} {spec}".encode(), to)
        except OSError as err:
            return "EPERM" if err.errno == errno.EPERM else f"error {ename(err)}"
    return "sent"


def probe_tcp(tag, spec, addr, port):
    family, to = target(addr, int(port))
    with new_socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT_WAIT)
        try:
            sock.connect(to)
            sock.sendall(f"{tag} {spec}\n".encode())
        except socket.timeout:
            return "timeout"
        except OSError as err:
            return "EPERM" if err.errno == errno.EPERM else f"error {ename(err)}"
    return "connected"


def dns_query(name):
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", 0x4a46, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)


def probe_dns(addr, name):
    family, to = target(addr, 53)
    query = dns_query(name)
    with new_socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(CONNECT_WAIT)
        try:
            sock.sendto(query, to)
            reply = sock.recv(512)
        except socket.timeout:
            return "timeout"
        except OSError as err:
            return "EPERM" if err.errno == errno.EPERM else f"error {ename(err)}"
    ident, flags, _, answers = struct.unpack("!HHHH", reply[:8])
    if ident != 0x4a46:
        return "error BADID"
    if flags & 0xf == 3:
        return "nxdomain"
    if answers and len(reply) >= len(query) + 16:
        return "answer " + socket.inet_ntop(socket.AF_INET, reply[-4:])
    return "error NOANSWER"


def ping_send(addr):
    """A ping socket with its echo request sent, or an outcome string."""
    family, to = target(addr, 0)
    proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    sock = socket.socket(family, socket.SOCK_DGRAM, proto)
    kind = 8 if family == socket.AF_INET else 128
    request = struct.pack("!BBHHH", kind, 0, 0, 0, 1) + b"hostfence"
    try:
        sock.sendto(request, to)
    except OSError as err:
        sock.close()
        return "EPERM" if err.errno == errno.EPERM else f"error {ename(err)}"
    return sock


def ping_wait(pending, deadline):
    """Outcome of each pending ping socket: reply, or noreply at deadline."""
    outcomes = {}
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(list(pending), [], [], left)
        for sock in ready:
            try:
                reply = sock.recv(512)
            except OSError as err:
                outcomes[pending.pop(sock)] = f"error {ename(err)}"
                sock.close()
                continue
            if reply and reply[0] in (0, 129):  # echo reply, v4 or v6
                outcomes[pending.pop(sock)] = "reply"
                sock.close()
    for sock, spec in pending.items():
        outcomes[spec] = "noreply"
        sock.close()
    return outcomes


def probe(tag, specs):
    wait = float(os.environ.get("HOSTFENCE_WAIT", "3"))
    outcomes, pending = {}, {}
    for spec in specs:
        kind, *args = spec.split("/")
        try:
            if kind == "udp" and len(args) == 2:
                outcomes[spec] = probe_udp(tag, spec, *args)
            elif kind == "tcp" and len(args) == 2:
                outcomes[spec] = probe_tcp(tag, spec, *args)
            elif kind == "dns" and len(args) == 2:
                outcomes[spec] = probe_dns(*args)
            elif kind == "ping" and len(args) == 1:
                sent = ping_send(args[0])
                if isinstance(sent, str):
                    outcomes[spec] = sent
                else:
                    pending[sent] = spec
            else:
                raise ValueError(spec)
        except ValueError:
            print(f"hostfence.py: bad SPEC {spec}", file=sys.stderr)
            return 64
    outcomes.update(ping_wait(pending, time.monotonic() + wait))
    for spec in specs:
        print(f"{spec} {outcomes[spec]}")
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "listen":
        listen(int(argv[1]), argv[2])
        return 0
    if len(argv) >= 2 and argv[0] == "probe":
        return probe(argv[1], argv[2:])
    print(__doc__.strip(), file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

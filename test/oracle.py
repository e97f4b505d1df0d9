#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The verdict oracle for test/oracle.bats: random rule sets x random
destinations, the kernel's real verdict against reference_verdict.py.

    oracle.py --loader BIN --cgroup BASE [--seed S] [--rounds R] [--dests D]
              [--wrong-model ties|ports]

Run it as root inside a network namespace made for the test, in which every
IPv4 and IPv6 address is local (`ip route add local 0.0.0.0/0 dev lo`, the
same for ::/0) and ping sockets are allowed (net.ipv4.ping_group_range).
BASE is an empty cgroup made by the test: this process joins it, and each
round works in a new child cgroup BASE/rN that carries the round's filter.

A socket belongs to the cgroup its creator was in when it was made, so one
process plays both sides: the servers and the markers are made while it is
in BASE (unfiltered), the probes after it joined BASE/rN (filtered). Each
round:
  1. draws a rule set (2 to 12 rules, 400 more in every eighth round:
     overlapping IPv4/IPv6 prefixes, rules that differ only in action or
     ports, single ports and ranges up to 1-65535, /tcp, /udp, the
     allow-list posture, ::ffff: forms) and destinations
     near its edges (prefix edges, port range edges, ::ffff:, 64:ff9b::,
     0.0.0.0 and ::);
  2. listens (TCP and UDP) on every destination port, joins BASE/rN and
     opens one TCP connection per destination: they predate the filter;
  3. control: runs every probe without a filter, all must be delivered;
  4. attaches the rule set with the loader, checks its reply, and runs the
     probes again: TCP connect (EPERM at once or established), UDP sendto
     (EPERM or delivered), connected UDP + sendmsg with a control message
     (IP_TOS, IPV6_TCLASS or UDP_SEGMENT: EPERM at connect, or delivered),
     data on the older TCP connection (the backstop with ports: delivered or
     dropped) and ping (ICMP: delivered or dropped); half the older IPv4
     connections, and the IPv4 sendto socket of every other round, carry
     IPv4 options, which move the TCP or UDP header the backstop reads;
     and two packets whose ports the backstop cannot read, from raw
     sockets: an ICMPv6 echo request behind a hop-by-hop options header
     (delivered or dropped) and an IPv4 later fragment (sent or dropped);
  5. compares each outcome with the model's verdict.
"Dropped" is decided without waiting for a timeout: the process is pinned
to one CPU, so everything it sends over lo is processed in order; after the
probes it pings 127.0.0.1 from an unfiltered socket, and once that reply is
in, every earlier probe that was delivered has been (and so has its ping
reply). Only TCP handshakes are waited for, up to SETTLE_S, which the
success path never reaches.

Prints one line per disagreement (with the loader's arguments and a
reference_verdict.py command line that reproduces the model's side), and a
summary: "oracle: seed S: R rule sets, P (rule set, destination) pairs, C
comparisons (D deny), N disagreements, T s" (D: comparisons where the model
says deny). A drop by the backstop reaches a datagram sender as EPERM: for
ping and the raw probes that counts as dropped. Exits 1 on a disagreement,
2 when the setup
failed (a control probe not delivered, the loader refused a rule set).
"""

import argparse
import errno
import ipaddress
import json
import os
import random
import resource
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_verdict as model  # noqa: E402

SETTLE_S = 5.0
IPV6_HOPOPTS = 54
# a hop-by-hop options header: next header and length filled in by the
# kernel, then one PadN option of 4 bytes
HOP_BY_HOP = bytes([0, 0, 1, 4, 0, 0, 0, 0])
ICMP6_FILTER = 1
# struct icmp6_filter: a set bit blocks that type; all but 129 (echo reply)
ECHO_REPLIES_ONLY = b"".join(
    struct.pack("=I", 0xFFFFFFFF & ~(1 << 1 if word == 4 else 0))
    for word in range(8))
SO_RCVBUFFORCE = 33
IPPROTO_MPTCP = 262
SOL_UDP = 17
UDP_SEGMENT = 103
GSO_SIZE = 1000

V4_POOLS = [ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "10.0.0.0/8",
    "100.64.0.0/10", "172.16.0.0/12")]
V6_POOLS = [ipaddress.ip_network(n) for n in (
    "2001:db8::/32", "2001:db8:1::/48", "fd00:1::/32")]
V4_LENGTHS = [0, 1, 8, 12, 16, 20, 23, 24, 24, 25, 28, 30, 31, 32, 32, 32]
V6_LENGTHS = [0, 3, 16, 32, 33, 48, 64, 64, 96, 100, 112, 120, 126, 127,
              128, 128, 128]
PORT_CENTRES = [1, 2, 53, 80, 443, 1023, 1024, 8080, 11434, 32768, 65534,
                65535]
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NOT_V4 = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "224.0.0.0/3", "127.255.255.255/32")]
NOT_V6 = [ipaddress.ip_network(n) for n in (
    "::/127", "::ffff:0:0/96", "fe80::/10", "ff00::/8")]


class SetupError(Exception):
    pass


class Dest:
    """kind: v4, v6, mapped (::ffff:a.b.c.d through AF_INET6), nat64 or
    unspec (0.0.0.0 or ::)."""

    def __init__(self, addr, port, kind):
        self.addr = str(addr)
        self.port = port
        self.kind = kind
        ip = ipaddress.ip_address(self.addr)
        self.family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
        self.sockaddr = ((self.addr, port) if ip.version == 4 else
                         (self.addr, port, 0, 0))
        # the packet's destination, for the backstop
        real = ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip
        self.real = model.LOOPBACK.get(real, real)
        self.pingable = kind in ("v4", "v6", "nat64")

    def __repr__(self):
        return "%s port %d (%s)" % (self.addr, self.port, self.kind)


# ---------------------------------------------------------- generation --

def random_in(rng, network):
    return network.network_address + rng.randrange(network.num_addresses)


def render_ports(rng, centre):
    first = max(1, min(65535, centre + rng.randint(-3, 3)))
    if rng.random() < 0.4:
        text = str(first)
        last = first
    else:
        if rng.random() < 0.1:
            first = 1
        # wide ranges too: the kernel side may cut them into blocks
        last = max(first, min(65535, first + rng.choice(
            [0, 1, 2, 5, 40, 255, 256, 1000, 4095, 30000, 65535])))
        text = "%d-%d" % (first, last)
    proto = rng.choice(["", "", "/tcp", "/udp"])
    return text + proto, first, last


def render_cidr(rng, network):
    """The network as a rule writes it: bare when it is one address
    (sometimes), and an IPv4 network sometimes as ::ffff:a.b.c.d/96+n."""
    full = network.prefixlen == network.max_prefixlen
    if network.version == 4 and rng.random() < 0.2:
        text = "::ffff:%s" % network.network_address
        return (text if full and rng.random() < 0.5 else
                "%s/%d" % (text, network.prefixlen + 96)), True
    if full and rng.random() < 0.5:
        return str(network.network_address), network.version == 6
    return str(network), network.version == 6


def random_rules(rng, extra=0):
    """Loader arguments of one random rule set (2 to 12 rules, + extra),
    and the port centres."""
    v4_anchors = [random_in(rng, rng.choice(V4_POOLS)) for _ in range(3)]
    v4_anchors.append(ipaddress.ip_address("127.0.0.1"))
    v6_anchors = [random_in(rng, rng.choice(V6_POOLS)) for _ in range(2)]
    v6_anchors.append(ipaddress.ip_address(
        int(NAT64.network_address) | int(v4_anchors[0])))
    v6_anchors.append(ipaddress.ip_address("::1"))
    centres = rng.sample(PORT_CENTRES, 3) + [rng.randint(1, 65535)]
    argv = []
    if rng.random() < 0.25:  # the allow-list posture
        argv += ["--deny", "0.0.0.0/0", "--deny", "::/0"]
    made = []  # (network, ports text or None) of the rules so far
    for _ in range(rng.randint(2, 12) + extra):
        if made and rng.random() < 0.3:
            # a twin: an earlier rule's network, so that equal lengths meet
            # (with ports or without, either action: the tie-breaks)
            network, ports = rng.choice(made)
            if rng.random() < 0.5:
                ports = (None if ports and rng.random() < 0.5 else
                         render_ports(rng, rng.choice(centres))[0])
        else:
            if rng.random() < 0.6:
                anchor = rng.choice(v4_anchors)
                length = rng.choice(V4_LENGTHS + [rng.randint(0, 32)])
            else:
                anchor = rng.choice(v6_anchors)
                length = rng.choice(V6_LENGTHS + [rng.randint(0, 128)])
                if anchor in NAT64 and rng.random() < 0.7:
                    length = max(length, 96)
            network = ipaddress.ip_network((anchor, length), strict=False)
            ports = (render_ports(rng, rng.choice(centres))[0]
                     if rng.random() < 0.5 else None)
        made.append((network, ports))
        cidr, bracket = render_cidr(rng, network)
        if ports:
            rule = ("[%s]:%s" if bracket else "%s:%s") % (cidr, ports)
        else:
            rule = cidr
        argv += [rng.choice(["--deny", "--deny", "--allow"]), rule]
    if "--deny" not in argv:
        argv[0] = "--deny"
    return argv, centres


def valid_dest(ip):
    bad = NOT_V4 if ip.version == 4 else NOT_V6
    return not any(ip in n for n in bad)


def random_dests(rng, rules, centres, count):
    """Destinations near the edges of the rules: each prefix's first and
    last address and their outer neighbours, one inside, on ports at and
    around each range's ends."""
    addrs = set()
    ports = set(centres)
    for rule in rules:
        net = rule.network
        first = int(net.network_address)
        last = int(net.broadcast_address)
        top = (1 << net.max_prefixlen) - 1
        for value in (first, last, first - 1, last + 1,
                      rng.randint(first, last)):
            if 0 <= value <= top:
                ip = (ipaddress.IPv4Address(value) if net.version == 4
                      else ipaddress.IPv6Address(value))
                if valid_dest(ip):
                    addrs.add(ip)
        if rule.protocols is not None:
            for port in (rule.first - 1, rule.first, rule.last,
                         rule.last + 1):
                if 1 <= port <= 65535:
                    ports.add(port)
    addrs = sorted(addrs, key=lambda a: (a.version, int(a)))
    ports = sorted(ports)
    dests = [Dest("0.0.0.0", rng.choice(ports), "unspec"),
             Dest("::", rng.choice(ports), "unspec")]
    while len(dests) < count:
        ip = rng.choice(addrs)
        port = rng.choice(ports)
        roll = rng.random()
        if ip.version == 4 and roll < 0.15:
            dests.append(Dest("::ffff:%s" % ip, port, "mapped"))
        elif ip.version == 4 and roll < 0.25:
            dests.append(Dest(ipaddress.IPv6Address(
                int(NAT64.network_address) | int(ip)), port, "nat64"))
        else:
            kind = "v4" if ip.version == 4 else (
                "nat64" if ip in NAT64 else "v6")
            dests.append(Dest(ip, port, kind))
    return dests


# ------------------------------------------------------------- sockets --

def join(cgroup):
    with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


def new_socket(family, kind, proto=0):
    s = socket.socket(family, kind | socket.SOCK_NONBLOCK, proto)
    if family == socket.AF_INET6 and proto not in (socket.IPPROTO_ICMPV6,):
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return s


def hard_close(s):
    """Close without FIN/TIME_WAIT: SO_LINGER 0 sends a RST."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def norm(addr):
    ip = ipaddress.ip_address(addr.split("%")[0])
    return ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip


def four_tuple(local, peer):
    return (norm(local[0]), local[1], norm(peer[0]), peer[1])


def echo_request(family, seq, token):
    kind = 8 if family == socket.AF_INET else 128
    return struct.pack("!BBHHH", kind, 0, 0, 0, seq) + token


def echo_replies(sock):
    """Payloads of the echo replies waiting on a ping socket."""
    got = set()
    while True:
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            return got
        if data and data[0] in (0, 129):
            got.add(data[8:])


class Marker:
    """An unfiltered ping socket: its reply proves that everything sent
    before it from this CPU has been processed."""

    def __init__(self):
        self.sock = new_socket(socket.AF_INET, socket.SOCK_DGRAM,
                               socket.IPPROTO_ICMP)
        self.seq = 0

    def flush(self):
        self.seq += 1
        token = b"marker %d" % self.seq
        self.sock.sendto(echo_request(socket.AF_INET, self.seq, token),
                         ("127.0.0.1", 0))
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            select.select([self.sock], [], [], deadline - time.monotonic())
            if token in echo_replies(self.sock):
                return
        raise SetupError("the marker ping got no reply in %.0f s" % SETTLE_S)


class Servers:
    """Dual-stack TCP listeners and UDP sockets on every port, made while
    this process is in the unfiltered cgroup."""

    def __init__(self, ports):
        self.tcp = {}
        self.udp = {}
        self.accepted = {}  # four-tuple -> socket
        for port in ports:
            for table, kind in ((self.tcp, socket.SOCK_STREAM),
                                (self.udp, socket.SOCK_DGRAM)):
                s = new_socket(socket.AF_INET6, kind)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 22)
                s.bind(("::", port))
                if kind == socket.SOCK_STREAM:
                    s.listen(4096)
                table[port] = s

    def accept_all(self):
        for listener in self.tcp.values():
            while True:
                try:
                    conn, peer = listener.accept()
                except BlockingIOError:
                    break
                conn.setblocking(False)
                key = four_tuple(peer, conn.getsockname())
                self.accepted[key] = conn

    def datagrams(self):
        got = set()
        for s in self.udp.values():
            while True:
                try:
                    got.add(s.recv(2048))
                except BlockingIOError:
                    break
        return got

    def close(self):
        for s in list(self.accepted.values()):
            hard_close(s)
        for s in list(self.tcp.values()) + list(self.udp.values()):
            s.close()


def wait_connected(pending):
    """{key: socket} of non-blocking connects -> {key: outcome}."""
    outcome = {}
    poller = select.poll()
    fds = {}
    for key, s in pending.items():
        poller.register(s, select.POLLOUT)
        fds[s.fileno()] = key
    deadline = time.monotonic() + SETTLE_S
    while fds and time.monotonic() < deadline:
        for fd, _ in poller.poll(max(1, int((deadline - time.monotonic())
                                            * 1000))):
            key = fds.pop(fd)
            poller.unregister(fd)
            err = pending[key].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            outcome[key] = "established" if err == 0 else \
                errno.errorcode.get(err, str(err))
    for key in fds.values():
        outcome[key] = "timeout"
    return outcome


def later_fragment(addr, n):
    """An IPv4 packet that is not the first fragment of a TCP or UDP
    datagram (offset 8 bytes, no more fragments): it carries no ports. The
    kernel fills in the source, length and checksum."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0x4000 + n, 1, 64,
                         [socket.IPPROTO_UDP, socket.IPPROTO_TCP][n % 2], 0,
                         bytes(4), socket.inet_aton(addr))
    return header + b"fragment"


def ip_options(n):
    """IPv4 options of 4 to 40 bytes: no-operations, then an end of list."""
    length = [4, 8, 20, 40][n % 4]
    return b"\x01" * (length - 1) + b"\x00"


def cmsg_for(dest, index):
    """The control message of a connected-UDP sendmsg: IP_TOS or
    IPV6_TCLASS (by the socket's family), or UDP_SEGMENT."""
    if index % 3 == 2:
        return "UDP_SEGMENT", (SOL_UDP, UDP_SEGMENT,
                               struct.pack("H", GSO_SIZE))
    if dest.family == socket.AF_INET:
        return "IP_TOS", (socket.IPPROTO_IP, socket.IP_TOS,
                          struct.pack("i", 0x10))
    return "IPV6_TCLASS", (socket.IPPROTO_IPV6, socket.IPV6_TCLASS,
                           struct.pack("i", 0x10))


# -------------------------------------------------------------- a round --

class Round:
    def __init__(self, args, marker, index, argv, dests):
        self.args = args
        self.marker = marker
        self.index = index
        self.argv = argv
        self.dests = dests
        self.cgroup = os.path.join(args.cgroup, "r%d" % index)
        self.held = {}  # dest index -> client socket
        self.held_server = {}  # dest index -> server-side socket
        self.denials = 0  # comparisons where the model says deny

    def token(self, phase, i, kind):
        return b"%s:%d:%d:%s" % (phase.encode(), self.index, i, kind.encode())

    def open_held(self, servers):
        pending = {}
        for i, d in enumerate(self.dests):
            s = new_socket(d.family, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                s.connect(d.sockaddr)
            except BlockingIOError:
                pass
            pending[i] = s
        for i, result in wait_connected(pending).items():
            if result != "established":
                raise SetupError("control: TCP connect to %r: %s"
                                 % (self.dests[i], result))
        self.held = pending
        # IPv4 options move the TCP header: the backstop must follow them
        for i, s in pending.items():
            if self.dests[i].kind == "v4" and i % 2 == 0:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS,
                             ip_options(i))
        deadline = time.monotonic() + SETTLE_S
        wanted = {four_tuple(s.getsockname(), s.getpeername()): i
                  for i, s in pending.items()}
        while wanted and time.monotonic() < deadline:
            servers.accept_all()
            for key in [k for k in wanted if k in servers.accepted]:
                self.held_server[wanted.pop(key)] = servers.accepted.pop(key)
            if wanted:
                self.marker.flush()
        if wanted:
            raise SetupError("control: %d held connections never accepted"
                             % len(wanted))

    def probe(self, phase, servers):
        """One pass of every probe; {(dest index, probe): outcome}."""
        out = {}
        connects = {}
        sockets = []
        udp = {f: new_socket(f, socket.SOCK_DGRAM)
               for f in (socket.AF_INET, socket.AF_INET6)}
        if self.index % 2:
            udp[socket.AF_INET].setsockopt(socket.IPPROTO_IP,
                                           socket.IP_OPTIONS,
                                           ip_options(self.index))
        ping = {socket.AF_INET: new_socket(socket.AF_INET, socket.SOCK_DGRAM,
                                           socket.IPPROTO_ICMP),
                socket.AF_INET6: new_socket(socket.AF_INET6,
                                            socket.SOCK_DGRAM,
                                            socket.IPPROTO_ICMPV6)}
        for s in ping.values():
            s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 22)
        # raw sockets for packets whose ports the backstop cannot read
        exthdr = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                               socket.IPPROTO_ICMPV6)
        exthdr.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, HOP_BY_HOP)
        # a raw socket gets a copy of every ICMPv6 message: keep only echo
        # replies, and room for all of them
        exthdr.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER,
                          ECHO_REPLIES_ONLY)
        exthdr.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 22)
        exthdr.setblocking(False)
        fragment = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                 socket.IPPROTO_RAW)
        sent = {}  # token -> (i, probe)
        for i, d in enumerate(self.dests):
            s = new_socket(d.family, socket.SOCK_STREAM)
            sockets.append(s)
            try:
                s.connect(d.sockaddr)
                out[i, "tcp"] = "established"
            except BlockingIOError:
                connects[i, "tcp"] = s
            except OSError as e:
                out[i, "tcp"] = errname(e)

            token = self.token(phase, i, "udp")
            try:
                udp[d.family].sendto(token, d.sockaddr)
                sent[token] = (i, "udp")
            except OSError as e:
                out[i, "udp"] = errname(e)

            token = self.token(phase, i, "cmsg")
            c = new_socket(d.family, socket.SOCK_DGRAM)
            sockets.append(c)
            try:
                c.connect(d.sockaddr)
            except OSError as e:
                out[i, "cmsg"] = errname(e)
            else:
                try:
                    c.sendmsg([token], [cmsg_for(d, i)[1]])
                    sent[token] = (i, "cmsg")
                except OSError as e:
                    out[i, "cmsg"] = "%s at sendmsg" % errname(e)

            token = self.token(phase, i, "held")
            try:
                self.held[i].send(token)
                sent[token] = (i, "held")
            except OSError as e:
                out[i, "held"] = "%s at send" % errname(e)

            if d.pingable:
                token = self.token(phase, i, "ping")
                try:
                    ping[d.family].sendto(echo_request(d.family, i, token),
                                          (d.addr, 0))
                    sent[token] = (i, "ping")
                except OSError as e:
                    # the backstop's drop reaches a datagram sender as EPERM
                    out[i, "ping"] = ("dropped" if e.errno == errno.EPERM
                                      else errname(e))
            if d.pingable and d.family == socket.AF_INET6:
                token = self.token(phase, i, "exthdr")
                try:
                    exthdr.sendto(echo_request(d.family, i, token),
                                  (d.addr, 0))
                    sent[token] = (i, "exthdr")
                except OSError as e:
                    out[i, "exthdr"] = ("dropped" if e.errno == errno.EPERM
                                        else errname(e))
            if d.kind == "v4":
                try:
                    fragment.sendto(later_fragment(d.addr, i),
                                    (d.addr, 0))
                    out[i, "fragment"] = "passed"
                except OSError as e:
                    out[i, "fragment"] = ("dropped" if e.errno == errno.EPERM
                                          else errname(e))
        self.marker.flush()
        arrived = servers.datagrams()
        for i, s in self.held_server.items():
            try:
                arrived.add(s.recv(2048))
            except BlockingIOError:
                pass
        for s in list(ping.values()) + [exthdr]:
            arrived |= echo_replies(s)
        for token, key in sent.items():
            out[key] = "delivered" if token in arrived else "dropped"
        out.update(wait_connected(connects))
        for s in (sockets + list(udp.values()) + list(ping.values()) +
                  [exthdr, fragment]):
            hard_close(s)
        servers.accept_all()
        for key in list(servers.accepted):
            if key not in self.held_server:
                hard_close(servers.accepted.pop(key))
        return out

    def load(self, rules):
        run = subprocess.run([self.args.loader, "--cgroup", self.cgroup]
                             + self.argv, capture_output=True, text=True,
                             check=False)
        if run.returncode != 0 or run.stderr:
            raise SetupError("loader %s: exit %d: %s" % (
                " ".join(self.argv), run.returncode, run.stderr.strip()))
        reply = json.loads(run.stdout)
        want = dict(model.counts(rules), success=True, cgroup=self.cgroup)
        got = {k: reply.get(k) for k in want}
        if got != want or len(reply.get("programs", [])) != 6:
            raise SetupError("loader reply %s, expected counts %s and 6 "
                             "programs" % (run.stdout.strip(), want))

    def run(self):
        """[(probe, dest, kernel, model)] of disagreements; comparisons."""
        rules = model.rules_from_argv(self.argv)
        os.mkdir(self.cgroup)
        servers = Servers(sorted({d.port for d in self.dests}))
        try:
            join(self.cgroup)
            self.open_held(servers)
            for key, result in self.probe("c", servers).items():
                if result not in ("established", "delivered", "passed"):
                    raise SetupError("control (no filter): %s to %r: %s" %
                                     (key[1], self.dests[key[0]], result))
            self.load(rules)
            observed = self.probe("f", servers)
        finally:
            join(self.args.cgroup)
            for s in self.held.values():
                hard_close(s)
            servers.close()
            for s in self.held_server.values():
                hard_close(s)
            os.rmdir(self.cgroup)
        wrong = []
        for (i, probe), kernel in sorted(observed.items()):
            d = self.dests[i]
            if probe in ("exthdr", "fragment"):
                expected = model.unreadable(rules, d.real)
                want = "dropped" if expected == "deny" else (
                    "passed" if probe == "fragment" else "delivered")
            elif probe in ("held", "ping"):
                expected = model.verdict(
                    rules, d.real, "icmp" if probe == "ping" else "tcp",
                    d.port, hook="backstop")
                want = "dropped" if expected == "deny" else "delivered"
            else:
                expected = model.verdict(
                    rules, d.addr, "tcp" if probe == "tcp" else "udp",
                    d.port)
                want = "EPERM" if expected == "deny" else (
                    "established" if probe == "tcp" else "delivered")
            self.denials += expected == "deny"
            if kernel != want:
                wrong.append((probe, d, kernel, want, i))
        return wrong, len(observed)


RIGHT_DECIDE = model.decide


class Twisted:
    """A rule as a wrong model sees it: the same matches, another action or
    no port part in the ranking."""

    def __init__(self, rule, action, protocols):
        self.rule = rule
        self.network = rule.network
        self.action = action
        self.protocols = protocols

    def matches(self, addr, protocol, port):
        return self.rule.matches(addr, protocol, port)


def decide_allow_wins(rules, addr, protocol, port):
    """--wrong-model ties: allow wins remaining ties (deny only when every
    winner denies: no winner allows once the actions are swapped)."""
    if not any(r.matches(addr, protocol, port) for r in rules):
        return False
    swapped = [Twisted(r, "allow" if r.action == "deny" else "deny",
                       r.protocols) for r in rules]
    return not RIGHT_DECIDE(swapped, addr, protocol, port)


def decide_ports_ignored(rules, addr, protocol, port):
    """--wrong-model ports: a rule with ports does not beat one without at
    equal length."""
    return RIGHT_DECIDE([Twisted(r, r.action, None) for r in rules], addr,
                        protocol, port)


WRONG_MODELS = {"ties": decide_allow_wins, "ports": decide_ports_ignored}


def quote(text):
    return "'%s'" % text if "[" in text else text


def report(seed, rnd, argv, wrong):
    rules = " ".join(quote(a) for a in argv)
    for probe, d, kernel, want, i in wrong:
        proto = {"tcp": "tcp", "held": "tcp", "ping": "icmp"}.get(probe, "udp")
        extra = " with %s" % cmsg_for(d, i)[0] if probe == "cmsg" else ""
        addr = d.addr if probe in ("tcp", "udp", "cmsg") else str(d.real)
        query = ("%s %s %d" % (proto, addr, d.port)
                 if probe not in ("exthdr", "fragment") else
                 "unreadable ports to %s: deny if a deny rule's prefix "
                 "contains it (or, for 64:ff9b::a.b.c.d, a.b.c.d)" % addr)
        print("DISAGREE seed %d round %d: %s%s to %r: kernel %s, model %s\n"
              "  loader: --cgroup CG %s\n"
              "  model:  test/reference_verdict.py %s -- %s" % (
                  seed, rnd, probe, extra, d, kernel, want, rules, rules,
                  query))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loader", required=True)
    parser.add_argument("--cgroup", required=True)
    parser.add_argument("--seed", type=int,
                        default=int.from_bytes(os.urandom(4), "big"))
    parser.add_argument("--rounds", type=int, default=32)
    parser.add_argument("--dests", type=int, default=70)
    parser.add_argument("--wrong-model", choices=sorted(WRONG_MODELS),
                        help="break the model on purpose, to show that "
                        "the oracle notices")
    args = parser.parse_args()
    if args.wrong_model:
        model.decide = WRONG_MODELS[args.wrong_model]
    rng = random.Random(args.seed)
    print("oracle: seed %d (rerun: --seed %d)" % (args.seed, args.seed),
          flush=True)
    start = time.monotonic()
    # one CPU: packets over lo are then processed in the order sent
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 16384),
                                                max(hard, 16384)))
    join(args.cgroup)
    marker = Marker()
    pairs = comparisons = denials = disagreements = 0
    for index in range(args.rounds):
        # every eighth rule set is large: a fuller trie, more port blocks
        argv, centres = random_rules(rng, 400 if index % 8 == 7 else 0)
        dests = random_dests(rng, model.rules_from_argv(argv), centres,
                             args.dests)
        rnd = Round(args, marker, index, argv, dests)
        try:
            wrong, count = rnd.run()
        except SetupError as e:
            print("oracle: seed %d round %d: setup failed: %s\n"
                  "  loader: --cgroup CG %s" % (args.seed, index, e,
                                               " ".join(argv)))
            return 2
        report(args.seed, index, argv, wrong)
        pairs += len(dests)
        comparisons += count
        denials += rnd.denials
        disagreements += len(wrong)
    print("oracle: seed %d: %d rule sets, %d (rule set, destination) pairs, "
          "%d comparisons (%d deny), %d disagreements, %.1f s" % (
              args.seed, args.rounds, pairs, comparisons, denials,
              disagreements,
              time.monotonic() - start))
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())

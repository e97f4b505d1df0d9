#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reference model of a --deny / --allow RULE (DESIGN.md section 3) for
test/differential.bats, and the generator of the strings it compares.

    reference_rule.py --oracle build/unit/rule_oracle [--seed S] [--count N]

generates N strings (deterministic for a seed), valid and near-valid rules
with and without ports, brackets and protocols, runs the C oracle
(parse_rule of validate.c, one line in, one line out) over them, and
compares every verdict, message, family, prefix, canonical network,
protocol set and port range with this model. Prints a summary, and each
disagreement (at most 20); exits 1 on any.

The model, written from DESIGN.md section 3 and the messages of its
contract, not from validate.c:
  - a value is judged by its first 127 bytes (the loader parses a copy of
    that size); no valid rule is nearly that long, so a longer value is
    always refused, for what is wrong in its first 127 bytes;
  - RULE is CIDR, CIDR4:PORTS[/PROTO] or [CIDR6]:PORTS[/PROTO]. A value
    that starts with '[' must have "]:" (its first one ends the brackets)
    with an IPv6 CIDR (a text holding ':') inside, else "brackets go around
    an IPv6 CIDR before :PORTS, only there". Unbracketed, it is
    CIDR4:PORTS if a '.' comes before its first ':', else a CIDR (IPv6 if
    it holds a ':');
  - the CIDR's address is the text before its first '/', and is IPv6 if
    it holds a ':', else IPv4; it must be accepted by inet_pton for that
    family (socket.inet_pton, glibc's); an independent grammar of what
    inet_pton accepts (no octal, hex, shorthand, leading zeros in IPv4,
    zones, brackets, spaces) cross-checks it, so a libc that disagrees with
    the contract is noticed too;
  - the optional prefix is plain decimal, no sign, no leading zero, within
    0..32 or 0..128;
  - PORTS (the text after the ':', up to its first '/') is N or N-M (cut
    at the first '-'), plain decimal, 1 <= N <= M <= 65535; PROTO (after
    that '/') is exactly "tcp" or "udp"; no PROTO means both;
  - the faults are named in the order: address, prefix length, ports,
    protocol, host bits;
  - host bits beyond the prefix must be zero: else "host bits", with the
    canonical network in the notation given (ipaddress, strict=False);
  - ::ffff:a.b.c.d with prefix >= 96 is the IPv4 rule a.b.c.d/(p - 96).

Oracle lines: "OK FAMILY PREFIX HEX PROTOCOLS FIRST LAST" (protocols: bit 0
TCP, bit 1 UDP, 0 without ports; FIRST LAST 0 0 then), "HOST_BITS FAMILY
PREFIX HEX" (the network meant) or "BAD WHY" (parse_rule's message, which
must be the contract's message for that fault).
"""

import argparse
import ipaddress
import random
import re
import socket
import subprocess
import sys

# ---------------------------------------------------------------- model --

V4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
V4_RE = re.compile(r"\A" + V4_OCTET + r"(?:\." + V4_OCTET + r"){3}\Z")
HEX_GROUP = re.compile(r"\A[0-9A-Fa-f]{1,4}\Z")


def grammar_v4(text):
    """Dotted quad, decimal octets 0..255 without leading zeros."""
    return V4_RE.match(text) is not None


def grammar_v6(text):
    """RFC 4291 section 2.2 text as inet_pton takes it: groups of 1..4
    hex digits, at most one "::" standing for one or more zero groups,
    optionally a dotted quad as the last 32 bits."""
    if text.count("::") > 1 or ":::" in text:
        return False
    groups_needed = 8
    if "." in text:
        # The quad is the last 32 bits: "...:a.b.c.d".
        head, colon, tail = text.rpartition(":")
        if not colon or not grammar_v4(tail):
            return False
        groups_needed = 6
        # "1::a.b.c.d" leaves "1:", "::a.b.c.d" leaves ":": put back the
        # colon of the "::" that rpartition took.
        text = head + ":" if head.endswith(":") else head
    if "::" in text:
        left, right = text.split("::")
        groups = (left.split(":") if left else []) + \
            (right.split(":") if right else [])
        if len(groups) >= groups_needed:
            return False  # "::" must stand for at least one group
    else:
        groups = text.split(":")
        if len(groups) != groups_needed:
            return False
    return all(HEX_GROUP.match(g) for g in groups)


def pton(family, text):
    """socket.inet_pton, or None; the text is bytes (any byte value)."""
    try:
        return socket.inet_pton(family, text.decode("latin-1"))
    except (OSError, ValueError, UnicodeError):
        return None


def plain_decimal(text, limit):
    if not re.fullmatch(rb"0|[1-9][0-9]*", text):
        return None
    value = int(text)
    return value if value <= limit else None


# The contract's messages (DESIGN.md section 3, as the loader words them).
WHY = {
    "BRACKETS": b"brackets go around an IPv6 CIDR before :PORTS, only there",
    "BAD_ADDRESS": b"not an IPv4 or IPv6 address",
    "BAD_PREFIX": b"prefix length must be plain decimal, 0..32 or 0..128",
    "BAD_PORTS": b"ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535",
    "BAD_PROTO": b"protocol must be tcp or udp",
}
RULE_MAX = 127  # bytes of a value that are judged
PROTOCOLS = {None: 3, b"tcp": 1, b"udp": 2}


def split_rule(text):
    """(cidr, ports or None) of a rule's text, or "BRACKETS"."""
    if text.startswith(b"["):
        inside, found, ports = text[1:].partition(b"]:")
        if not found or b":" not in inside:
            return "BRACKETS"
        return inside, ports
    head, colon, ports = text.partition(b":")
    if colon and b"." in head:
        return head, ports
    return text, None


def port_number(text):
    if not re.fullmatch(rb"[1-9][0-9]*", text):
        return None
    value = int(text)
    return value if value <= 65535 else None


def judge_ports(ports):
    """(protocols, first, last) or the fault ("BAD_PORTS"/"BAD_PROTO")."""
    numbers, slash, proto = ports.partition(b"/")
    first_text, dash, last_text = numbers.partition(b"-")
    first = port_number(first_text)
    last = port_number(last_text) if dash else first
    if first is None or last is None or last < first:
        return "BAD_PORTS"
    protocols = PROTOCOLS.get(proto if slash else None)
    if protocols is None:
        return "BAD_PROTO"
    return protocols, first, last


def judge(text):
    """The model's verdict for one string (bytes), and whether the address
    grammar agreed with inet_pton:
    ("OK", family 4|6, prefix, packed, protocols, first, last),
    ("HOST_BITS", family, prefix, packed) or (FAULT,), FAULT a key of WHY."""
    text = text[:RULE_MAX]
    parts = split_rule(text)
    if parts == "BRACKETS":
        return ("BRACKETS",), True
    cidr, ports = parts
    addr, slash, prefix_text = cidr.partition(b"/")
    v6 = b":" in addr
    family = socket.AF_INET6 if v6 else socket.AF_INET
    packed = pton(family, addr)
    try:
        ascii_addr = addr.decode("ascii")
        by_grammar = grammar_v6(ascii_addr) if v6 else grammar_v4(ascii_addr)
    except UnicodeError:
        by_grammar = False
    # A NUL ends the C string: the generator never makes one.
    agree = (packed is not None) == by_grammar
    if packed is None:
        return ("BAD_ADDRESS",), agree
    bits = 128 if v6 else 32
    prefix = bits
    if slash:
        prefix = plain_decimal(prefix_text, bits)
        if prefix is None:
            return ("BAD_PREFIX",), agree
    protocols, first, last = 0, 0, 0
    if ports is not None:
        verdict = judge_ports(ports)
        if isinstance(verdict, str):
            return (verdict,), agree
        protocols, first, last = verdict
    network_class = ipaddress.IPv6Network if v6 else ipaddress.IPv4Network
    network = network_class((packed, prefix), strict=False)
    net_packed = network.network_address.packed
    if net_packed != packed:
        return ("HOST_BITS", 6 if v6 else 4, prefix, net_packed), agree
    if v6 and prefix >= 96 and network.network_address.ipv4_mapped is not None:
        return ("OK", 4, prefix - 96, net_packed[12:], protocols, first,
                last), agree
    return ("OK", 6 if v6 else 4, prefix, net_packed, protocols, first,
            last), agree


# ------------------------------------------------------------ generator --

EDGE_CASES = [
    b"0.0.0.0/0", b"255.255.255.255/32", b"10.0.0.1/8", b"10.0.0.0/8",
    b"192.0.2.1", b"01.2.3.4", b"1.2.3.4/08", b"1.2.3.4/", b"/8", b"",
    b"::", b"::/0", b"::1", b"::1/128", b"::1/129", b"::ffff:1.2.3.4",
    b"::ffff:1.2.3.0/120", b"::ffff:1.2.3.4/95", b"::ffff:0.0.0.0/96",
    b"::ffff:1.2.3.4/104", b"::1.2.3.4", b"1:2:3:4:5:6:7:8",
    b"1:2:3:4:5:6:7::", b"::2:3:4:5:6:7:8", b"1:2:3:4:5:6:7:8::",
    b"1::2::3", b"fe80::1%eth0", b"[::1]", b"127.1", b"0x7f.0.0.1",
    b"2130706433", b"1.2.3.4 ", b" 1.2.3.4", b"1.2.3.4/+8", b"1.2.3.4/-0",
    b"1:2:3:4:5:6:1.2.3.4", b"1:2:3:4:5:6:7:1.2.3.4", b"::1.2.3.04",
    b"0000:0000:0000:0000:0000:0000:0000:0000/128",
    b"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128",
    b"0ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
    b"1.2.3.4/4294967296", b"1.2.3.4/18446744073709551648",
    b"10.88.0.1:11434/tcp", b"169.254.1.1:53", b"0.0.0.0/0:25/tcp",
    b"[fd00::/8]:443", b"[2001:db8::1]:8000-8100/udp", b"[::ffff:10.0.0.1]:53",
    b"[::1]", b"[10.0.0.1]:80", b"1.2.3.4:0", b"1.2.3.4:65536", b"1.2.3.4:-1",
    b"1.2.3.4:80-", b"1.2.3.4:-80", b"1.2.3.4:90-80", b"1.2.3.4:080",
    b"1.2.3.4:8 0", b"1.2.3.4:80/TCP", b"1.2.3.4:80/sctp",
    b"1.2.3.4:80/tcp/udp", b"tcp", b"1.2.3.4::80", b"1.2.3.4:80:90",
    b"2001:db8::1:80/tcp", b"2001:db8::1:80", b"[2001:db8::1]80",
    b"[2001:db8::1]:", b"1.2.3.4:", b":80", b"[]:80", b"[::1/129]:80",
    b"10.0.0.1/8:80", b"10.0.0.1/8:0", b"10.0.0.1/8:80/sctp",
    b"[::ffff:10.0.0.1/120]:80", b"[::ffff:10.0.0.0/104]:1-1024/udp",
    b"[1.2.3.4/8:]:80", b"1.2.3.4:1-65535", b"1.2.3.4:65535-65535/udp",
    b"192.0.2.1:1-" + b"0" * 115 + b"1", b"192.0.2.1:1-" + b"0" * 114 + b"1",
]

PREFIX_JUNK = [
    b"/", b"/0", b"/00", b"/08", b"/+8", b"/-1", b"/-0", b"/ 8", b"/8 ",
    b"/1e1", b"/0x10", b"/33", b"/64", b"/96", b"/128", b"/129", b"/200",
    b"/4294967296", b"/99999999999999999999999", b"//8", b"/8/8", b"/8.0",
    b"/\t8", b"/\xff",
]

ZONES = [b"%eth0", b"%1", b"%", b"%lo", b"%25"]
SPACES = [b" ", b"\t", b"\x0b", b"\x0c", b"\r", b"\xa0", b"\xc2\xa0"]
JUNK = b"0123456789abcdefABCDEFxX:./%[]- +\t\x00\xff"


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def octet(self):
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice([0, 0, 1, 10, 127, 128, 192, 254, 255])
        return self.rng.randrange(256)

    def group(self):
        r = self.rng.random()
        if r < 0.45:
            return 0
        if r < 0.55:
            return 0xffff
        if r < 0.7:
            return self.rng.randrange(16)
        return self.rng.randrange(0x10000)

    def masked(self, packed, prefix):
        bits = len(packed) * 8
        value = int.from_bytes(packed, "big")
        value &= ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)
        return value.to_bytes(len(packed), "big")

    def prefix_for(self, bits):
        r = self.rng.random()
        if r < 0.3:
            return None
        if r < 0.45:
            return self.rng.choice([0, 1, 7, 8, 9, 16, 24, 31, 32, 33, 64,
                                    95, 96, 97, 104, 120, 127, 128, 129])
        return self.rng.randrange(bits + 1)

    def v4(self):
        packed = bytes(self.octet() for _ in range(4))
        prefix = self.prefix_for(32)
        if prefix is not None and prefix <= 32 and self.rng.random() < 0.5:
            packed = self.masked(packed, prefix)
        text = ".".join(str(b) for b in packed).encode()
        return text + (b"/%d" % prefix if prefix is not None else b"")

    def v6_text(self, words, tail_v4=False):
        """Format 8 groups (or 6 + a dotted quad) in one of many ways."""
        style = self.rng.random()
        hex_groups = []
        count = 6 if tail_v4 else 8
        for w in words[:count]:
            if style < 0.15:
                hex_groups.append(b"%04x" % w)
            elif style < 0.25:
                hex_groups.append(b"%X" % w)
            elif style < 0.3:
                hex_groups.append((b"%0" + str(self.rng.randint(1, 4)).encode()
                                   + b"x") % w)
            else:
                hex_groups.append(b"%x" % w)
        tail = []
        if tail_v4:
            quad = words[6].to_bytes(2, "big") + words[7].to_bytes(2, "big")
            tail = [".".join(str(b) for b in quad).encode()]
        # Compress a run of zero groups with "::" (the longest, a random
        # one, or none).
        runs, start = [], None
        for i in range(count + 1):
            if i < count and words[i] == 0:
                start = i if start is None else start
            elif start is not None:
                runs.append((start, i))
                start = None
        if runs and self.rng.random() < 0.8:
            if self.rng.random() < 0.6:
                a, b = max(runs, key=lambda r: r[1] - r[0])
            else:
                a, b = self.rng.choice(runs)
            left = b":".join(hex_groups[:a])
            right = b":".join(hex_groups[b:] + tail)
            return left + b"::" + right
        return b":".join(hex_groups + tail)

    def v6(self):
        kind = self.rng.random()
        words = [self.group() for _ in range(8)]
        tail_v4 = False
        if kind < 0.2:  # IPv4-mapped
            words[:6] = [0, 0, 0, 0, 0, 0xffff]
            tail_v4 = self.rng.random() < 0.7
        elif kind < 0.27:  # IPv4-compatible, NAT64, ::ffff:0:x look-alikes
            words[:6] = self.rng.choice([[0] * 6, [0x64, 0xff9b, 0, 0, 0, 0],
                                         [0, 0, 0, 0, 0xffff, 0],
                                         [0, 0, 0, 0, 1, 0xffff],
                                         [0, 0, 0, 0, 0, 0xfffe]])
            tail_v4 = self.rng.random() < 0.5
        elif kind < 0.35:
            tail_v4 = True
        prefix = self.prefix_for(128)
        if prefix is not None and prefix <= 128 and self.rng.random() < 0.5:
            packed = b"".join(w.to_bytes(2, "big") for w in words)
            packed = self.masked(packed, prefix)
            words = [int.from_bytes(packed[i:i + 2], "big")
                     for i in range(0, 16, 2)]
        text = self.v6_text(words, tail_v4)
        return text + (b"/%d" % prefix if prefix is not None else b"")

    # Mutations of a (mostly) valid string.
    def mutate(self, text):
        rng = self.rng
        addr, slash, prefix = text.partition(b"/")
        m = rng.randrange(22)
        if m == 0:  # extra octet or group
            sep = b":" if b":" in addr else b"."
            addr = addr + sep + rng.choice([b"1", b"0", b"255", b"ffff"])
        elif m == 1:  # missing octet or group
            sep = b":" if b":" in addr else b"."
            parts = addr.split(sep)
            if len(parts) > 1:
                del parts[rng.randrange(len(parts))]
            addr = sep.join(parts)
        elif m == 2:  # leading zeros
            parts = re.split(rb"([.:])", addr)
            i = rng.randrange(len(parts))
            if parts[i] not in (b".", b":"):
                parts[i] = b"0" * rng.randint(1, 3) + parts[i]
            addr = b"".join(parts)
        elif m == 3:  # big numbers
            parts = re.split(rb"([.:])", addr)
            i = rng.randrange(len(parts))
            if parts[i] not in (b".", b":"):
                parts[i] = rng.choice([b"256", b"999", b"1000", b"65536",
                                       b"4294967296", b"10000", b"fffff",
                                       b"00000"])
            addr = b"".join(parts)
        elif m == 4:  # hex or octal IPv4 octet
            parts = addr.split(b".")
            i = rng.randrange(len(parts))
            parts[i] = rng.choice([b"0x", b"0X", b"0", b"0o"]) + parts[i]
            addr = b".".join(parts)
        elif m == 5:  # a random ':' group somewhere
            i = rng.randrange(len(addr) + 1)
            addr = addr[:i] + b":" + (b"%x" % self.group()) + b":" + addr[i:]
            addr = addr.replace(b":::", b"::")
        elif m == 6:  # '::' somewhere
            i = rng.randrange(len(addr) + 1)
            addr = addr[:i] + b"::" + addr[i:]
        elif m == 7:  # embed an IPv4 quad
            quad = b".".join(b"%d" % self.octet() for _ in range(4))
            head = rng.choice([b"::", b"::ffff:", b"1:2:3:4:5:6:", b"1::",
                               b"::ffff:0:", b"1:2:3:4:5:6:7:", b"64:ff9b::",
                               addr + b":"])
            addr = head + quad
        elif m == 8:  # prefix junk
            return addr + rng.choice(PREFIX_JUNK)
        elif m == 9:  # random prefix length
            return addr + b"/%d" % rng.randrange(140)
        elif m == 10:  # whitespace
            i = rng.randrange(len(text) + 1)
            return text[:i] + rng.choice(SPACES) + text[i:]
        elif m == 11:  # zone id
            addr = addr + rng.choice(ZONES)
        elif m == 12:  # brackets
            addr = b"[" + addr + b"]"
        elif m == 13:  # delete a byte
            if text:
                i = rng.randrange(len(text))
                return text[:i] + text[i + 1:]
        elif m == 14:  # replace a byte
            if text:
                i = rng.randrange(len(text))
                return text[:i] + bytes([rng.choice(JUNK)]) + text[i + 1:]
        elif m == 15:  # duplicate a byte
            if text:
                i = rng.randrange(len(text))
                return text[:i] + text[i:i + 1] + text[i:]
        elif m == 16:  # truncate
            return text[:rng.randrange(len(text) + 1)]
        elif m == 17:  # shorthand and integer forms
            return rng.choice([b"127.1", b"10.1.1", b"2130706433", b"0177.0.0.1",
                               b"1.2.3.", b".1.2.3.4", b"1..2.3", b"0x7f000001",
                               b"1.2.3.4.", b"localhost", b"::ffff:127.1"])
        elif m == 18:  # trailing or leading separators
            addr = rng.choice([b":", b".", b"::"]) + addr if rng.random() < 0.5 \
                else addr + rng.choice([b":", b".", b"::"])
        elif m == 19:  # case
            addr = addr.upper() if rng.random() < 0.5 else addr.swapcase()
        elif m == 20:  # signs
            i = rng.randrange(len(text) + 1)
            return text[:i] + rng.choice([b"+", b"-"]) + text[i:]
        else:  # a non-ASCII or control byte
            i = rng.randrange(len(text) + 1)
            return text[:i] + bytes([rng.choice([0x01, 0x7f, 0x80, 0xff])]) + \
                text[i:]
        return addr + slash + prefix

    # Rules with ports: PORTS, PROTO, the brackets, and faults of each.
    def port(self):
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice([1, 2, 53, 80, 443, 1023, 1024, 8080,
                                    11434, 32768, 65534, 65535])
        return self.rng.randint(1, 65535)

    def ports_text(self):
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return b"%d" % self.port()
        if r < 0.85:
            a, b = sorted((self.port(), self.port()))
            if rng.random() < 0.1:
                a, b = b, a  # reversed (or equal)
            return b"%d-%d" % (a, b)
        return rng.choice([
            b"0", b"00", b"080", b"65536", b"99999999999999999999", b"-1",
            b"+80", b"80-", b"-80", b"-", b"", b"8 0", b" 80", b"80 ",
            b"0x50", b"1e2", b"80,443", b"80--90", b"1-2-3", b"0-80",
            b"1-65536", b"80-080", b"http", b"80:90", b":80", b"80]",
            b"\xff80", b"80\t", b"65535-1", b"1-65535"])

    def proto_text(self):
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            return b""
        if r < 0.85:
            return rng.choice([b"/tcp", b"/udp"])
        return rng.choice([b"/TCP", b"/Udp", b"/sctp", b"/icmp", b"/6",
                           b"/", b"/tcp/udp", b"/tcp,udp", b"/tcp ", b"/ udp",
                           b"/udp6", b"//tcp", b"/tc", b"/tcpp"])

    def with_ports(self, cidr):
        """CIDR4:PORTS[/PROTO] or [CIDR6]:PORTS[/PROTO], mostly well formed."""
        rng = self.rng
        v6 = b":" in cidr.partition(b"/")[0]
        tail = self.ports_text() + self.proto_text()
        r = rng.random()
        if r < 0.85:  # the right form for the family
            return b"[" + cidr + b"]:" + tail if v6 else cidr + b":" + tail
        if r < 0.92:  # the other form
            return cidr + b":" + tail if v6 else b"[" + cidr + b"]:" + tail
        return rng.choice([  # broken brackets
            b"[" + cidr + b"]" + tail, b"[" + cidr + b"]", b"[" + cidr,
            cidr + b"]:" + tail, b"[]:" + tail, b"[[" + cidr + b"]]:" + tail,
            b"[" + cidr + b"]::" + tail, b"[" + cidr + b"]:" + tail + b"]",
            b"[" + cidr + b"]/" + tail, b":" + tail])

    def mutate_rule(self, text):
        rng = self.rng
        m = rng.randrange(8)
        i = rng.randrange(len(text) + 1)
        if m == 0:
            return text[:i] + rng.choice([b":", b"::", b"]", b"[", b"]:",
                                          b"-", b"/", b"."]) + text[i:]
        if m == 1 and text:
            return text[:i] + text[i + 1:]
        if m == 2:
            return text[:i] + rng.choice(SPACES) + text[i:]
        if m == 3:
            return text[:i]
        if m == 4 and text:
            return text[:i] + bytes([rng.choice(JUNK + b"tcpud]")]) + \
                text[i + 1:]
        if m == 5:  # near the length limit
            pad = b"0" * rng.randint(100, 130)
            return rng.choice([b"192.0.2.1:1-" + pad + b"1",
                               b"[::1]:" + pad + b"1/tcp",
                               text + pad])[:rng.randint(120, 135)]
        if m == 6:
            return text.upper()
        return text + rng.choice([b"/tcp", b":80", b"-80", b"/8"])

    def strings(self, count):
        for text in EDGE_CASES[:count]:
            yield text
        for _ in range(count - min(count, len(EDGE_CASES))):
            text = self.v4() if self.rng.random() < 0.4 else self.v6()
            for _ in range(self.rng.choice([0, 0, 1, 1, 1, 2, 3])):
                text = self.mutate(text)
            if self.rng.random() < 0.55:
                text = self.with_ports(text)
                for _ in range(self.rng.choice([0, 0, 0, 0, 1, 1, 2])):
                    text = self.mutate_rule(text)
            # Lines carry the strings: never a newline; never a NUL (it
            # would end the C string, the model would see more).
            yield text.replace(b"\n", b"\r").replace(b"\x00", b"\x01")


# ------------------------------------------------------------ compare --

def show(text):
    return repr(text)[1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--oracle", required=True)
    parser.add_argument("--seed", type=int, default=20240605)
    parser.add_argument("--count", type=int, default=100000)
    args = parser.parse_args()

    inputs = list(Generator(args.seed).strings(args.count))
    result = subprocess.run([args.oracle], input=b"".join(t + b"\n" for t in inputs),
                            stdout=subprocess.PIPE, check=False)
    if result.returncode != 0:
        print("oracle exited %d" % result.returncode)
        return 1
    lines = result.stdout.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != len(inputs):
        print("oracle gave %d lines for %d inputs" % (len(lines), len(inputs)))
        return 1

    tally = dict.fromkeys(["OK", "OK_MAPPED", "OK_PORTS", "HOST_BITS", "LONG"] +
                          list(WHY), 0)
    disagreements, grammar_disagreements = [], []
    distinct = set(inputs)
    for text, line in zip(inputs, lines):
        want, agree = judge(text)
        if not agree:
            grammar_disagreements.append(text)
        got = line.split(b" ", 1) if line.startswith(b"BAD ") else line.split(b" ")
        kind = want[0]
        if kind in ("OK", "HOST_BITS"):
            expect = [kind.encode()] + [b"%d" % n for n in want[1:3]] + \
                [want[3].hex().encode()] + [b"%d" % n for n in want[4:]]
        else:
            expect = [b"BAD", WHY[kind]]
        if got != expect:
            disagreements.append((text, b" ".join(expect).decode("latin-1"),
                                  line.decode("latin-1")))
        if len(text) > RULE_MAX:
            tally["LONG"] += 1
            if kind == "OK":
                disagreements.append((text, "the model accepted a long value",
                                      line.decode("latin-1")))
        if kind == "OK":
            tally["OK_PORTS"] += want[4] != 0
            if want[1] == 4 and b":" in split_rule(text)[0].partition(b"/")[0]:
                tally["OK_MAPPED"] += 1
        tally[kind] += 1

    print("differential: %d strings (%d distinct), seed %d: %d accepted "
          "(%d of them IPv4-mapped, %d with ports), %d host bits, "
          "%d bad address, %d bad prefix, %d bad ports, %d bad protocol, "
          "%d brackets; %d longer than %d bytes" % (
              len(inputs), len(distinct), args.seed, tally["OK"],
              tally["OK_MAPPED"], tally["OK_PORTS"], tally["HOST_BITS"],
              tally["BAD_ADDRESS"], tally["BAD_PREFIX"], tally["BAD_PORTS"],
              tally["BAD_PROTO"], tally["BRACKETS"], tally["LONG"], RULE_MAX))
    print("reference grammar vs inet_pton: %d disagreements" % len(grammar_disagreements))
    for text in grammar_disagreements[:20]:
        print("  grammar and inet_pton differ on %s" % show(text))
    print("reference vs parse_rule: %d disagreements" % len(disagreements))
    for text, want, got in disagreements[:20]:
        print("  %s: want %s, got %s" % (show(text), want, got))
    return 1 if disagreements or grammar_disagreements else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reference model of the verdict, DESIGN.md section 6, for test/oracle.py.

Written from the text of the design, not from filter.bpf.c: no trie, no
port blocks, no ranks. A rule is an action, a network and, if it has a port
part, a set of protocols and a port range. For traffic to address A (and,
for TCP and UDP, port N of protocol P):

 1. candidates: the rules whose network contains A and that have no port
    part, or whose protocols include P and whose range includes N (ICMP
    and every other protocol: only rules without a port part);
 2. the longest prefix wins; at equal length a rule with ports beats one
    without; if the winners still disagree, deny wins;
 3. no candidate: allowed.

Aliases: ::ffff:a.b.c.d is judged by the IPv4 rules for a.b.c.d;
64:ff9b::a.b.c.d is denied if its own verdict or a.b.c.d's is deny; in the
socket hooks 0.0.0.0 and :: are judged as 127.0.0.1 and ::1. The egress
backstop judges the packet's real destination (the caller passes it); a
packet whose ports it cannot read is denied if a deny rule's prefix
contains its destination (see unreadable()).

    reference_verdict.py --self-test   checks the model on DESIGN.md's examples
    reference_verdict.py RULE... -- PROTO ADDR [PORT]
        prints "deny" or "allow"; a RULE is "--deny X" or "--allow X"
"""

import ipaddress
import sys

NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOOPBACK = {
    ipaddress.ip_address("0.0.0.0"): ipaddress.ip_address("127.0.0.1"),
    ipaddress.ip_address("::"): ipaddress.ip_address("::1"),
}


class Rule:
    """action 'deny' or 'allow'; network; protocols None (no port part) or
    a frozenset of 'tcp'/'udp'; first..last the port range."""

    def __init__(self, action, text):
        self.action = action
        self.text = text
        self.protocols = None
        self.first = self.last = 0
        cidr, ports = split_rule(text)
        network = ipaddress.ip_network(cidr, strict=True)
        mapped = (network.version == 6 and network.prefixlen >= 96 and
                  network.network_address.ipv4_mapped is not None)
        if mapped:  # ::ffff:a.b.c.d/96+n is the IPv4 rule a.b.c.d/n
            network = ipaddress.ip_network(
                (network.network_address.ipv4_mapped, network.prefixlen - 96))
        self.network = network
        if ports is not None:
            ports, _, proto = ports.partition("/")
            first, _, last = ports.partition("-")
            self.first = int(first)
            self.last = int(last) if last else self.first
            self.protocols = frozenset([proto] if proto else ["tcp", "udp"])

    def matches(self, addr, protocol, port):
        if addr.version != self.network.version or addr not in self.network:
            return False
        if self.protocols is None:
            return True
        return protocol in self.protocols and self.first <= port <= self.last

    def __repr__(self):
        return "--%s %s" % (self.action, self.text)


def split_rule(text):
    """(CIDR, PORTS or None) of a rule as DESIGN.md section 3 writes it."""
    if text.startswith("["):
        cidr, _, ports = text[1:].partition("]:")
        return cidr, ports
    colon = text.find(":")
    if colon > 0 and "." in text[:colon]:
        return text[:colon], text[colon + 1:]
    return text, None


def decide(rules, addr, protocol, port):
    """True for deny: steps 1-3 above, for one address as it is."""
    candidates = [r for r in rules if r.matches(addr, protocol, port)]
    if not candidates:
        return False
    best = max((r.network.prefixlen, r.protocols is not None)
               for r in candidates)
    return any(r.action == "deny" for r in candidates
               if (r.network.prefixlen, r.protocols is not None) == best)


def verdict(rules, dest, protocol, port=0, hook="socket"):
    """'deny' or 'allow' for traffic to dest (text or ip_address);
    protocol 'tcp', 'udp' or anything else (no ports); hook 'socket' (the
    four socket hooks) or 'backstop' (dest is the packet's destination)."""
    addr = ipaddress.ip_address(dest)
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if hook == "socket":
        addr = LOOPBACK.get(addr, addr)
    if protocol not in ("tcp", "udp"):
        port = 0
    deny = decide(rules, addr, protocol, port)
    if addr.version == 6 and addr in NAT64:
        embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        deny = deny or decide(rules, embedded, protocol, port)
    return "deny" if deny else "allow"


def unreadable(rules, dest):
    """'deny' or 'allow' for a packet whose ports the backstop cannot read
    (an IPv4 later fragment, an IPv6 extension header): deny if some deny
    rule's prefix contains its destination, ports or not; for
    64:ff9b::a.b.c.d, the prefix of the address or of a.b.c.d."""
    addr = ipaddress.ip_address(dest)
    addrs = [addr]
    if addr.version == 6 and addr in NAT64:
        addrs.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    covered = any(r.action == "deny" and a.version == r.network.version and
                  a in r.network for r in rules for a in addrs)
    return "deny" if covered else "allow"


def counts(rules):
    """The reply's counts: rules per family and per action."""
    return {
        "ipv4": sum(r.network.version == 4 for r in rules),
        "ipv6": sum(r.network.version == 6 for r in rules),
        "deny": sum(r.action == "deny" for r in rules),
        "allow": sum(r.action == "allow" for r in rules),
    }


def rules_from_argv(argv):
    """Rules from loader-style arguments: --deny X --allow Y ..."""
    if len(argv) % 2:
        raise ValueError("rules come in pairs: --deny X or --allow X")
    rules = []
    for option, value in zip(argv[::2], argv[1::2]):
        if option not in ("--deny", "--allow"):
            raise ValueError("not a rule option: %s" % option)
        rules.append(Rule(option[2:], value))
    return rules


# DESIGN.md section 6's examples and the aliases, as (rules, proto, dest,
# port, expected).
EXAMPLES = [
    ("--deny 10.88.0.1 --allow 10.88.0.1:11434/tcp", "tcp", "10.88.0.1", 11434, "allow"),
    ("--deny 10.88.0.1 --allow 10.88.0.1:11434/tcp", "udp", "10.88.0.1", 11434, "deny"),
    ("--deny 10.88.0.1 --allow 10.88.0.1:11434/tcp", "tcp", "10.88.0.1", 11435, "deny"),
    ("--deny 10.88.0.1 --allow 10.88.0.1:11434/tcp", "icmp", "10.88.0.1", 0, "deny"),
    ("--deny 10.88.0.1 --allow 10.88.0.1:11434/tcp", "tcp", "10.88.0.2", 22, "allow"),
    ("--deny 0.0.0.0/0 --deny ::/0 --allow 140.82.112.0/20:443/tcp", "tcp", "140.82.127.255", 443, "allow"),
    ("--deny 0.0.0.0/0 --deny ::/0 --allow 140.82.112.0/20:443/tcp", "tcp", "140.82.128.0", 443, "deny"),
    ("--deny 0.0.0.0/0 --deny ::/0 --allow 140.82.112.0/20:443/tcp", "udp", "140.82.112.1", 443, "deny"),
    ("--deny 0.0.0.0/0 --deny ::/0 --allow 140.82.112.0/20:443/tcp", "tcp", "2001:db8::1", 443, "deny"),
    ("--deny 0.0.0.0/0 --deny ::/0 --allow 140.82.112.0/20:443/tcp", "tcp", "::ffff:140.82.112.1", 443, "allow"),
    ("--allow 0.0.0.0/0:443 --deny 169.254.169.254", "tcp", "169.254.169.254", 443, "deny"),
    ("--allow 0.0.0.0/0:443 --deny 169.254.169.254", "tcp", "169.254.169.253", 443, "allow"),
    ("--deny 10.0.0.0/8 --allow 10.0.0.0/8:80", "tcp", "10.1.1.1", 80, "allow"),
    ("--deny 10.0.0.0/8:80 --allow 10.0.0.0/8:80", "tcp", "10.1.1.1", 80, "deny"),
    ("--deny 10.0.0.0/8 --allow 10.1.0.0/16", "icmp", "10.1.1.1", 0, "allow"),
    ("--deny 10.0.0.0/8 --allow 10.0.0.0/8:1-65535", "icmp", "10.1.1.1", 0, "deny"),
    ("--deny 192.0.2.0/24", "tcp", "64:ff9b::192.0.2.7", 80, "deny"),
    ("--deny 192.0.2.0/24", "tcp", "64:ff9b::192.0.3.7", 80, "allow"),
    ("--deny 64:ff9b::/96 --allow 192.0.2.0/24", "tcp", "64:ff9b::192.0.2.7", 80, "deny"),
    ("--deny 127.0.0.0/8", "tcp", "0.0.0.0", 80, "deny"),
    ("--deny ::1", "udp", "::", 53, "deny"),
    ("--deny 0.0.0.0/8", "tcp", "0.0.0.0", 80, "allow"),
    ("--deny [::ffff:192.0.2.0/120]:80", "tcp", "192.0.2.9", 80, "deny"),
    ("--deny ::ffff:192.0.2.0/120", "tcp", "::ffff:192.0.2.9", 81, "deny"),
    ("--deny ::/0", "tcp", "::ffff:192.0.2.9", 81, "allow"),
]


UNREADABLE = [
    ("--deny [2001:db8::/64]:80 --allow 2001:db8::1", "2001:db8::1", "deny"),
    ("--allow 2001:db8::/64 --deny 192.0.2.0/24", "2001:db8::1", "allow"),
    ("--deny 192.0.2.0/24 --allow 192.0.2.1", "192.0.2.1", "deny"),
    ("--deny 192.0.2.0/24", "64:ff9b::192.0.2.1", "deny"),
    ("--deny 64:ff9b::/96", "64:ff9b::192.0.2.1", "deny"),
    ("--deny 192.0.3.0/24", "64:ff9b::192.0.2.1", "allow"),
]


def self_test():
    failed = 0
    for argv, dest, expected in UNREADABLE:
        got = unreadable(rules_from_argv(argv.split()), dest)
        if got != expected:
            failed += 1
            print("model: %s; unreadable ports to %s: %s, expected %s" %
                  (argv, dest, got, expected))
    for argv, protocol, dest, port, expected in EXAMPLES:
        got = verdict(rules_from_argv(argv.split()), dest, protocol, port)
        if got != expected:
            failed += 1
            print("model: %s; %s %s port %d: %s, expected %s" %
                  (argv, protocol, dest, port, got, expected))
    print("reference_verdict: %d examples, %d wrong" %
          (len(EXAMPLES) + len(UNREADABLE), failed))
    return 1 if failed else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if "--" not in argv:
        sys.stderr.write(__doc__)
        return 64
    split = argv.index("--")
    query = argv[split + 1:]
    if len(query) not in (2, 3):
        sys.stderr.write(__doc__)
        return 64
    rules = rules_from_argv(argv[:split])
    print(verdict(rules, query[1], query[0],
                  int(query[2]) if len(query) == 3 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

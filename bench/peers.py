#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""peers.py LIST PREFIX: the bench's rule list LIST (bench/genlist.c: one
"--deny RULE" or "--allow RULE" a line, the loader's grammar) as the two
firewalls users would write instead, inside the jail's network namespace:

  PREFIX.nft        for `nft -f`: table inet jailbench, one interval set per
                    (verdict, family, protocol, ports) group of rules, and an
                    output chain with one rule per set;
  PREFIX.ipset      for `ipset restore`: one hash:net set per group, as the
                    devcontainer firewall of Claude Code keeps its addresses;
  PREFIX.iptables   for `iptables-restore` and `ip6tables-restore`: the
  PREFIX.ip6tables  filter table's OUTPUT chain, one rule per set (two for
                    a port rule of both protocols: -p takes one).

Both reject as that firewall does, with an ICMP "administratively
prohibited" (the connect() fails with EHOSTUNREACH; the loader's EPERM
comes before a packet exists). Neither can say "the longest prefix
decides", which is the loader's rule: the allow rules come first, then the
deny rules. For the bench's lists that gives the loader's verdict for every
destination: each allow rule is narrower (a port rule, or a port rule of a
host inside a denied prefix) than every deny rule that covers it.

Prints the number of sets and of rules, "SETS RULES4 RULES6", for the bench's
check that a setup went in whole.
"""
import ipaddress
import re
import sys

PORTS = r"(?::(?P<lo>\d+)(?:-(?P<hi>\d+))?(?:/(?P<proto>tcp|udp))?)?"
RULE = re.compile(
    r"^(?:\[(?P<v6>[0-9a-fA-F:.]+(?:/\d+)?)\]" + PORTS
    + r"|(?P<v4>[0-9.]+(?:/\d+)?)" + PORTS.replace("?P<", "?P<v4")
    + r"|(?P<bare>[0-9a-fA-F:.]+(?:/\d+)?))$"
)


def parse(option, text):
    """(verdict, family, prefix, proto, ports) of one rule; proto None is
    both protocols, ports None is every port."""
    m = RULE.match(text)
    if not m:
        sys.exit(f"peers.py: cannot read rule {text}")
    v4 = m.group("v4")
    lo, hi, proto = m.group("v4lo", "v4hi", "v4proto") if v4 else m.group("lo", "hi", "proto")
    net = ipaddress.ip_network(m.group("v6") or v4 or m.group("bare"), strict=True)
    ports = (int(lo), int(hi or lo)) if lo else None
    verdict = "allow" if option == "--allow" else "deny"
    return verdict, net.version, str(net), proto, ports


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: peers.py LIST PREFIX")
    groups = {}  # (verdict, family, proto, ports) -> [prefix...], in order
    with open(sys.argv[1], encoding="ascii") as f:
        for line in f:
            option, text = line.split()
            verdict, family, prefix, proto, ports = parse(option, text)
            groups.setdefault((verdict, family, proto, ports), []).append(prefix)
    # allows first, then denies; within each, the order of first appearance
    order = [g for g in groups if g[0] == "allow"] + [g for g in groups if g[0] == "deny"]
    prefix = sys.argv[2]
    nft_sets, nft_rules, ipsets, ipt = [], [], [], {4: [], 6: []}
    for n, (verdict, family, proto, ports) in enumerate(order):
        name = f"jb{n}"
        addrs = groups[(verdict, family, proto, ports)]
        nft_type = "ipv4_addr" if family == 4 else "ipv6_addr"
        nft_sets.append(
            f"\tset {name} {{\n\t\ttype {nft_type}; flags interval;\n"
            f"\t\telements = {{ {', '.join(addrs)} }}\n\t}}"
        )
        match = ""
        if ports:
            span = str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"
            match = f"{proto} dport {span}" if proto else f"meta l4proto {{ tcp, udp }} th dport {span}"
        action = "accept" if verdict == "allow" else "reject with icmpx type admin-prohibited"
        ip = "ip" if family == 4 else "ip6"
        nft_rules.append(f"\t\t{ip} daddr @{name} {match} {action}".replace("  ", " "))
        inet = "inet" if family == 4 else "inet6"
        ipsets.append(f"create {name} hash:net family {inet} maxelem {max(65536, len(addrs))}")
        ipsets.extend(f"add {name} {a}" for a in addrs)
        target = "ACCEPT"
        if verdict == "deny":
            target = "REJECT --reject-with " + ("icmp-admin-prohibited" if family == 4 else "icmp6-adm-prohibited")
        for p in ([proto] if proto else ["tcp", "udp"]) if ports else [None]:
            dport = f"-p {p} --dport {ports[0]}:{ports[1]} " if p else ""
            ipt[family].append(f"-A OUTPUT {dport}-m set --match-set {name} dst -j {target}")
    with open(prefix + ".nft", "w", encoding="ascii") as f:
        f.write("table inet jailbench {\n" + "\n".join(nft_sets) + "\n")
        f.write("\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n")
        f.write("\n".join(nft_rules) + "\n\t}\n}\n")
    with open(prefix + ".ipset", "w", encoding="ascii") as f:
        f.write("\n".join(ipsets) + "\n")
    for family, name in ((4, "iptables"), (6, "ip6tables")):
        with open(f"{prefix}.{name}", "w", encoding="ascii") as f:
            f.write("*filter\n" + "".join(r + "\n" for r in ipt[family]) + "COMMIT\n")
    print(len(order), len(ipt[4]), len(ipt[6]))


main()

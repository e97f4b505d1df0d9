/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * What the loader and the kernel side (filter.bpf.c) share: the key and
 * value of the one rule trie, a BPF_MAP_TYPE_LPM_TRIE (kernel doc:
 * Documentation/bpf/map_lpm_trie.rst). Byte order: network, as on the wire.
 *
 * One rule becomes one or more keys, each "family, kind, port, address"
 * with a prefix length of 32 (family, kind, port) + the rule's own length:
 *  - a rule without ports: kind KIND_ANY_PORT, port 0;
 *  - a rule with ports: for each of its protocols (KIND_TCP, KIND_UDP), its
 *    range N-M cut into aligned blocks of 2^level ports (at most 30, since
 *    1 <= N <= M <= 65535), each keyed by its first port, kind
 *    KIND_TCP or KIND_UDP | level;
 *  - a deny rule also gets kind KIND_DENY, port 0: "some deny rule covers
 *    this address", for packets whose ports cannot be read.
 * A lookup asks for the longest matching prefix of one kind (and one port
 * block), so the work per packet is at most 2 + 16 lookups (+ as many again
 * for the IPv4 address inside a NAT64 one), whatever the number of rules;
 * one when no deny rule's prefix contains the destination (KIND_DENY).
 *
 * Value: the rank of the rule, (address prefix length << 2 | has ports << 1
 * | deny). The highest rank among the matches wins (DESIGN.md section 6:
 * longest prefix, then a rule with ports, then deny); an odd winner denies.
 */
#ifndef JAIL_AI_FILTER_H
#define JAIL_AI_FILTER_H

#include <linux/types.h>

#define RULES_MAX 16384 /* --deny and --allow together */
#define KEYS_PER_RULE 61UL /* 2 protocols x 30 port blocks + KIND_DENY */
#define KEYS_MAX (RULES_MAX * KEYS_PER_RULE)

enum rule_kind {
	KIND_ANY_PORT = 0x00,
	KIND_TCP = 0x20, /* | level, 0..15 */
	KIND_UDP = 0x40, /* | level, 0..15 */
	KIND_DENY = 0x80,
};

struct rule_key {
	__u32 prefixlen; /* bits of what follows that must match */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 kind; /* enum rule_kind */
	__be16 port; /* first port of the block; 0 without ports */
	__be32 addr[4]; /* an IPv4 address fills addr[0] only */
};

#endif

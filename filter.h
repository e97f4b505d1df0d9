/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The one format the loader (validate.c, loader.c) and the kernel side
 * (filter.bpf.c) share, and bench/ and the unit tests' contracts use:
 * the hooks, the rule trie's key and value, the verdict. DESIGN.md
 * section 6 says why it is so.
 *
 * The rule trie is a BPF_MAP_TYPE_LPM_TRIE (kernel doc:
 * Documentation/bpf/map_lpm_trie.rst). Byte order: network, as on the wire,
 * for every key field but prefixlen (host order, as the kernel wants it).
 *
 * One rule becomes one or more keys, each "family, kind, port, address"
 * with a prefix length of 32 (family, kind, port) + the rule's own length:
 *  - a rule without ports: kind KIND_ANY_PORT, port 0;
 *  - a rule with ports: for each of its protocols (KIND_TCP, KIND_UDP), its
 *    range N-M cut into aligned blocks of 2^level ports (level below
 *    PORT_LEVELS; at most 30 blocks, since 1 <= N <= M <= 65535), each
 *    keyed by its first port, kind KIND_TCP or KIND_UDP | level;
 *  - a deny rule also gets kind KIND_DENY, port 0: "some deny rule covers
 *    this address", for packets whose ports cannot be read.
 * A lookup asks for the longest matching prefix of one kind (and one port
 * block), so the work per packet is at most 2 + PORT_LEVELS lookups (+ as
 * many again for the IPv4 address inside a NAT64 one), whatever the number
 * of rules; one when no deny rule's prefix contains the destination.
 *
 * Value: the rule's rank (rule_rank()). The highest rank among the matches
 * wins: the longest prefix, then a rule with ports, then deny. A winner
 * with RANK_DENY denies; no match allows.
 */
#ifndef JAIL_AI_FILTER_H
#define JAIL_AI_FILTER_H

#include <linux/bpf.h>
#include <linux/types.h>

/* Every program of ours is named with this prefix (the kernel keeps the
 * first 15 bytes of a name), so the loader can tell them from others'. */
#define PROG_NAME_PREFIX "jailai_"

/* The cgroup hooks, in the order of the loader's reply ("programs"). */
enum hook {
	HOOK_SOCKOPS, /* marks connections the jail accepted */
	HOOK_CONNECT4,
	HOOK_SENDMSG4,
	HOOK_CONNECT6,
	HOOK_SENDMSG6,
	HOOK_EGRESS, /* the backstop: every packet */
	HOOKS
};

#ifndef __bpf__
/* Where each program is attached (BPF_PROG_ATTACH's attach_type). */
static const enum bpf_attach_type hook_attach_type[HOOKS] = {
	[HOOK_SOCKOPS] = BPF_CGROUP_SOCK_OPS,	   [HOOK_CONNECT4] = BPF_CGROUP_INET4_CONNECT,
	[HOOK_SENDMSG4] = BPF_CGROUP_UDP4_SENDMSG, [HOOK_CONNECT6] = BPF_CGROUP_INET6_CONNECT,
	[HOOK_SENDMSG6] = BPF_CGROUP_UDP6_SENDMSG, [HOOK_EGRESS] = BPF_CGROUP_INET_EGRESS,
};
#endif

/* What a cgroup program returns: VERDICT_DENY fails a connect() or
 * sendmsg() with EPERM and drops a packet (kernel/bpf/cgroup.c: any
 * program of the cgroup and its ancestors returning 0 is -EPERM). */
enum verdict {
	VERDICT_DENY = 0,
	VERDICT_ALLOW = 1,
};

#define RULES_MAX 16384 /* --deny and --allow together */
#define PORT_MAX 65535
#define PORT_LEVELS 16 /* blocks of 2^0 .. 2^15 ports */
#define KEYS_PER_RULE 61UL /* 2 protocols x 30 port blocks + KIND_DENY */
#define KEYS_MAX (RULES_MAX * KEYS_PER_RULE)

enum rule_kind {
	KIND_ANY_PORT = 0x00,
	KIND_TCP = 0x20, /* | level */
	KIND_UDP = 0x40, /* | level */
	KIND_DENY = 0x80,
};

/* A rule's protocols (struct rule in validate.h); none: no port part. */
#define PROTO_TCP 1U
#define PROTO_UDP 2U
#define KIND_OF(proto) ((proto) << 5) /* PROTO_TCP: KIND_TCP, PROTO_UDP: KIND_UDP */

struct rule_key {
	__u32 prefixlen; /* bits of what follows that must match */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 kind; /* enum rule_kind */
	__be16 port; /* first port of the block; 0 without ports */
	__be32 addr[4]; /* an IPv4 address fills addr[0] only */
};

/* The rank's bits: prefix length (0..128) << RANK_PREFIX_SHIFT | RANK_PORTS
 * | RANK_DENY. */
#define RANK_DENY 1U /* the rule denies */
#define RANK_PORTS 2U /* the rule names ports */
#define RANK_PREFIX_SHIFT 2

static inline __u32 rule_rank(__u32 prefixlen, int ports, int deny)
{
	__u32 rank = prefixlen << RANK_PREFIX_SHIFT;

	if (ports)
		rank |= RANK_PORTS;
	if (deny)
		rank |= RANK_DENY;
	return rank;
}

/*
 * The refusal log: a BPF_MAP_TYPE_LRU_HASH of at most REFUSALS_MAX
 * entries that the hooks write when they refuse, and only then (DESIGN.md
 * section 6), read by scripts/jail-ai-refusals. One entry per destination
 * and hook. When the log is full, a new destination takes the place of one
 * not refused for long (the kernel's LRU, approximate and per CPU), so the
 * log holds the most recent destinations; an evicted destination that is
 * refused again starts a new entry, its count and first time lost with
 * the old one. Counts are exact unless the log is full and evicting.
 */
#define REFUSALS_MAX 4096

struct refusal_key {
	/* The destination as the hook saw it, before it was judged as another
	 * (an IPv4 one fills addr[0]): as the program asked for it, but the
	 * kernel sends a UDP datagram to ::ffff:a.b.c.d from an IPv6 socket on
	 * its IPv4 path, so it reaches sendmsg4 as a.b.c.d. */
	__be32 addr[4];
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 protocol; /* IPPROTO_TCP, IPPROTO_UDP, or what the IP header says (egress) */
	__u8 hook; /* enum hook: HOOK_CONNECT4 .. HOOK_EGRESS */
	__u8 unreadable; /* 1: the egress hook could not read the ports; port is 0 */
	__u16 port; /* destination port, host order; 0 but for TCP and UDP */
	__u16 zero; /* padding, always 0 */
};

struct refusal {
	__u64 count; /* refusals of this destination at this hook */
	__u64 first_ns; /* the first one's bpf_ktime_get_boot_ns(): CLOCK_BOOTTIME, ns */
	__u64 last_ns; /* the latest one's; CPUs racing may store theirs out of order */
	/* The trie match that decided: its key, with prefixlen 32 + the
	 * deciding rule's prefix length and addr the address judged (for an
	 * IPv4-mapped or NAT64 destination, its IPv4 address; the rule's
	 * prefix is its first prefixlen - 32 bits), and its value, the rule's
	 * rank. kind KIND_DENY: the ports were unreadable and a deny rule
	 * contains the destination; else kind and port are the matching
	 * port block's (filter.h above), of which the rule covers all. */
	struct rule_key rule;
	__u32 rank; /* rule_rank(): the rule's prefix length, ports, action */
	__u32 zero; /* padding, always 0 */
};

_Static_assert(sizeof(struct refusal_key) == 24, "16 + 4 + 2 + 2 bytes, no padding");
_Static_assert(sizeof(struct refusal) == 56, "3 x 8 + 24 + 4 + 4 bytes, no padding");
_Static_assert(sizeof(struct rule_key) == 24, "the trie's key: 4 + 4 + 16 bytes, no padding");
_Static_assert((1U << (PORT_LEVELS - 1)) <= PORT_MAX,
	       "a block of 2^level ports fits the port range");
_Static_assert(((KIND_TCP | KIND_UDP | KIND_DENY) & (PORT_LEVELS - 1)) == 0,
	       "the level is or-ed into the kind's low bits");
_Static_assert(KIND_OF(PROTO_TCP) == KIND_TCP && KIND_OF(PROTO_UDP) == KIND_UDP,
	       "a protocol's kind is its bit, shifted");
_Static_assert((KIND_TCP & KIND_UDP) == 0 && ((KIND_TCP | KIND_UDP) & KIND_DENY) == 0,
	       "the kinds are distinct bits");
_Static_assert(KEYS_PER_RULE == 2 * 30 + 1, "2 protocols x at most 30 blocks, + KIND_DENY");

#endif

// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * jail-ai-ebpf-loader kernel side: judge every connection, datagram and
 * packet from the cgroup by the caller's rules (DESIGN.md section 6).
 *
 * The socket hooks return VERDICT_DENY for a denied destination, so connect(), sendto()
 * and sendmsg() fail at once with EPERM. The egress hook is the fail-closed
 * backstop for traffic that never passes a socket hook (raw and ICMP sockets,
 * connections established before the filter was attached). Connections the
 * jail accepted pass the backstop: the sockops hook marks them.
 *
 * Only stable UAPI context fields are used: no CO-RE, no kernel BTF, and no
 * global data (the loader may not mmap once its seccomp filter is live).
 * Program names start with PROG_NAME_PREFIX ("jailai_", filter.h) so the
 * loader can find its own.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "filter.h"

#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_MPTCP_SOCKET 262 /* socket(..., IPPROTO_MPTCP): TCP on the wire */
#define TCP_LISTEN 10
#define IP_FRAGMENT_OFFSET 0x1fff
#define LOOPBACK_IFINDEX 1 /* lo, in every network namespace (include/net/flow.h) */
/* IPv6 extension headers that linux/in6.h does not name (IANA "IPv6
 * Extension Header Types", RFC 7045): */
#define IPPROTO_HIP 139 /* Host Identity Protocol, RFC 7401 */
#define IPPROTO_SHIM6 140 /* RFC 5533 */
#define IPPROTO_EXPERIMENT1 253 /* RFC 3692 */
#define IPPROTO_EXPERIMENT2 254

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KEYS_MAX);
	__type(key, struct rule_key);
	__type(value, __u32);
} rules SEC(".maps");

/* The refusal log (filter.h): written on the deny path only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, REFUSALS_MAX);
	__type(key, struct refusal_key);
	__type(value, struct refusal);
} refusals SEC(".maps");

/* TCP connections the jail accepted (see jailai_sockops). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} accepted SEC(".maps");

struct dest {
	__be32 addr[4];
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 protocol; /* IPPROTO_TCP, IPPROTO_UDP or any other */
	__u16 port; /* host order; for TCP and UDP only */
	/* set by deny_one() when it denies: what decided (struct refusal) */
	__u32 rank;
	__u8 kind;
	__u16 block; /* first port of the matching block, host order */
};

static __u32 lookup(struct rule_key *key, __u8 kind, __u16 port)
{
	__u32 *rank;

	key->kind = kind;
	key->port = bpf_htons(port);
	rank = bpf_map_lookup_elem(&rules, key);
	return rank ? *rank : 0;
}

/* Is d denied (1) or not (0)? The best rule's rank decides (filter.h): the longest prefix
 * wins, a rule with ports beats one without at equal length, deny wins a
 * tie; so without a deny rule whose prefix contains d, d is allowed. If
 * d's ports could not be read: is there such a deny rule? If denied, d's
 * rank, kind and block say which match decided. */
__noinline int deny_one(struct dest *d, int unreadable)
{
	struct rule_key key = { 0 };
	__u32 rank, best, level;
	__u16 block = 0, port;
	__u8 kind, best_kind = KIND_ANY_PORT;

	if (!d) /* a global function: verified once, for any argument */
		return 1;
	kind = d->protocol == IPPROTO_TCP ? KIND_TCP : KIND_UDP;
	key.prefixlen = 32 + (d->family == AF_INET ? 32 : 128);
	key.family = d->family;
	key.addr[0] = d->addr[0];
	key.addr[1] = d->addr[1];
	key.addr[2] = d->addr[2];
	key.addr[3] = d->addr[3];
	/* No deny rule's prefix contains d (the common case: most traffic
	 * goes where no rule is about): allowed, at the cost of one lookup. */
	best = lookup(&key, KIND_DENY, 0);
	if (best == 0)
		return 0;
	if (unreadable) {
		best_kind = KIND_DENY;
		goto decided;
	}
	best = lookup(&key, KIND_ANY_PORT, 0);
	if (d->protocol != IPPROTO_TCP && d->protocol != IPPROTO_UDP)
		goto decided;
	for (level = 0; level < PORT_LEVELS; level++) {
		port = (__u16)(d->port & ~((1U << level) - 1));
		rank = lookup(&key, kind | level, port);
		if (rank > best) {
			best = rank;
			best_kind = kind | (__u8)level;
			block = port;
		}
	}
decided:
	if (!(best & RANK_DENY))
		return 0;
	d->rank = best;
	d->kind = best_kind;
	d->block = block;
	return 1;
}

/* d becomes the IPv4 address in its last 32 bits (addr[0] only, as in a
 * rule_key). */
static __always_inline void to_ipv4(struct dest *d)
{
	d->family = AF_INET;
	d->addr[0] = d->addr[3];
	d->addr[1] = 0;
	d->addr[2] = 0;
	d->addr[3] = 0;
}

/* Destinations that stand for another address are judged as that address:
 * ::ffff:a.b.c.d as a.b.c.d; 0.0.0.0 and :: (the kernel connects them to
 * the local host) as 127.0.0.1 and ::1; 64:ff9b::a.b.c.d (NAT64, RFC 6052)
 * is denied if either it or a.b.c.d is. */
static __always_inline int denied(struct dest *d, int unreadable)
{
	int nat64, deny;

	if (d->family == AF_INET6 && !d->addr[0] && !d->addr[1] && d->addr[2] == bpf_htonl(0xffff))
		to_ipv4(d);
	if (d->family == AF_INET && !d->addr[0])
		d->addr[0] = bpf_htonl(0x7f000001);
	if (d->family == AF_INET6 && !(d->addr[0] | d->addr[1] | d->addr[2] | d->addr[3]))
		d->addr[3] = bpf_htonl(1);
	nat64 = d->family == AF_INET6 && d->addr[0] == bpf_htonl(0x0064ff9b) && !d->addr[1] &&
		!d->addr[2];
	deny = deny_one(d, unreadable);
	if (nat64 && !deny) {
		to_ipv4(d);
		deny = deny_one(d, unreadable);
	}
	return deny;
}

#ifndef NO_REFUSAL_LOG
/* A refusal of destination d at hook, which judged it as `judged`: add it
 * to the log. Creating an entry races other CPUs refusing the same
 * destination: the one whose BPF_NOEXIST update fails adds to the winner's
 * entry instead, so that counts add up. Only if the log cannot take the
 * entry (it was evicted again at once) is a refusal not counted. */
static __always_inline void log_refusal(const struct dest *d, const struct dest *judged,
					enum hook hook, int unreadable)
{
	struct refusal_key key = { .family = d->family,
				   .protocol = d->protocol,
				   .hook = (__u8)hook,
				   .unreadable = (__u8)unreadable };
	struct refusal *entry, fresh = { .count = 1, .rank = judged->rank };
	__u64 now = bpf_ktime_get_boot_ns();

	__builtin_memcpy(key.addr, d->addr, sizeof(key.addr));
	/* TCP's and UDP's port only: a ping socket's connect() carries one too,
	 * which judges nothing and would make an entry per port */
	if (!unreadable && (d->protocol == IPPROTO_TCP || d->protocol == IPPROTO_UDP))
		key.port = d->port;
	entry = bpf_map_lookup_elem(&refusals, &key);
	if (!entry) {
		fresh.first_ns = now;
		fresh.last_ns = now;
		fresh.rule.prefixlen = 32 + (judged->rank >> RANK_PREFIX_SHIFT);
		fresh.rule.family = judged->family;
		fresh.rule.kind = judged->kind;
		fresh.rule.port = bpf_htons(judged->block);
		__builtin_memcpy(fresh.rule.addr, judged->addr, sizeof(fresh.rule.addr));
		if (bpf_map_update_elem(&refusals, &key, &fresh, BPF_NOEXIST) == 0)
			return;
		/* another CPU made it meanwhile, after this one read the clock */
		entry = bpf_map_lookup_elem(&refusals, &key);
		if (!entry)
			return;
		now = bpf_ktime_get_boot_ns();
	}
	__sync_fetch_and_add(&entry->count, 1);
	entry->last_ns = now;
}

/* Judges d at hook: VERDICT_DENY, logged, or VERDICT_ALLOW. */
static __always_inline int judge(struct dest *d, enum hook hook, int unreadable)
{
	struct dest judged = *d;

	if (!denied(&judged, unreadable))
		return VERDICT_ALLOW;
	log_refusal(d, &judged, hook, unreadable);
	return VERDICT_DENY;
}
#else
/* The log-less build (-DNO_REFUSAL_LOG), which bench/ compares with: the
 * filter as it was before the log (the map is still made, never written). */
static __always_inline int judge(struct dest *d, enum hook hook, int unreadable)
{
	return denied(d, unreadable) ? VERDICT_DENY : VERDICT_ALLOW;
}
#endif

/* The socket hooks: return 0 (EPERM) for a denied destination. On a
 * connected UDP socket, sendmsg() with control messages runs the hook with
 * an all-zero AF_UNSPEC address: not a destination (the peer was judged at
 * connect, the backstop judges every packet), so it is not judged. */
static __always_inline int judge_sock_addr(struct bpf_sock_addr *ctx, __u8 family, enum hook hook)
{
	struct dest d = { .family = family };

	if (family == AF_INET) {
		d.addr[0] = ctx->user_ip4;
	} else {
		d.addr[0] = ctx->user_ip6[0];
		d.addr[1] = ctx->user_ip6[1];
		d.addr[2] = ctx->user_ip6[2];
		d.addr[3] = ctx->user_ip6[3];
	}
	if (ctx->user_family == AF_UNSPEC && !ctx->user_port &&
	    !(d.addr[0] | d.addr[1] | d.addr[2] | d.addr[3]))
		return VERDICT_ALLOW;
	d.protocol = ctx->protocol == IPPROTO_MPTCP_SOCKET ? IPPROTO_TCP : ctx->protocol;
	d.port = bpf_ntohs(ctx->user_port);
	return judge(&d, hook, 0);
}

/* Marks the connections the jail accepts, in a way that outlives this run:
 * when one is established, the socket gets BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG
 * (a flag only BPF programs can set), so that every later packet on it runs
 * this hook (the header-option length callback, which reserves nothing)
 * before it reaches the egress hook. Whichever run's program that is marks
 * the socket in its own socket storage, which the egress hook reads. */
SEC("sockops")
int jailai_sockops(struct bpf_sock_ops *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (ctx->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_ops_cb_flags_set(ctx, (int)(ctx->bpf_sock_ops_cb_flags |
						     BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG));
	else if (ctx->op != BPF_SOCK_OPS_HDR_OPT_LEN_CB)
		return VERDICT_ALLOW;
	if (sk)
		bpf_sk_storage_get(&accepted, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	return VERDICT_ALLOW; /* a sockops program judges nothing */
}

SEC("cgroup/connect4")
int jailai_connect4(struct bpf_sock_addr *ctx)
{
	return judge_sock_addr(ctx, AF_INET, HOOK_CONNECT4);
}

SEC("cgroup/sendmsg4")
int jailai_sendmsg4(struct bpf_sock_addr *ctx)
{
	return judge_sock_addr(ctx, AF_INET, HOOK_SENDMSG4);
}

SEC("cgroup/connect6")
int jailai_connect6(struct bpf_sock_addr *ctx)
{
	return judge_sock_addr(ctx, AF_INET6, HOOK_CONNECT6);
}

SEC("cgroup/sendmsg6")
int jailai_sendmsg6(struct bpf_sock_addr *ctx)
{
	return judge_sock_addr(ctx, AF_INET6, HOOK_SENDMSG6);
}

/* A packet of a TCP connection the jail accepted: its SYN-ACK (which the
 * egress hook sees on the listening socket, the only packet a TCP listener
 * sends) or a packet to the peer of a socket the sockops hook marked. To
 * the peer only, and plain TCP (no IPv4 options, no IPv6 extension header):
 * an accepted socket given a source route (IP_OPTIONS, IPV6_RTHDR) sends
 * its packets on to other hops, which are judged like any other. */
static __always_inline int accepted_connection(struct __sk_buff *skb, const struct dest *d,
					       int plain)
{
	struct bpf_sock *sk = skb->sk;
	__u32 peer[4];

	sk = sk ? bpf_sk_fullsock(sk) : NULL;
	if (!sk || sk->protocol != IPPROTO_TCP || !plain)
		return 0;
	if (sk->state == TCP_LISTEN)
		return 1;
	/* Each field read on its own (volatile): the verifier allows no
	 * pointer arithmetic on a socket, which the compiler makes of a
	 * choice between two fields. */
	peer[0] = *(volatile __u32 *)&sk->dst_ip6[0];
	peer[1] = *(volatile __u32 *)&sk->dst_ip6[1];
	peer[2] = *(volatile __u32 *)&sk->dst_ip6[2];
	peer[3] = *(volatile __u32 *)&sk->dst_ip6[3];
	if (d->family == AF_INET) {
		peer[0] = *(volatile __u32 *)&sk->dst_ip4;
		peer[1] = 0;
		peer[2] = 0;
		peer[3] = 0;
	}
	return d->addr[0] == peer[0] && d->addr[1] == peer[1] && d->addr[2] == peer[2] &&
	       d->addr[3] == peer[3] && bpf_sk_storage_get(&accepted, sk, 0, 0);
}

/* IPv6 extension headers: behind them the ports cannot be read here. */
static __always_inline int extension_header(__u8 next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_FRAGMENT ||
	       next == IPPROTO_AH || next == IPPROTO_DSTOPTS || next == IPPROTO_MH ||
	       next == IPPROTO_HIP || next == IPPROTO_SHIM6 || next == IPPROTO_EXPERIMENT1 ||
	       next == IPPROTO_EXPERIMENT2;
}

/* Whether d is the local host (127.0.0.0/8, ::1, or 0.0.0.0 and :: which
 * the kernel connects to it, IPv4-mapped or not). */
static __always_inline int local_host(const struct dest *d)
{
	__be32 v4 = d->addr[0];

	if (d->family == AF_INET6) {
		if (d->addr[0] | d->addr[1])
			return 0;
		if (!d->addr[2])
			return !(d->addr[3] & ~bpf_htonl(1));
		if (d->addr[2] != bpf_htonl(0xffff))
			return 0;
		v4 = d->addr[3];
	}
	return !v4 || (v4 & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000);
}

/* The backstop: the same verdict, ports read from the TCP or UDP header.
 * Fails closed: a packet whose destination cannot be read is dropped; one
 * whose ports cannot be read (a later fragment, extension headers, a cut
 * header) is dropped if any deny rule's prefix contains its destination. */
SEC("cgroup_skb/egress")
int jailai_egress(struct __sk_buff *skb)
{
	struct dest d = { 0 };
	int unreadable = 0, plain;
	__u32 offset;
	__be16 port;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return VERDICT_DENY;
		d.family = AF_INET;
		d.addr[0] = ip.daddr;
		d.protocol = ip.protocol;
		offset = ip.ihl * 4;
		unreadable = !!(ip.frag_off & bpf_htons(IP_FRAGMENT_OFFSET));
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return VERDICT_DENY;
		d.family = AF_INET6;
		__builtin_memcpy(d.addr, &ip6.daddr, sizeof(d.addr));
		d.protocol = ip6.nexthdr;
		offset = sizeof(ip6);
		unreadable = extension_header(ip6.nexthdr);
	} else {
		return VERDICT_ALLOW; /* not IP */
	}
	if (!unreadable && (d.protocol == IPPROTO_TCP || d.protocol == IPPROTO_UDP)) {
		/* the destination port is at offset 2 of either header */
		unreadable = !!bpf_skb_load_bytes(skb, offset + 2, &port, sizeof(port));
		d.port = bpf_ntohs(port);
	}
	/* plain TCP: no IPv4 options, no IPv6 extension header */
	plain = d.protocol == IPPROTO_TCP &&
		offset == (d.family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr));
	/* The local host is the jail's own only on its loopback device:
	 * elsewhere it is a raw packet whose header names 127.0.0.1 but that
	 * was routed by its sendto() address, which a host with route_localnet
	 * would take as its own. */
	if (skb->ifindex != LOOPBACK_IFINDEX && local_host(&d))
		return VERDICT_DENY;
	if (accepted_connection(skb, &d, plain))
		return VERDICT_ALLOW;
	return judge(&d, HOOK_EGRESS, unreadable);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

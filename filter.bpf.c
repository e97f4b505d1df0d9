// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * jail-ai-ebpf-loader kernel side: refuse every connection or datagram from
 * the cgroup to a denied address.
 *
 * The socket hooks return 0 for a denied destination, so connect(), sendto()
 * and sendmsg() fail at once with EPERM. The egress hook is the fail-closed
 * backstop for traffic that never passes a socket hook (raw and ICMP sockets,
 * connections established before the filter was attached).
 *
 * Only stable UAPI context fields are used: no CO-RE, no kernel BTF, and no
 * global data (the loader may not mmap once its seccomp filter is live).
 * Program names start with "jailai_" so the loader can find its own.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DENY_MAX 16384

struct key_v4 {
	__u32 prefixlen;
	__u32 addr;
};

struct key_v6 {
	__u32 prefixlen;
	__u32 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, DENY_MAX);
	__type(key, struct key_v4);
	__type(value, __u8);
} deny_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, DENY_MAX);
	__type(key, struct key_v6);
	__type(value, __u8);
} deny_v6 SEC(".maps");

/* Both take addresses in network byte order. */
static __always_inline int denied_v4(__u32 addr)
{
	struct key_v4 key = { .prefixlen = 32, .addr = addr };

	return bpf_map_lookup_elem(&deny_v4, &key) != NULL;
}

static __always_inline int denied_v6(const __u32 addr[4])
{
	struct key_v6 key = { .prefixlen = 128 };

	/* ::ffff:a.b.c.d reaches a.b.c.d: judge it by the IPv4 list. */
	if (addr[0] == 0 && addr[1] == 0 && addr[2] == bpf_htonl(0xffff))
		return denied_v4(addr[3]);
	key.addr[0] = addr[0];
	key.addr[1] = addr[1];
	key.addr[2] = addr[2];
	key.addr[3] = addr[3];
	return bpf_map_lookup_elem(&deny_v6, &key) != NULL;
}

static __always_inline int verdict_v6(struct bpf_sock_addr *ctx)
{
	__u32 addr[4];

	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
	return !denied_v6(addr);
}

SEC("cgroup/connect4")
int jailai_connect4(struct bpf_sock_addr *ctx)
{
	return !denied_v4(ctx->user_ip4);
}

SEC("cgroup/sendmsg4")
int jailai_sendmsg4(struct bpf_sock_addr *ctx)
{
	return !denied_v4(ctx->user_ip4);
}

SEC("cgroup/connect6")
int jailai_connect6(struct bpf_sock_addr *ctx)
{
	return verdict_v6(ctx);
}

SEC("cgroup/sendmsg6")
int jailai_sendmsg6(struct bpf_sock_addr *ctx)
{
	return verdict_v6(ctx);
}

SEC("cgroup_skb/egress")
int jailai_egress(struct __sk_buff *skb)
{
	__u32 addr[4];

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		/* the IPv4 destination is at offset 16 of the header */
		if (bpf_skb_load_bytes(skb, 16, &addr[0], 4))
			return 0;
		return !denied_v4(addr[0]);
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		/* the IPv6 destination is at offset 24 of the header */
		if (bpf_skb_load_bytes(skb, 24, addr, 16))
			return 0;
		return !denied_v6(addr);
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* SPDX-License-Identifier: MIT */
/*
 * The trie keys of one rule (filter.h), for the bench's own programs: the
 * minimal C floor (floor.c) turns the loader's argv into keys with it, and
 * genlist.c the bpftool script's batch file. A second, trusting reading of
 * DESIGN.md section 3: the bench only feeds it lists it generated, so it
 * checks nothing but what inet_pton checks (no bounds, no host bits, no
 * IPv4-mapped folding). The keys are the loader's: a rule without ports is
 * one KIND_ANY_PORT key; a rule with ports one key per aligned block of
 * 2^level ports per protocol; a deny rule also a KIND_DENY key. The value
 * is the rule's rank, rule_rank() (filter.h).
 */
#ifndef JAIL_AI_BENCH_RULES_H
#define JAIL_AI_BENCH_RULES_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

/* The keys and values of TEXT, a deny rule if DENY, at KEYS and VALUES
 * (room for KEYS_PER_RULE); returns how many, or -1 if TEXT is no rule. */
static int rule_keys(const char *text, int deny, struct rule_key *keys, __u32 *values)
{
	char buf[128], *addr = buf, *ports = NULL, *slash, *proto;
	unsigned long prefixlen, first = 0, last = 0, port, level;
	int family, n = 0, kind;
	unsigned int protocols = 0;
	size_t size = strlen(text) + 1;
	struct rule_key key;

	if (size > sizeof(buf))
		return -1;
	memcpy(buf, text, size);
	if (buf[0] == '[') { /* [CIDR6]:PORTS[/PROTO] */
		addr++;
		ports = strstr(buf, "]:");
		if (!ports)
			return -1;
		*ports = '\0';
		ports += 2;
	} else if ((ports = strchr(buf, ':')) && strchr(buf, '.') &&
		   strchr(buf, '.') < ports) { /* CIDR4:PORTS[/PROTO] */
		*ports++ = '\0';
	} else {
		ports = NULL;
	}
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	prefixlen = family == AF_INET ? 32 : 128;
	slash = strchr(addr, '/');
	if (slash) {
		*slash = '\0';
		prefixlen = strtoul(slash + 1, NULL, 10);
	}
	memset(&key, 0, sizeof(key));
	key.prefixlen = (__u32)(32 + prefixlen);
	key.family = (__u8)family;
	if (inet_pton(family, addr, key.addr) != 1)
		return -1;
	if (ports) {
		proto = strchr(ports, '/');
		if (proto)
			*proto++ = '\0';
		protocols = PROTO_TCP | PROTO_UDP;
		if (proto)
			protocols = strcmp(proto, "tcp") == 0 ? PROTO_TCP : PROTO_UDP;
		first = strtoul(ports, &slash, 10);
		last = *slash == '-' ? strtoul(slash + 1, NULL, 10) : first;
	}
	if (deny) {
		keys[n] = key;
		keys[n].kind = KIND_DENY;
		values[n++] = rule_rank((__u32)prefixlen, ports != NULL, 1);
	}
	if (!ports) {
		keys[n] = key;
		keys[n].kind = KIND_ANY_PORT;
		values[n++] = rule_rank((__u32)prefixlen, 0, deny);
	}
	for (kind = KIND_TCP; kind <= KIND_UDP; kind <<= 1) {
		if (!(protocols & (kind == KIND_TCP ? PROTO_TCP : PROTO_UDP)))
			continue;
		for (port = first; port >= 1 && port <= last; port += 1UL << level) {
			/* the largest aligned block at port within the range */
			for (level = 0; level < PORT_LEVELS - 1 && !(port >> level & 1) &&
					port + (2UL << level) - 1 <= last;
			     level++)
				;
			keys[n] = key;
			keys[n].kind = (__u8)(kind | (int)level);
			keys[n].port = htons((__u16)port);
			values[n++] = rule_rank((__u32)prefixlen, 1, deny);
		}
	}
	return n;
}

#endif

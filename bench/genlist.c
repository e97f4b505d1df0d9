// SPDX-License-Identifier: MIT
/*
 * genlist deny|mixed N LIST BATCH MAPDIR: write one of the benchmark's rule
 * lists of N rules to LIST, one "--deny RULE" or "--allow RULE" a line, and
 * the same rules as `bpftool batch` updates of the pinned trie
 * MAPDIR/rules to BATCH (the keys of bench/rules.h; the deny rules' keys
 * last, as the loader loads them, so a deny replaces an allow of the same
 * key).
 *
 * deny: host rules, all --deny, without ports. They never include
 * 198.51.100.1, the allowed address of the traffic benchmark, but start
 * with its neighbours 198.51.100.2..254, so a lookup of the allowed address
 * walks the deepest path of the trie. The rest alternates IPv4 hosts in
 * 10.0.0.0/8 and IPv6 hosts in 2001:db8:1::/48.
 *
 * mixed: the allow-list posture of the caller guide, with every form of
 * the grammar. --deny 198.51.100.0/24, --allow 198.51.100.1:7001-7003
 * (the traffic benchmark's TCP servers on 7001-7002 and its UDP receiver on
 * 7003, so its traffic is allowed by a port rule inside a denied prefix),
 * then rules with ports on the neighbours 198.51.100.2..254 (none allows
 * 7001-7003 on them), then
 * eight kinds of rules in turn: IPv4 and IPv6, hosts and networks, with
 * and without ports, single ports and ranges, /tcp, /udp and both, deny
 * and allow (rule_of below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

/* Rule i of the mixed list into buf; returns 1 for --deny, 0 for --allow. */
static int rule_of(unsigned long i, char *buf, size_t size)
{
	static const char *const neighbour[4] = { "7001", "8000-8099/udp", "1-1023/tcp",
						  "443/tcp" };
	unsigned long k = i / 8 + 1, a = k >> 8 & 255, b = k & 255;

	if (i < 2) {
		snprintf(buf, size, "%s", i ? "198.51.100.1:7001-7003" : "198.51.100.0/24");
		return !i;
	}
	if (i < 255) {
		snprintf(buf, size, "198.51.100.%lu:%s", i, neighbour[i % 4]);
		return i % 2 == 0;
	}
	switch (i % 8) {
	case 0:
		snprintf(buf, size, "10.%lu.%lu.%lu", k >> 16, a, b);
		return 1;
	case 1:
		snprintf(buf, size, "10.%lu.%lu.%lu:443/tcp", k >> 16, a, b);
		return 0;
	case 2:
		snprintf(buf, size, "11.%lu.%lu.0/24:1000-2000", a, b);
		return 1;
	case 3:
		snprintf(buf, size, "2001:db8:1::%lx", k);
		return 1;
	case 4:
		snprintf(buf, size, "[2001:db8:1::%lx]:53/udp", k);
		return 0;
	case 5:
		snprintf(buf, size, "[2001:db8:2:%lx::/64]:8000-8999/tcp", k);
		return 1;
	case 6:
		snprintf(buf, size, "12.%lu.%lu.0/24:5000-5100/udp", a, b);
		return 0;
	default:
		snprintf(buf, size, "2001:db8:3:%lx::/64", k);
		return 1;
	}
}

/* Rule i of the deny list into buf; always --deny. */
static int deny_of(unsigned long i, char *buf, size_t size)
{
	unsigned long k;

	if (i < 253) {
		snprintf(buf, size, "198.51.100.%lu", i + 2);
		return 1;
	}
	k = (i - 253) / 2 + 1;
	if ((i - 253) % 2 == 0)
		snprintf(buf, size, "10.%lu.%lu.%lu", (k >> 16) & 255, (k >> 8) & 255, k & 255);
	else
		snprintf(buf, size, "2001:db8:1::%lx:%lx", k >> 16, k & 0xffff);
	return 1;
}

/* One `map update` a key; bpftool takes the key and value as bytes. */
static int batch_lines(FILE *out, const char *mapdir, const char *rule, int deny)
{
	struct rule_key keys[KEYS_PER_RULE];
	__u32 values[KEYS_PER_RULE];
	const unsigned char *p;
	int n = rule_keys(rule, deny, keys, values), j;
	size_t b;

	for (j = 0; j < n; j++) {
		fprintf(out, "map update pinned %s/rules key", mapdir);
		for (p = (const void *)&keys[j], b = 0; b < sizeof(keys[j]); b++)
			fprintf(out, " %u", p[b]);
		fprintf(out, " value");
		for (p = (const void *)&values[j], b = 0; b < sizeof(values[j]); b++)
			fprintf(out, " %u", p[b]);
		fprintf(out, "\n");
	}
	return n;
}

int main(int argc, char **argv)
{
	int (*gen)(unsigned long, char *, size_t);
	char rule[128], *end;
	unsigned long n, i;
	int pass, deny;
	FILE *list, *batch;

	if (argc != 6 || (strcmp(argv[1], "deny") != 0 && strcmp(argv[1], "mixed") != 0)) {
		fprintf(stderr, "usage: genlist deny|mixed N LIST BATCH MAPDIR\n");
		return 2;
	}
	gen = argv[1][0] == 'd' ? deny_of : rule_of;
	n = strtoul(argv[2], &end, 10);
	if (*end || n < 1 || n > RULES_MAX) {
		fprintf(stderr, "genlist: N must be 1..%d\n", RULES_MAX);
		return 2;
	}
	list = fopen(argv[3], "w");
	batch = fopen(argv[4], "w");
	if (!list || !batch) {
		perror("genlist");
		return 1;
	}
	for (i = 0; i < n; i++) {
		deny = gen(i, rule, sizeof(rule));
		fprintf(list, "--%s %s\n", deny ? "deny" : "allow", rule);
	}
	/* pass 0: the allow rules' keys; pass 1: the deny rules' */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			deny = gen(i, rule, sizeof(rule));
			if (deny == pass && batch_lines(batch, argv[5], rule, deny) < 0) {
				fprintf(stderr, "genlist: bad rule %s\n", rule);
				return 1;
			}
		}
	if (fclose(list) || fclose(batch)) {
		perror("genlist");
		return 1;
	}
	return 0;
}

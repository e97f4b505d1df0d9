// SPDX-License-Identifier: MIT
/*
 * parse_rule() of validate.c as a line filter, for test/differential.bats
 * (test/reference_rule.py compares it with a model of DESIGN.md section 3).
 * Built with ASan and UBSan by mk/assurance.mk. For each line of stdin:
 *   OK FAMILY PREFIX HEX PROTOCOLS FIRST LAST
 *                                 accepted: 4 or 6, prefix, address bytes,
 *                                 protocols (bit 0 TCP, bit 1 UDP; 0 for a
 *                                 rule without ports) and the port range
 *   HOST_BITS FAMILY PREFIX HEX   refused: host bits; the network meant
 *   BAD WHY                       refused, with parse_rule's message
 */
#define _GNU_SOURCE
#include "../../validate.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		struct rule r;
		const char *why;
		size_t i;

		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		why = parse_rule(line, &r);
		if (why && r.network.family == 0) {
			printf("BAD %s\n", why);
			continue;
		}
		printf("%s %d %u ", why ? "HOST_BITS" : "OK",
		       r.network.family == AF_INET  ? 4 :
		       r.network.family == AF_INET6 ? 6 :
						      -1,
		       r.network.prefixlen);
		for (i = 0; i < (r.network.family == AF_INET ? 4U : 16U); i++)
			printf("%02x", r.network.addr[i]);
		if (!why)
			printf(" %u %llu %llu", r.protocols, r.first_port, r.last_port);
		printf("\n");
	}
	free(line);
	return ferror(stdin) || fflush(stdout) ? 2 : 0;
}

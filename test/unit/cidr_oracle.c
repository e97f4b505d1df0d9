// SPDX-License-Identifier: MIT
/*
 * parse_cidr() of validate.c as a line filter, for test/differential.bats
 * (test/reference_cidr.py compares it with a model of DESIGN.md section 3).
 * Built with ASan and UBSan by mk/assurance.mk. For each line of stdin:
 *   OK FAMILY PREFIX HEX          accepted: 4 or 6, prefix, address bytes
 *   HOST_BITS FAMILY PREFIX HEX   refused: host bits; the network meant
 *   BAD WHY                       refused, with parse_cidr's message
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
		struct cidr c;
		const char *why;
		size_t i;

		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		why = parse_cidr(line, &c);
		if (why && c.family == 0) {
			printf("BAD %s\n", why);
			continue;
		}
		printf("%s %d %u ", why ? "HOST_BITS" : "OK",
		       c.family == AF_INET  ? 4 :
		       c.family == AF_INET6 ? 6 :
					      -1,
		       c.prefixlen);
		for (i = 0; i < (c.family == AF_INET ? 4U : 16U); i++)
			printf("%02x", c.addr[i]);
		printf("\n");
	}
	free(line);
	return ferror(stdin) || fflush(stdout) ? 2 : 0;
}

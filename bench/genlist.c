// SPDX-License-Identifier: MIT
/*
 * genlist N LIST BATCH MAPDIR: write the benchmark's deny list of N entries
 * (one CIDR a line) to LIST, and the same entries as `bpftool batch` map
 * updates of the pinned maps MAPDIR/deny_v4 and MAPDIR/deny_v6 to BATCH.
 *
 * The list never contains 198.51.100.1, the allowed address of the traffic
 * benchmark, but starts with its neighbours 198.51.100.2..254, so a lookup
 * of the allowed address walks the deepest path of the IPv4 trie. The rest
 * alternates IPv4 hosts in 10.0.0.0/8 and IPv6 hosts in 2001:db8:1::/48.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void entry(unsigned long i, char *buf, size_t size)
{
	unsigned long k;

	if (i < 253) {
		snprintf(buf, size, "198.51.100.%lu", i + 2);
		return;
	}
	k = (i - 253) / 2 + 1;
	if ((i - 253) % 2 == 0)
		snprintf(buf, size, "10.%lu.%lu.%lu", (k >> 16) & 255,
			 (k >> 8) & 255, k & 255);
	else
		snprintf(buf, size, "2001:db8:1::%lx:%lx", k >> 16, k & 0xffff);
}

static int batch_line(FILE *out, const char *mapdir, const char *addr)
{
	unsigned char key[20];
	uint32_t prefixlen;
	size_t len, i;
	int v6 = strchr(addr, ':') != NULL;

	prefixlen = v6 ? 128 : 32;
	len = v6 ? 16 : 4;
	/* the trie key: host-endian prefix length, then the address */
	memcpy(key, &prefixlen, sizeof(prefixlen));
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, key + 4) != 1)
		return -1;
	fprintf(out, "map update pinned %s/deny_%s key", mapdir,
		v6 ? "v6" : "v4");
	for (i = 0; i < 4 + len; i++)
		fprintf(out, " %u", key[i]);
	fprintf(out, " value 1\n");
	return 0;
}

int main(int argc, char **argv)
{
	char addr[64], *end;
	unsigned long n, i;
	FILE *list, *batch;

	if (argc != 5) {
		fprintf(stderr, "usage: genlist N LIST BATCH MAPDIR\n");
		return 2;
	}
	n = strtoul(argv[1], &end, 10);
	if (*end || n < 1 || n > 16384) {
		fprintf(stderr, "genlist: N must be 1..16384\n");
		return 2;
	}
	list = fopen(argv[2], "w");
	batch = fopen(argv[3], "w");
	if (!list || !batch) {
		perror("genlist");
		return 1;
	}
	for (i = 0; i < n; i++) {
		entry(i, addr, sizeof(addr));
		fprintf(list, "%s\n", addr);
		if (batch_line(batch, argv[4], addr) < 0) {
			fprintf(stderr, "genlist: bad address %s\n", addr);
			return 1;
		}
	}
	if (fclose(list) || fclose(batch)) {
		perror("genlist");
		return 1;
	}
	return 0;
}

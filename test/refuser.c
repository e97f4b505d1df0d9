// SPDX-License-Identifier: MIT
/*
 * refuser: many refused sends from one process, for test/refusals.bats
 * (a bash loop of processes is far too slow to fill the refusal log).
 *
 *   refuser tcp ADDR PORT COUNT [gated]   COUNT connect() calls to ADDR
 *                                         PORT, all on one TCP socket
 *   refuser udp ADDR PORT COUNT [gated]   COUNT sendto() calls to ADDR PORT
 *   refuser udp-sweep ADDR PORT COUNT     one sendto() to each of COUNT
 *                                         IPv4 addresses from ADDR up
 *
 * gated: print "waiting", then start only once stdin is at its end (so
 * that processes sharing one fifo all start when its writer closes it).
 * Every call is expected to fail with EPERM: prints "refused N" and exits
 * 0 if all COUNT did; else "refused N other M" (M calls that did not fail
 * with EPERM, the first one's error named) and exits 1. Usage: 64; no
 * socket: 71.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

enum { EXIT_OTHER = 1, EXIT_USAGE = 64, EXIT_OSERR = 71 };

static const char usage[] = "usage: refuser tcp|udp ADDR PORT COUNT [gated]\n"
			    "       refuser udp-sweep ADDR PORT COUNT\n";

/* Wait for the end of stdin (its writer closed it). */
static void wait_for_eof(void)
{
	char buf[64];
	ssize_t n;

	printf("waiting\n");
	(void)fflush(stdout);
	do
		n = read(STDIN_FILENO, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
}

int main(int argc, char **argv)
{
	static const char payload[] = "refuser";
	unsigned long count, i, refused = 0, other = 0;
	int tcp, sweep, gated, fd, rc, first_errno = 0;
	struct sockaddr_in *sin;
	struct endpoint t;
	unsigned int port;
	char *end;

	gated = argc == 6 && strcmp(argv[5], "gated") == 0;
	tcp = argc >= 2 && strcmp(argv[1], "tcp") == 0;
	sweep = argc >= 2 && strcmp(argv[1], "udp-sweep") == 0;
	if ((argc != 5 && !(argc == 6 && gated && !sweep)) ||
	    (!tcp && !sweep && strcmp(argv[1], "udp") != 0) || parse_port(argv[3], &port) ||
	    endpoint_from(argv[2], port, &t) || (sweep && t.family != AF_INET) ||
	    argv[4][0] < '1' || argv[4][0] > '9') {
		(void)fputs(usage, stderr);
		return EXIT_USAGE;
	}
	errno = 0;
	count = strtoul(argv[4], &end, 10);
	if (errno || *end) {
		(void)fputs(usage, stderr);
		return EXIT_USAGE;
	}
	fd = socket(t.family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return EXIT_OSERR;
	}
	if (gated)
		wait_for_eof();
	sin = (struct sockaddr_in *)&t.addr;
	for (i = 0; i < count; i++) {
		if (sweep && i > 0)
			sin->sin_addr.s_addr = htonl(ntohl(sin->sin_addr.s_addr) + 1);
		if (tcp)
			rc = connect(fd, (struct sockaddr *)&t.addr, t.len);
		else
			rc = (int)sendto(fd, payload, sizeof(payload), 0,
					 (struct sockaddr *)&t.addr, t.len);
		if (rc < 0 && errno == EPERM) {
			refused++;
			continue;
		}
		if (!other++)
			first_errno = rc < 0 ? errno : 0;
	}
	close(fd);
	if (!other) {
		printf("refused %lu\n", refused);
		return 0;
	}
	printf("refused %lu other %lu (first: %s)\n", refused, other,
	       first_errno ? strerrorname_np(first_errno) : "no error");
	return EXIT_OTHER;
}

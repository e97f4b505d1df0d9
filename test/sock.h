/* SPDX-License-Identifier: MIT */
/*
 * Socket helpers of the C test programs, in one place: test/peer.c and
 * test/netprobe.c use all of them, test/sockfamily.c (linked statically for
 * the busybox image) the port parser. Header-only (static inline), so each
 * program stays one file for the build's pattern rule; the Makefile and
 * mk/sockfamily.mk name this header as their prerequisite, so a change here
 * rebuilds them.
 */
#ifndef JT_TEST_SOCK_H
#define JT_TEST_SOCK_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* wait_for's answer at the deadline: negative, so never an errno. */
#define SOCK_TIMEOUT (-1)

/* An address of either family with its port, as connect() and bind() take
 * it: addr holds a sockaddr_in or a sockaddr_in6 of len bytes. */
struct endpoint {
	struct sockaddr_storage addr;
	socklen_t len;
	int family;
};

/* The errno of the call that just failed, never 0 (which would mean ok). */
static inline int failure(void)
{
	return errno ? errno : EIO;
}

/* Milliseconds on the monotonic clock, for deadlines. */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 once fd is ready for events, SOCK_TIMEOUT at the deadline (a now_ms()
 * time), or the errno of a failed poll(). */
static inline int wait_for(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return SOCK_TIMEOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return failure();
	}
}

/* A port: plain decimal digits without a leading zero, 1..65535, in host
 * byte order. 0 on success, -1 otherwise. */
static inline int parse_port(const char *text, unsigned int *port)
{
	char *end;
	unsigned long value;

	if (text[0] < '1' || text[0] > '9')
		return -1;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || *end || value > 65535)
		return -1;
	*port = (unsigned int)value;
	return 0;
}

/* e becomes the IPv4 or IPv6 literal text (no scope, no brackets) with
 * port (host byte order). 0 on success, -1 if text is neither. */
static inline int endpoint_from(const char *text, unsigned int port, struct endpoint *e)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&e->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&e->addr;

	memset(e, 0, sizeof(*e));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		e->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		e->len = sizeof(*sin6);
	} else {
		return -1;
	}
	e->family = e->addr.ss_family;
	return 0;
}

#endif

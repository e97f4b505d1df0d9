// SPDX-License-Identifier: MIT
/*
 * udpsink ADDR PORT
 *
 * Test helper: bind a UDP socket to ADDR (IPv4 or IPv6) PORT, print "ready",
 * count the datagrams received until SIGTERM or SIGINT (or 900 s, a safety
 * net only: on a busy machine a suite can take minutes), then print
 * "received N". Run it in the test's network namespace, outside the jailed
 * cgroup.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct timeval tick = { .tv_sec = 0, .tv_usec = 100000 };
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	unsigned long received = 0;
	struct sigaction sa;
	socklen_t len;
	char buf[2048];
	long port;
	time_t until;
	int fd;

	port = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
	memset(&ss, 0, sizeof(ss));
	if (port < 1 || port > 65535) {
		fprintf(stderr, "usage: udpsink ADDR PORT\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, argv[1], &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else {
		fprintf(stderr, "udpsink: bad address %s\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick)) < 0) {
		perror("udpsink");
		return 71;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	(void)fflush(stdout);
	until = time(NULL) + 900;
	while (!stop && time(NULL) < until)
		if (recv(fd, buf, sizeof(buf), 0) >= 0)
			received++;
	printf("received %lu\n", received);
	return 0;
}

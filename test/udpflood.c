// SPDX-License-Identifier: MIT
/*
 * udpflood send ADDR PORT
 *	Send one UDP datagram to ADDR (IPv4 or IPv6) PORT. Exit 0 if sendto()
 *	succeeded; else print "sendto: <strerror>" on stderr and exit 77 for
 *	EPERM, 71 for anything else.
 * udpflood flood ADDR PORT
 *	Send datagrams with sendto() as fast as possible until SIGTERM or SIGINT
 *	(or LIFETIME, 30 min: only a safety net for a process whose test forgot
 *	it, far beyond any test on a loaded machine), print "ready" once the first sendto() returned, and at the
 *	end "sent N eperm N other N" (successes, EPERM refusals, other errors).
 * udpflood cflood ADDR PORT
 *	The same with send() on a socket connected first: connect, print
 *	"connected", wait for SIGUSR1 (SIGTERM ends it), then flood. A socket
 *	connected before the filter was attached passes no connect or sendmsg
 *	hook any more: only the egress hook stands between it and ADDR.
 *
 * Run it inside the jailed cgroup and the test's network namespace.
 */
#define _GNU_SOURCE
#define LIFETIME 1800 /* s */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop, go;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_go(int sig)
{
	(void)sig;
	go = 1;
}

static socklen_t address(const char *text, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	long number = strtol(port, NULL, 10);

	memset(ss, 0, sizeof(*ss));
	if (number < 1 || number > 65535)
		return 0;
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)number);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)number);
		return sizeof(*sin6);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char payload[] = "jail-ai test datagram";
	unsigned long sent = 0, eperm = 0, other = 0;
	struct sockaddr_storage ss;
	struct sigaction sa;
	sigset_t block, old;
	socklen_t len;
	time_t until;
	int fd, connected;

	if (argc != 4 || !(len = address(argv[2], argv[3], &ss)) ||
	    (strcmp(argv[1], "send") != 0 && strcmp(argv[1], "flood") != 0 &&
	     strcmp(argv[1], "cflood") != 0)) {
		fprintf(stderr, "usage: udpflood send|flood|cflood ADDR PORT\n");
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 71;
	}
	if (strcmp(argv[1], "send") == 0) {
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&ss, len) >= 0)
			return 0;
		fprintf(stderr, "sendto: %s\n", strerror(errno));
		return errno == EPERM ? 77 : 71;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_go;
	sigaction(SIGUSR1, &sa, NULL);
	connected = strcmp(argv[1], "cflood") == 0;
	if (connected) {
		sigemptyset(&block);
		sigaddset(&block, SIGUSR1);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGINT);
		sigprocmask(SIG_BLOCK, &block, &old);
		if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			fprintf(stderr, "connect: %s\n", strerror(errno));
			return errno == EPERM ? 77 : 71;
		}
		printf("connected\n");
		(void)fflush(stdout);
		while (!go && !stop)
			sigsuspend(&old);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	until = time(NULL) + LIFETIME;
	while (!stop && time(NULL) < until) {
		if ((connected ? send(fd, payload, sizeof(payload), 0) :
				 sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&ss,
					len)) >= 0)
			sent++;
		else if (errno == EPERM)
			eperm++;
		else
			other++;
		if (sent + eperm + other == 1) {
			printf("ready\n");
			(void)fflush(stdout);
		}
	}
	printf("sent %lu eperm %lu other %lu\n", sent, eperm, other);
	return 0;
}

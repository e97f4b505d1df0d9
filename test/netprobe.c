// SPDX-License-Identifier: MIT
/*
 * netprobe: the traffic half of the enforcement tests.
 *
 *   netprobe serve PORT        echo TCP (with Fast Open) and UDP on PORT, and
 *                              MPTCP on PORT+1 when the kernel has it, over
 *                              IPv4 and IPv6; prints "ready ..." once
 *                              listening, then serves until killed
 *   netprobe MODE ADDR [PORT]  one probe; prints "<outcome> in <N> ms"
 *   netprobe hold ADDR PORT    TCP connect, print "connected", wait for a
 *                              line on stdin, then send and report as a probe
 *   netprobe late ADDR PORT    create a TCP socket, print "created", wait for
 *                              a line on stdin, then connect, send and report
 *   netprobe threads ADDR PORT start threads A and B, print "A TID" and
 *                              "B TID", wait for a line on stdin, then A and
 *                              B, one after the other, each make a tcp probe
 *                              from a socket of its own, reported as "A
 *                              <outcome>" and "B <outcome>"; exits 0 when
 *                              both reported
 *
 * MODE is tcp, tfo (sendto MSG_FASTOPEN), mptcp, udp-sendto, udp-connect,
 * raw-icmp or ping-icmp (PORT is not used by the ICMP modes). An IPv4-mapped
 * ADDR (::ffff:a.b.c.d) goes through an AF_INET6 socket.
 *
 * outcome   exit  meaning
 * ok        0     the whole echo came back
 * refused   2     "refused EPERM": a syscall failed with EPERM
 * timeout   3     no (complete) echo within WAIT_MS (5 s)
 * error     4     "error ENAME": any other errno ("error FALLBACK": an
 *                 mptcp probe that fell back to plain TCP)
 * usage     64    bad arguments; 71 when the server cannot start
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/mptcp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

/* How long a probe waits for its echo. Only an expected "timeout" waits it
 * out: long enough that a loaded machine still answers in time. */
#define WAIT_MS 5000
#define MAX_CLIENTS 64

enum { OUT_OK, OUT_TIMEOUT = SOCK_TIMEOUT, OUT_FALLBACK = -2 };
enum {
	EXIT_REFUSED = 2,
	EXIT_TIMEOUT = 3,
	EXIT_ERROR = 4,
	EXIT_USAGE = 64,
	EXIT_OSERR = 71,
};

static const char payload[] = "netprobe echo\n";
#define PAYLOAD_LEN (sizeof(payload) - 1)

static const char usage[] = "usage: netprobe serve PORT (MPTCP on PORT+1)\n"
			    "       netprobe tcp|tfo|mptcp|udp-sendto|udp-connect ADDR PORT\n"
			    "       netprobe raw-icmp|ping-icmp ADDR [PORT]\n"
			    "       netprobe hold|late|threads ADDR PORT\n";

/* An AF_INET6 socket that also reaches IPv4-mapped addresses. */
static int open_socket(int family, int type, int protocol)
{
	int fd = socket(family, type | SOCK_CLOEXEC, protocol);
	int off = 0;

	if (fd >= 0 && family == AF_INET6 && protocol != IPPROTO_ICMPV6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send what is left of the payload, then read the whole echo back. */
static int exchange(int fd, size_t sent, long long deadline)
{
	char buf[256];
	size_t got = 0;
	ssize_t n;
	int rc;

	while (sent < PAYLOAD_LEN) {
		n = send(fd, payload + sent, PAYLOAD_LEN - sent, MSG_NOSIGNAL);
		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return failure();
		rc = wait_for(fd, POLLOUT, deadline);
		if (rc)
			return rc;
	}
	while (got < PAYLOAD_LEN) {
		rc = wait_for(fd, POLLIN, deadline);
		if (rc)
			return rc;
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n == 0)
			return ECONNRESET;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return failure();
		if (n > 0)
			got += (size_t)n;
	}
	if (got != PAYLOAD_LEN || memcmp(buf, payload, got) != 0)
		return EBADMSG;
	return OUT_OK;
}

/* Wait for a non-blocking connect to finish; 0, an errno or OUT_TIMEOUT. */
static int finish_connect(int fd, long long deadline)
{
	socklen_t len = sizeof(int);
	int err = 0, rc = wait_for(fd, POLLOUT, deadline);

	if (rc)
		return rc;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return failure();
	return err;
}

/* tcp, tfo and mptcp, on the socket *fdp or, if that is -1, on a new one;
 * on success *fdp holds the connected socket, else it is closed. */
static int stream_connect(const struct endpoint *t, int protocol, int fastopen, long long deadline,
			  size_t *sent, int *fdp)
{
	const struct sockaddr *to = (const struct sockaddr *)&t->addr;
	int fd = *fdp >= 0 ? *fdp : open_socket(t->family, SOCK_STREAM | SOCK_NONBLOCK, protocol);
	int flags = MSG_FASTOPEN | MSG_NOSIGNAL, rc = 0;
	ssize_t n;

	*sent = 0;
	if (fd < 0)
		return failure();
	if (fastopen) {
		/* Data goes in the SYN once a cookie is known; the first
		 * call only asks for one and returns EINPROGRESS. */
		n = sendto(fd, payload, PAYLOAD_LEN, flags, to, t->len);
		if (n >= 0)
			*sent = (size_t)n;
		else if (errno != EINPROGRESS)
			rc = failure();
	} else if (connect(fd, to, t->len) < 0 && errno != EINPROGRESS) {
		rc = failure();
	}
	if (!rc)
		rc = finish_connect(fd, deadline);
	if (rc) {
		close(fd);
		*fdp = -1;
		return rc;
	}
	*fdp = fd;
	return 0;
}

/* MPTCP_INFO with a zero length succeeds only on a real MPTCP socket. */
static int is_mptcp(int fd)
{
	struct mptcp_info info;
	socklen_t len = 0;

	return getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len) == 0;
}

static int stream_probe(const struct endpoint *t, int protocol, int fastopen, long long deadline)
{
	size_t sent;
	int fd = -1, rc = stream_connect(t, protocol, fastopen, deadline, &sent, &fd);

	if (rc)
		return rc;
	rc = exchange(fd, sent, deadline);
	if (rc == OUT_OK && protocol == IPPROTO_MPTCP && !is_mptcp(fd))
		rc = OUT_FALLBACK;
	close(fd);
	return rc;
}

static int udp_probe(const struct endpoint *t, int use_connect, long long deadline)
{
	int fd = open_socket(t->family, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
	const struct sockaddr *to = (const struct sockaddr *)&t->addr;
	int rc = 0;

	if (fd < 0)
		return failure();
	if (use_connect) {
		if (connect(fd, to, t->len) < 0)
			rc = failure();
		else
			rc = exchange(fd, 0, deadline);
	} else if (sendto(fd, payload, PAYLOAD_LEN, 0, to, t->len) < 0) {
		rc = failure();
	} else {
		rc = exchange(fd, PAYLOAD_LEN, deadline);
	}
	close(fd);
	return rc;
}

static uint16_t inet_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Is this (an IPv4 raw read includes the IP header) our echo reply? */
static int is_reply(const uint8_t *buf, size_t len, int family, int raw, uint16_t id, uint16_t seq)
{
	const struct icmphdr *icmp;
	size_t skip = 0;

	if (family == AF_INET && raw) {
		if (len < sizeof(struct ip))
			return 0;
		skip = (size_t)(buf[0] & 0x0f) * 4;
	}
	if (len < skip + sizeof(*icmp) + PAYLOAD_LEN)
		return 0;
	icmp = (const struct icmphdr *)(buf + skip);
	if (icmp->type != (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
		return 0;
	/* A ping socket's id is its port, chosen by the kernel. */
	if (raw && icmp->un.echo.id != htons(id))
		return 0;
	return icmp->un.echo.sequence == htons(seq) && memcmp(icmp + 1, payload, PAYLOAD_LEN) == 0;
}

/* raw: SOCK_RAW (needs CAP_NET_RAW); else a ping socket (SOCK_DGRAM). */
static int icmp_probe(const struct endpoint *t, int raw, long long deadline)
{
	int protocol = t->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	int fd = open_socket(t->family, (raw ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK, protocol);
	uint16_t id = (uint16_t)getpid(), seq = 1;
	uint8_t packet[sizeof(struct icmphdr) + PAYLOAD_LEN], buf[512];
	struct icmphdr *icmp = (struct icmphdr *)packet;
	struct sockaddr_storage to = t->addr;
	ssize_t n;
	int rc;

	if (fd < 0)
		return failure();
	((struct sockaddr_in *)&to)->sin_port = 0; /* same offset in v6 */
	memset(packet, 0, sizeof(packet));
	icmp->type = t->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	icmp->un.echo.id = htons(id);
	icmp->un.echo.sequence = htons(seq);
	memcpy(icmp + 1, payload, PAYLOAD_LEN);
	/* The kernel sums ICMPv6 and ping sockets itself. */
	if (t->family == AF_INET && raw)
		icmp->checksum = inet_checksum(packet, sizeof(packet));
	if (sendto(fd, packet, sizeof(packet), 0, (struct sockaddr *)&to, t->len) < 0) {
		rc = failure();
		close(fd);
		return rc;
	}
	for (;;) {
		rc = wait_for(fd, POLLIN, deadline);
		if (rc)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			rc = failure();
			break;
		}
		if (n > 0 && is_reply(buf, (size_t)n, t->family, raw, id, seq))
			break;
	}
	close(fd);
	return rc;
}

static int report(int outcome, long long start)
{
	long long elapsed = now_ms() - start;
	const char *name;

	switch (outcome) {
	case OUT_OK:
		printf("ok in %lld ms\n", elapsed);
		return 0;
	case OUT_TIMEOUT:
		printf("timeout in %lld ms\n", elapsed);
		return EXIT_TIMEOUT;
	case OUT_FALLBACK:
		printf("error FALLBACK in %lld ms\n", elapsed);
		return EXIT_ERROR;
	case EPERM:
		printf("refused EPERM in %lld ms\n", elapsed);
		return EXIT_REFUSED;
	default:
		name = strerrorname_np(outcome);
		printf("error %s in %lld ms\n", name ? name : "UNKNOWN", elapsed);
		return EXIT_ERROR;
	}
}

/* Connect now, deliver later: for connections that predate the filter. */
static int hold(const struct endpoint *t)
{
	long long start = now_ms();
	char line[64];
	size_t sent;
	int fd = -1, rc = stream_connect(t, IPPROTO_TCP, 0, start + WAIT_MS, &sent, &fd);

	if (rc)
		return report(rc, start);
	if (printf("connected\n") < 0 || fflush(stdout) == EOF)
		return report(failure(), start);
	if (!fgets(line, sizeof(line), stdin))
		return report(EPIPE, start);
	start = now_ms();
	rc = exchange(fd, 0, start + WAIT_MS);
	close(fd);
	return report(rc, start);
}

/* Create the socket now, connect and deliver later: for a socket made
 * outside the filtered cgroup and used inside it. */
static int late(const struct endpoint *t)
{
	long long start;
	char line[64];
	size_t sent;
	int rc, fd = open_socket(t->family, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);

	if (fd < 0)
		return report(failure(), now_ms());
	if (printf("created\n") < 0 || fflush(stdout) == EOF)
		return report(failure(), now_ms());
	if (!fgets(line, sizeof(line), stdin))
		return report(EPIPE, now_ms());
	start = now_ms();
	rc = stream_connect(t, IPPROTO_TCP, 0, start + WAIT_MS, &sent, &fd);
	if (!rc) {
		rc = exchange(fd, sent, start + WAIT_MS);
		close(fd);
	}
	return report(rc, start);
}

/* One thread of "threads": its id, then a tcp probe when told to. */
struct prober {
	const struct endpoint *t;
	pthread_t thread;
	sem_t ready, go;
	pid_t tid;
	int rc;
};

static void *run_prober(void *arg)
{
	struct prober *p = arg;
	long long start;

	p->tid = gettid();
	sem_post(&p->ready);
	while (sem_wait(&p->go) < 0)
		;
	start = now_ms();
	p->rc = stream_probe(p->t, IPPROTO_TCP, 0, start + WAIT_MS);
	return NULL;
}

/* Threads of one process, which the test places in different cgroups
 * (cgroup.threads) before they make their sockets. */
static int threads(const struct endpoint *t)
{
	struct prober probers[2];
	long long start;
	char line[64];
	int i;

	for (i = 0; i < 2; i++) {
		probers[i].t = t;
		if (sem_init(&probers[i].ready, 0, 0) < 0 || sem_init(&probers[i].go, 0, 0) < 0 ||
		    pthread_create(&probers[i].thread, NULL, run_prober, &probers[i]) != 0)
			return EXIT_OSERR;
		while (sem_wait(&probers[i].ready) < 0)
			;
		printf("%c %d\n", 'A' + i, probers[i].tid);
	}
	if (fflush(stdout) == EOF || !fgets(line, sizeof(line), stdin))
		return EXIT_OSERR;
	for (i = 0; i < 2; i++) {
		start = now_ms();
		sem_post(&probers[i].go);
		pthread_join(probers[i].thread, NULL);
		printf("%c ", 'A' + i);
		report(probers[i].rc, start);
	}
	return fflush(stdout) == EOF ? EXIT_OSERR : 0;
}

static int listen_on(int type, int protocol, unsigned int port)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	int fd = open_socket(AF_INET6, type, protocol), on = 1, queue = 16;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		goto fail;
	if (type == SOCK_DGRAM)
		return fd;
	if (protocol == IPPROTO_TCP &&
	    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &queue, sizeof(queue)) < 0)
		goto fail;
	if (listen(fd, queue) == 0)
		return fd;
fail:
	close(fd);
	return -1;
}

static void echo_datagram(int fd)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char buf[2048];
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);

	if (n > 0)
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
}

/* 0 to keep the connection, -1 once it is done. */
static int echo_stream(int fd)
{
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	return n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* Three listener slots (tcp, udp, mptcp or -1: poll skips it), then the
 * connections. */
static int serve(unsigned int port)
{
	struct pollfd fds[3 + MAX_CLIENTS];
	nfds_t nfds = 3, i;
	int fd;

	fds[0].fd = listen_on(SOCK_STREAM, IPPROTO_TCP, port);
	fds[1].fd = listen_on(SOCK_DGRAM, IPPROTO_UDP, port);
	if (fds[0].fd < 0 || fds[1].fd < 0) {
		fprintf(stderr, "netprobe: serve %u: %s\n", port, strerror(errno));
		return EXIT_OSERR;
	}
	fds[2].fd = listen_on(SOCK_STREAM, IPPROTO_MPTCP, port + 1);
	if (fds[2].fd >= 0)
		printf("ready tcp %u udp %u mptcp %u\n", port, port, port + 1);
	else
		printf("ready tcp %u udp %u\n", port, port);
	if (fflush(stdout) == EOF)
		return EXIT_OSERR;
	for (i = 0; i < nfds; i++)
		fds[i].events = POLLIN;
	for (;;) {
		if (poll(fds, nfds, -1) < 0 && errno != EINTR)
			return EXIT_OSERR;
		for (i = nfds; i-- > 0;) {
			if (!fds[i].revents)
				continue;
			if (i == 1) {
				echo_datagram(fds[i].fd);
			} else if (i < 3) {
				fd = accept4(fds[i].fd, NULL, NULL, SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				if (nfds == 3 + MAX_CLIENTS) {
					close(fd);
					continue;
				}
				fds[nfds].fd = fd;
				fds[nfds].events = POLLIN;
				fds[nfds++].revents = 0;
			} else if (echo_stream(fds[i].fd) < 0) {
				close(fds[i].fd);
				fds[i] = fds[--nfds];
			}
		}
	}
}

enum mode {
	TCP,
	TFO,
	MPTCP,
	UDP_SENDTO,
	UDP_CONNECT,
	RAW_ICMP,
	PING_ICMP,
	HOLD,
	LATE,
	THREADS,
	MODES
};

static const char *const mode_names[MODES] = {
	[TCP] = "tcp",
	[TFO] = "tfo",
	[MPTCP] = "mptcp",
	[UDP_SENDTO] = "udp-sendto",
	[UDP_CONNECT] = "udp-connect",
	[RAW_ICMP] = "raw-icmp",
	[PING_ICMP] = "ping-icmp",
	[HOLD] = "hold",
	[LATE] = "late",
	[THREADS] = "threads",
};

static int probe(enum mode mode, const struct endpoint *t)
{
	long long start = now_ms(), deadline = start + WAIT_MS;

	switch (mode) {
	case TCP:
	case TFO:
		return report(stream_probe(t, IPPROTO_TCP, mode == TFO, deadline), start);
	case MPTCP:
		return report(stream_probe(t, IPPROTO_MPTCP, 0, deadline), start);
	case UDP_SENDTO:
	case UDP_CONNECT:
		return report(udp_probe(t, mode == UDP_CONNECT, deadline), start);
	case RAW_ICMP:
	case PING_ICMP:
		return report(icmp_probe(t, mode == RAW_ICMP, deadline), start);
	case LATE:
		return late(t);
	case THREADS:
		return threads(t);
	default:
		return hold(t);
	}
}

int main(int argc, char **argv)
{
	unsigned int port = 0;
	enum mode mode = MODES;
	struct endpoint t;
	int icmp;

	if (argc == 3 && strcmp(argv[1], "serve") == 0 && parse_port(argv[2], &port) == 0 &&
	    port < 65535)
		return serve(port);
	if (argc == 3 || argc == 4)
		for (mode = 0; mode < MODES; mode++)
			if (strcmp(argv[1], mode_names[mode]) == 0)
				break;
	icmp = mode == RAW_ICMP || mode == PING_ICMP;
	if (mode == MODES || (argc == 3 && !icmp) ||
	    (argc == 4 && parse_port(argv[3], &port) < 0) || endpoint_from(argv[2], port, &t) < 0) {
		(void)fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return probe(mode, &t);
}

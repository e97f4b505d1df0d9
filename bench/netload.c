// SPDX-License-Identifier: MIT
/*
 * netload: TCP load over loopback for the enforcement benchmark.
 *
 *   netload accept-server ADDR PORT   accept and close at once, forever
 *   netload sink-server ADDR PORT     read each connection to EOF, forever
 *   netload source-server ADDR PORT   for each connection, read SECS, then
 *                                     send for SECS, then its CPU time
 *   netload connect ADDR PORT SECS    connect()+close() in a loop; prints
 *                                     connections per second, and the
 *                                     client's CPU microseconds per connect
 *   netload stream ADDR PORT SECS     send for SECS, then wait until the
 *                                     server has read everything; prints
 *                                     MB/s (10^6 bytes per second), and the
 *                                     CPU milliseconds per GB of client
 *                                     and server together (the loopback's
 *                                     receive work lands on either side)
 *   netload pull ADDR PORT SECS       have a source-server send for SECS,
 *                                     read to EOF; prints as stream does
 *   netload udp-server ADDR PORT      read datagrams and drop them, forever;
 *                                     those starting with "probe" it sends
 *                                     back
 *   netload udp ADDR PORT SECS        sendto() a 64-byte datagram in a loop
 *                                     on one unconnected socket (each goes
 *                                     through the sendmsg hooks as well as
 *                                     the egress ones); prints datagrams
 *                                     sent per second, and the client's CPU
 *                                     nanoseconds per datagram
 *   netload probe ADDR PORT           one connect(); prints "ok" or the
 *                                     errno name (EPERM, ECONNREFUSED...)
 *   netload udp-probe ADDR PORT       one datagram to a udp-server on a
 *                                     connected socket; prints "ok" when
 *                                     it comes back, the errno name when
 *                                     send() or recv() fails (EPERM, or an
 *                                     ICMP error's), "timeout" after 5 s
 *   netload refuse FILE PORT SECS     connect() to the IPv4 addresses of
 *                                     FILE (one a line) in turn, PORT each,
 *                                     round and round, for SECS, on one
 *                                     socket; each must fail with EPERM
 *                                     (else exit 1). Prints nanoseconds of
 *                                     wall and of CPU time per refused
 *                                     connect()
 *
 * The clients (connect, stream, pull, probe) take the address to connect
 * from as an optional last argument, FROM: the bench's connections into a
 * jail come from an address the jail's filter denies.
 *
 * Servers print "ready" once listening. Clients time themselves with
 * CLOCK_MONOTONIC, so how they were started does not count. Their CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: the scheduler's exact runtime, including the
 * hooks and the loopback softirq work done in the client's context) hardly
 * depends on what else the machine runs, unlike rates on a busy machine. The connect
 * loop closes with SO_LINGER 0 (a reset, no TIME_WAIT), so a second of
 * connects never runs out of ports. Any failure exits non-zero.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)

static char buffer[CHUNK];

__attribute__((noreturn)) static void fail(const char *what)
{
	fprintf(stderr, "netload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double seconds_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return seconds_of(CLOCK_MONOTONIC);
}

static double cpu_now(void)
{
	return seconds_of(CLOCK_PROCESS_CPUTIME_ID);
}

static struct sockaddr_in address(const char *addr, const char *port)
{
	struct sockaddr_in sin;
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)p);
	if (*end || p == 0 || p > 65535 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "netload: bad address %s port %s\n", addr, port);
		exit(2);
	}
	return sin;
}

static int listener(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0 || listen(fd, 65535) < 0)
		fail("listen");
	if (printf("ready\n") < 0 || fflush(stdout))
		fail("stdout");
	return fd;
}

/* The next connection on listener fd. */
static int next_connection(int fd)
{
	int conn;

	while ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		if (errno != EINTR && errno != ECONNABORTED)
			fail("accept");
	return conn;
}

static void accept_server(const struct sockaddr_in *sin)
{
	int fd = listener(sin);

	for (;;)
		close(next_connection(fd));
}

/* Tells each client, before closing, the CPU time it took to read all. */
static void sink_server(const struct sockaddr_in *sin)
{
	int fd = listener(sin), conn;
	double cpu_start;
	ssize_t got;

	for (;;) {
		conn = next_connection(fd);
		cpu_start = cpu_now();
		do
			got = read(conn, buffer, sizeof(buffer));
		while (got > 0 || (got < 0 && errno == EINTR));
		if (got == 0)
			(void)dprintf(conn, "%.9f\n", cpu_now() - cpu_start);
		close(conn);
	}
}

/* UDP: the receiver only keeps the sender's datagrams from piling up;
 * what it drops does not change the sender's rate. */
static void udp_server(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0)
		fail("bind");
	if (printf("ready\n") < 0 || fflush(stdout))
		fail("stdout");
	for (;;) {
		struct sockaddr_in peer;
		socklen_t size = sizeof(peer);
		ssize_t n =
			recvfrom(fd, buffer, sizeof(buffer), 0, (struct sockaddr *)&peer, &size);

		if (n < 0 && errno != EINTR)
			fail("recv");
		if (n >= 5 && memcmp(buffer, "probe", 5) == 0)
			(void)sendto(fd, buffer, (size_t)n, 0, (struct sockaddr *)&peer, size);
	}
}

static void udp_probe(const struct sockaddr_in *sin)
{
	struct pollfd wait = { .events = POLLIN };
	char reply[8];
	int err = 0;

	wait.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (wait.fd < 0 || connect(wait.fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0)
		fail("udp socket");
	/* a failed send() or recv() leaves its errno: the reason */
	if (send(wait.fd, "probe", 5, 0) != 5 ||
	    (poll(&wait, 1, 5000) > 0 && recv(wait.fd, reply, sizeof(reply), 0) < 0))
		err = errno;
	if (err)
		printf("%s\n", strerrorname_np(err));
	else
		printf("%s\n", wait.revents ? "ok" : "timeout");
	close(wait.fd);
}

#define DATAGRAM 64

static void udp_rate(const struct sockaddr_in *sin, double seconds)
{
	double start = now(), cpu_start = cpu_now(), end;
	unsigned long count = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket");
	do {
		if (sendto(fd, buffer, DATAGRAM, 0, (const struct sockaddr *)sin, sizeof(*sin)) !=
		    DATAGRAM)
			fail("sendto");
		count++;
		end = now();
	} while (end - start < seconds);
	close(fd);
	printf("%.1f %.1f\n", (double)count / (end - start),
	       (cpu_now() - cpu_start) * 1e9 / (double)count);
}

static struct sockaddr_in from; /* sin_family 0: any source address */

/* 0, or -1 if the connection failed */
static int write_all(int fd, const char *data, size_t size)
{
	ssize_t n;

	while (size > 0) {
		n = write(fd, data, size);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			data += n, size -= (size_t)n;
	}
	return 0;
}

/* The pull client's SECS, then data for that long, then a trailer of
 * TRAILER bytes: the CPU time all this took the server. */
#define TRAILER 32

static void source_server(const struct sockaddr_in *sin)
{
	int fd = listener(sin), conn;
	char request[32], trailer[TRAILER + 1];
	double cpu_start, start, seconds;
	ssize_t got;

	for (;;) {
		conn = next_connection(fd);
		cpu_start = cpu_now();
		got = read(conn, request, sizeof(request) - 1);
		seconds = got > 0 ? (request[got] = '\0', strtod(request, NULL)) : 0;
		start = now();
		/* a client that goes away only loses its own run */
		while (seconds > 0 && now() - start < seconds &&
		       write_all(conn, buffer, sizeof(buffer)) == 0)
			;
		snprintf(trailer, sizeof(trailer), "%-*.9f\n", TRAILER - 1, cpu_now() - cpu_start);
		(void)write_all(conn, trailer, TRAILER);
		close(conn);
	}
}

static int connect_to(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		fail("socket");
	/* the port is left to connect(), as without bind() */
	if (from.sin_family &&
	    (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0 ||
	     bind(fd, (const struct sockaddr *)&from, sizeof(from)) < 0))
		fail("bind");
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int connected(const struct sockaddr_in *sin)
{
	int fd = connect_to(sin);

	if (fd < 0)
		fail("connect");
	return fd;
}

static void connect_rate(const struct sockaddr_in *sin, double seconds)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	double start = now(), cpu_start = cpu_now(), end;
	unsigned long count = 0;
	int fd;

	do {
		fd = connected(sin);
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) < 0)
			fail("SO_LINGER");
		close(fd);
		count++;
		end = now();
	} while (end - start < seconds);
	printf("%.1f %.3f\n", (double)count / (end - start),
	       (cpu_now() - cpu_start) * 1e6 / (double)count);
}

/* Prints a stream run's MB/s and CPU ms per GB of client and server, the
 * server's CPU seconds being the number that SERVER_CPU starts with. */
static void report_stream(double bytes, double elapsed, double cpu, const char *server_cpu)
{
	char *end;
	double server = strtod(server_cpu, &end);

	if (end == server_cpu || bytes <= 0) {
		fprintf(stderr, "netload: no CPU time from the server\n");
		exit(1);
	}
	printf("%.1f %.3f\n", bytes / elapsed / 1e6, (cpu + server) * 1e3 / (bytes / 1e9));
}

static void stream(const struct sockaddr_in *sin, double seconds)
{
	double start, cpu_start, end, cpu;
	unsigned long long sent = 0;
	char reply[64];
	size_t got = 0;
	ssize_t n;
	int fd = connected(sin);

	start = now();
	cpu_start = cpu_now();
	do {
		n = write(fd, buffer, sizeof(buffer));
		if (n < 0 && errno != EINTR)
			fail("write");
		if (n > 0)
			sent += (unsigned long long)n;
	} while (now() - start < seconds);
	/* the clock stops when the server has read everything: it then
	 * sends the CPU time that took it, and closes */
	if (shutdown(fd, SHUT_WR) < 0)
		fail("shutdown");
	while ((n = read(fd, reply + got, sizeof(reply) - 1 - got)) != 0) {
		if (n < 0 && errno != EINTR)
			fail("read");
		if (n > 0)
			got += (size_t)n;
		if (got == sizeof(reply) - 1)
			break;
	}
	end = now();
	cpu = cpu_now() - cpu_start;
	close(fd);
	reply[got] = '\0';
	if (!strchr(reply, '\n'))
		reply[0] = '\0';
	report_stream((double)sent, end - start, cpu, reply);
}

static void pull(const struct sockaddr_in *sin, double seconds)
{
	unsigned long long got = 0;
	char tail[TRAILER + 1] = "";
	double start, cpu_start, cpu, elapsed;
	ssize_t n;
	int fd = connected(sin);

	start = now();
	cpu_start = cpu_now();
	if (dprintf(fd, "%.6f\n", seconds) < 0)
		fail("write");
	while ((n = read(fd, buffer, sizeof(buffer))) != 0) {
		if (n < 0 && errno != EINTR)
			fail("read");
		if (n <= 0)
			continue;
		got += (unsigned long long)n;
		/* keep the last TRAILER bytes */
		if (n >= TRAILER) {
			memcpy(tail, buffer + n - TRAILER, TRAILER);
		} else {
			memmove(tail, tail + n, (size_t)(TRAILER - n));
			memcpy(tail + TRAILER - n, buffer, (size_t)n);
		}
	}
	elapsed = now() - start;
	cpu = cpu_now() - cpu_start;
	close(fd);
	if (got < TRAILER)
		tail[0] = '\0';
	report_stream((double)got - TRAILER, elapsed, cpu, tail);
}

static void probe(const struct sockaddr_in *sin)
{
	int fd = connect_to(sin);

	if (fd >= 0) {
		printf("ok\n");
		close(fd);
	} else {
		printf("%s\n", strerrorname_np(errno));
	}
}

#define REFUSE_MAX 65536

/* The refusal flood: how much a refused connect() costs, the refusal log's
 * work included when the filter has one. Addresses beyond the log's size
 * (REFUSALS_MAX, filter.h), taken in turn, make each refusal a new entry
 * that evicts another. */
static void refuse(const char *file, const char *port, double seconds)
{
	static struct sockaddr_in to[REFUSE_MAX];
	double start, cpu_start, end;
	unsigned long count = 0;
	size_t n = 0, i = 0;
	char line[64];
	FILE *f = fopen(file, "re");
	int fd;

	if (!f)
		fail(file);
	while (n < REFUSE_MAX && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		to[n++] = address(line, port);
	}
	(void)fclose(f);
	if (n == 0) {
		fprintf(stderr, "netload: no addresses in %s\n", file);
		exit(1);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket");
	start = now();
	cpu_start = cpu_now();
	do {
		/* a refused connect() leaves the socket as it was: reused */
		errno = 0;
		if (connect(fd, (const struct sockaddr *)&to[i], sizeof(to[i])) == 0 ||
		    errno != EPERM) {
			char name[INET_ADDRSTRLEN] = "?";
			int err = errno;

			inet_ntop(AF_INET, &to[i].sin_addr, name, sizeof(name));
			fprintf(stderr,
				"netload: connect to %s:%s was not refused with EPERM: %s\n", name,
				port, err ? strerrorname_np(err) : "connected");
			exit(1);
		}
		i = i + 1 == n ? 0 : i + 1;
		count++;
		end = now();
	} while (end - start < seconds);
	close(fd);
	printf("%.1f %.1f\n", (end - start) * 1e9 / (double)count,
	       (cpu_now() - cpu_start) * 1e9 / (double)count);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	double seconds = 0;

	if (argc < 4)
		goto usage;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fail("signal");
	if (argc == 5 && strcmp(argv[1], "refuse") == 0) {
		seconds = strtod(argv[4], NULL);
		if (!(seconds > 0 && seconds < 3600))
			goto usage;
		refuse(argv[2], argv[3], seconds);
		return 0;
	}
	sin = address(argv[2], argv[3]);
	/* FROM, the clients' optional last argument */
	if ((argc == 5 && strcmp(argv[1], "probe") == 0) ||
	    (argc == 6 && strcmp(argv[1], "probe") != 0)) {
		from = address(argv[--argc], "1");
		from.sin_port = 0;
	}
	if (argc == 5) {
		seconds = strtod(argv[4], NULL);
		if (!(seconds > 0 && seconds < 3600))
			goto usage;
	}
	if (argc == 4 && strcmp(argv[1], "accept-server") == 0)
		accept_server(&sin);
	else if (argc == 4 && strcmp(argv[1], "sink-server") == 0)
		sink_server(&sin);
	else if (argc == 4 && strcmp(argv[1], "source-server") == 0)
		source_server(&sin);
	else if (argc == 4 && strcmp(argv[1], "udp-server") == 0)
		udp_server(&sin);
	else if (argc == 4 && strcmp(argv[1], "probe") == 0)
		probe(&sin);
	else if (argc == 4 && strcmp(argv[1], "udp-probe") == 0)
		udp_probe(&sin);
	else if (argc == 5 && strcmp(argv[1], "udp") == 0)
		udp_rate(&sin, seconds);
	else if (argc == 5 && strcmp(argv[1], "connect") == 0)
		connect_rate(&sin, seconds);
	else if (argc == 5 && strcmp(argv[1], "stream") == 0)
		stream(&sin, seconds);
	else if (argc == 5 && strcmp(argv[1], "pull") == 0)
		pull(&sin, seconds);
	else
		goto usage;
	return 0;
usage:
	fprintf(stderr,
		"usage: netload accept-server|sink-server|source-server|udp-server ADDR PORT\n"
		"       netload probe ADDR PORT [FROM]\n"
		"       netload udp-probe ADDR PORT\n"
		"       netload refuse FILE PORT SECONDS\n"
		"       netload connect|stream|pull ADDR PORT SECONDS [FROM]\n"
		"       netload udp ADDR PORT SECONDS\n");
	return 2;
}

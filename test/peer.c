// SPDX-License-Identifier: MIT
/*
 * peer: both ends of the accepted-connection tests (test/accepted.bats).
 *
 *   peer listen ADDR PORT            TCP listener (SO_REUSEPORT): greets each
 *                                    connection with "hello", then echoes
 *                                    lines; prints "ready" once listening
 *   peer talk SRC SPORT DST PORT     connect from SRC (SPORT 0: any port;
 *                                    else SO_REUSEPORT and bind to it), read
 *                                    the greeting, print "connected"; then for
 *                                    each stdin line send it and print
 *                                    "echoed LINE" once it came back whole
 *   peer flood SRC DST PORT          connections one after another (connect,
 *                                    greeting, one line echoed, close), "ok N"
 *                                    after each, until stdin is closed
 *   peer udp-echo ADDR PORT          UDP: answer each datagram, print
 *                                    "replied" or the refusal; "ready" first
 *   peer udp-send SRC DST PORT       one datagram from SRC, print "sent"
 *   peer raw-synack SRC SPORT DST DPORT
 *                                    a raw socket's hand-made TCP SYN-ACK
 *                                    from SRC:SPORT; prints "sent"
 *   peer reroute ADDR PORT HOP       accept a connection from itself on
 *                                    ADDR:PORT, then source-route the
 *                                    accepted socket through HOP (IPv4 LSRR
 *                                    option, IPv6 segment routing header; no
 *                                    capability needed) and send a line:
 *                                    "sent", or "held N" if the kernel kept it
 *   peer capture PORT MARKER         print "synack DST" for every outgoing
 *                                    SYN-ACK from port PORT seen on the
 *                                    namespace's interfaces (AF_PACKET); ends
 *                                    after the one to MARKER; "ready" first
 *
 * A talk line that the kernel could not put on the wire at once (the send
 * queue keeps it: SIOCOUTQNSD) is reported as "held N" instead of waiting
 * for an echo that cannot come.
 *
 * outcome            exit  meaning
 * (as above)         0     done
 * refused EPERM      2     a syscall failed with EPERM
 * timeout, held N    3     nothing (complete) within WAIT_MS; not sent
 * error ENAME        4     any other errno, or a bad echo (EBADMSG)
 * usage              64    bad arguments
 * A capture ends with "timeout" after CAPTURE_MS without its marker.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

#define WAIT_MS 3000
#define CAPTURE_MS 30000LL
#define MAX_CLIENTS 256
#define LINE_MAX_LEN 256

enum {
	EXIT_REFUSED = 2,
	EXIT_TIMEOUT = 3,
	EXIT_ERROR = 4,
	EXIT_USAGE = 64,
};
enum { OUT_TIMEOUT = SOCK_TIMEOUT, OUT_HELD = -2 };

static const char greeting[] = "hello\n";

static const char usage[] = "usage: peer listen ADDR PORT\n"
			    "       peer talk SRC SPORT DST PORT\n"
			    "       peer flood SRC DST PORT\n"
			    "       peer udp-echo ADDR PORT\n"
			    "       peer udp-send SRC DST PORT\n"
			    "       peer raw-synack SRC SPORT DST DPORT\n"
			    "       peer reroute ADDR PORT HOP\n"
			    "       peer capture PORT MARKER\n";

/* Output goes to a file the tests read as it grows: flush each line. */
static void flush(void)
{
	if (fflush(stdout) == EOF)
		exit(EXIT_ERROR);
}

/* Print an outcome line (with a prefix, e.g. "failed at 3: ") and return
 * its exit status. */
static int report(const char *prefix, int outcome)
{
	const char *name;

	switch (outcome) {
	case 0:
		return 0;
	case OUT_TIMEOUT:
		printf("%stimeout\n", prefix);
		return EXIT_TIMEOUT;
	case EPERM:
		printf("%srefused EPERM\n", prefix);
		return EXIT_REFUSED;
	default:
		name = strerrorname_np(outcome);
		printf("%serror %s\n", prefix, name ? name : "UNKNOWN");
		return EXIT_ERROR;
	}
}

/* ADDR and PORT (0 allowed: any port); "::" is any address of both
 * families. */
static int parse_endpoint(const char *text, const char *port_text, struct endpoint *e)
{
	unsigned int port = 0;

	if (strcmp(port_text, "0") != 0 && parse_port(port_text, &port) < 0)
		return -1;
	return endpoint_from(text, port, e);
}

static unsigned int endpoint_port(const struct endpoint *e)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&e->addr;

	return ntohs(sin->sin_port); /* same offset in sockaddr_in6 */
}

/* A socket of e's family bound to e; AF_INET6 ones are dual-stack. With
 * reuse, SO_REUSEADDR and SO_REUSEPORT come first (a listener's port). A
 * TCP client bound to an address without a port gets its port at connect(),
 * per destination (IP_BIND_ADDRESS_NO_PORT): a flood of short connections
 * then reuses ports in TIME_WAIT on loopback instead of running out of
 * them, however long the flood lasts on a loaded machine. */
static int bound_socket(const struct endpoint *e, int type, int reuse)
{
	int fd = socket(e->family, type | SOCK_CLOEXEC, 0), on = 1, off = 0;
	int client = (type & ~SOCK_NONBLOCK) == SOCK_STREAM && !reuse && endpoint_port(e) == 0;

	if (fd < 0)
		return -1;
	if ((client && setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on))) ||
	    (e->family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off))) ||
	    (reuse && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
		       setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)))) ||
	    bind(fd, (const struct sockaddr *)&e->addr, e->len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR)
			return failure();
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

/* Read exactly len bytes and compare them with want. */
static int expect_bytes(int fd, const char *want, size_t len, long long deadline)
{
	char buf[LINE_MAX_LEN + 1] = { 0 };
	size_t got = 0;
	ssize_t n;
	int rc;

	while (got < len) {
		rc = wait_for(fd, POLLIN, deadline);
		if (rc)
			return rc;
		n = recv(fd, buf + got, len - got, 0);
		if (n == 0)
			return ECONNRESET;
		if (n < 0 && errno != EINTR)
			return failure();
		if (n > 0)
			got += (size_t)n;
	}
	return memcmp(buf, want, len) ? EBADMSG : 0;
}

/* Send one line; OUT_HELD (*held set) when the kernel kept it queued, else
 * wait for it to come back whole. */
static int echo_line(int fd, const char *line, size_t len, int *held)
{
	int rc = send_all(fd, line, len);

	if (rc)
		return rc;
	if (ioctl(fd, SIOCOUTQNSD, held) < 0)
		return failure();
	if (*held > 0)
		return OUT_HELD;
	return expect_bytes(fd, line, len, now_ms() + WAIT_MS);
}

/* Connect from src to dst and read the greeting; *fdp on success. */
static int open_connection(const struct endpoint *src, const struct endpoint *dst, int *fdp)
{
	long long deadline = now_ms() + WAIT_MS;
	int fd = bound_socket(src, SOCK_STREAM | SOCK_NONBLOCK, endpoint_port(src) != 0);
	int on = 1, err = 0, rc;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return failure();
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ||
	    (connect(fd, (const struct sockaddr *)&dst->addr, dst->len) && errno != EINPROGRESS)) {
		rc = failure();
		close(fd);
		return rc;
	}
	rc = wait_for(fd, POLLOUT, deadline);
	if (!rc && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		rc = failure();
	if (!rc)
		rc = err;
	if (!rc)
		rc = expect_bytes(fd, greeting, sizeof(greeting) - 1, deadline);
	if (rc) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

static int talk(const struct endpoint *src, const struct endpoint *dst)
{
	char line[LINE_MAX_LEN];
	int fd = -1, held = 0, rc = open_connection(src, dst, &fd);
	size_t len;

	if (rc)
		return report("", rc);
	printf("connected\n");
	flush();
	while (fgets(line, sizeof(line), stdin)) {
		len = strlen(line);
		rc = echo_line(fd, line, len, &held);
		if (rc == OUT_HELD) {
			printf("held %d\n", held);
			close(fd);
			return EXIT_TIMEOUT;
		}
		if (rc) {
			close(fd);
			return report("", rc);
		}
		printf("echoed %s", line);
		flush();
	}
	close(fd);
	return 0;
}

/* Is stdin closed (EOF or hang-up)? Never blocks. */
static int stdin_closed(void)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	return read(0, &c, 1) <= 0;
}

static int flood(const struct endpoint *src, const struct endpoint *dst)
{
	static const char line[] = "flood\n";
	char prefix[64];
	unsigned long count = 0;
	int fd, held, rc;

	while (!stdin_closed()) {
		fd = -1;
		rc = open_connection(src, dst, &fd);
		if (!rc) {
			rc = echo_line(fd, line, sizeof(line) - 1, &held);
			close(fd);
		}
		snprintf(prefix, sizeof(prefix), "failed at %lu: ", count + 1);
		if (rc == OUT_HELD)
			rc = OUT_TIMEOUT;
		if (rc)
			return report(prefix, rc);
		printf("ok %lu\n", ++count);
		flush();
	}
	return 0;
}

static void close_client(struct pollfd *fds, nfds_t *nfds, nfds_t i)
{
	close(fds[i].fd);
	fds[i] = fds[--*nfds];
}

static int listen_tcp(const struct endpoint *e)
{
	struct pollfd fds[1 + MAX_CLIENTS];
	nfds_t nfds = 1, i;
	char buf[2048];
	ssize_t n;
	int fd;

	fds[0].fd = bound_socket(e, SOCK_STREAM, 1);
	if (fds[0].fd < 0 || listen(fds[0].fd, 128) < 0)
		return report("", failure());
	fds[0].events = POLLIN;
	printf("ready\n");
	flush();
	for (;;) {
		if (poll(fds, nfds, -1) < 0 && errno != EINTR)
			return report("", failure());
		for (i = nfds; i-- > 1;) {
			if (!fds[i].revents)
				continue;
			n = recv(fds[i].fd, buf, sizeof(buf), 0);
			if (n <= 0 || send_all(fds[i].fd, buf, (size_t)n))
				close_client(fds, &nfds, i);
		}
		if (!(fds[0].revents & POLLIN))
			continue;
		fd = accept4(fds[0].fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (nfds == 1 + MAX_CLIENTS || send_all(fd, greeting, sizeof(greeting) - 1)) {
			close(fd);
			continue;
		}
		fds[nfds].fd = fd;
		fds[nfds].events = POLLIN;
		fds[nfds++].revents = 0;
	}
}

static int udp_echo(const struct endpoint *e)
{
	struct sockaddr_storage from;
	socklen_t len;
	char buf[2048];
	ssize_t n;
	int fd = bound_socket(e, SOCK_DGRAM, 0);

	if (fd < 0)
		return report("", failure());
	printf("ready\n");
	flush();
	for (;;) {
		len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n < 0)
			continue;
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len) == n)
			printf("replied\n");
		else
			report("", failure());
		flush();
	}
}

static int udp_send(const struct endpoint *src, const struct endpoint *dst)
{
	int fd = bound_socket(src, SOCK_DGRAM, 0);

	if (fd < 0 ||
	    sendto(fd, "datagram\n", 9, 0, (const struct sockaddr *)&dst->addr, dst->len) != 9)
		return report("", failure());
	printf("sent\n");
	close(fd);
	return 0;
}

static uint32_t sum_words(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* The TCP checksum of an IPv4 segment covers a pseudo header. */
static uint16_t tcp4_checksum(const struct endpoint *src, const struct endpoint *dst,
			      const void *segment, size_t len)
{
	uint8_t pseudo[12] = { [9] = IPPROTO_TCP };

	memcpy(pseudo, &((const struct sockaddr_in *)&src->addr)->sin_addr, 4);
	memcpy(pseudo + 4, &((const struct sockaddr_in *)&dst->addr)->sin_addr, 4);
	pseudo[11] = (uint8_t)len;
	return fold(sum_words(segment, len, sum_words(pseudo, sizeof(pseudo), 0)));
}

/* What a listener's SYN-ACK looks like, sent by a raw socket instead: the
 * kernel adds the IP header (from SRC, bound), the TCP header is ours. */
static int raw_synack(const struct endpoint *src, const struct endpoint *dst)
{
	struct tcphdr th = { 0 };
	struct endpoint here = *src, to = *dst;
	int fd = socket(src->family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	int offset = offsetof(struct tcphdr, th_sum), rc;

	if (fd < 0)
		return report("", failure());
	th.th_sport = htons((uint16_t)endpoint_port(src));
	th.th_dport = htons((uint16_t)endpoint_port(dst));
	th.th_seq = htonl(0x12345678);
	th.th_ack = htonl(0x9abcdef0);
	th.th_off = sizeof(th) / 4;
	th.th_flags = TH_SYN | TH_ACK;
	th.th_win = htons(65535);
	if (src->family == AF_INET)
		th.th_sum = tcp4_checksum(src, dst, &th, sizeof(th));
	/* raw sockets take no ports; same offset in sockaddr_in6 */
	((struct sockaddr_in *)&here.addr)->sin_port = 0;
	((struct sockaddr_in *)&to.addr)->sin_port = 0;
	if ((src->family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof(offset))) ||
	    bind(fd, (struct sockaddr *)&here.addr, here.len) ||
	    sendto(fd, &th, sizeof(th), 0, (struct sockaddr *)&to.addr, to.len) !=
		    (ssize_t)sizeof(th)) {
		rc = failure();
		close(fd);
		return report("", rc);
	}
	close(fd);
	printf("sent\n");
	return 0;
}

/* A loose source route through hop: the kernel sends to hop first. IPv4:
 * an LSRR option (the kernel moves the first address out as the first hop
 * and appends the real destination); a new TOS drops the cached route.
 * IPv6: a segment routing header whose segment 0 the kernel fills with the
 * real destination. */
static int source_route(int fd, const struct endpoint *hop)
{
	const void *addr;
	uint8_t opt[40] = { 0 };
	int tos = 0x10;

	if (hop->family == AF_INET) {
		addr = &((const struct sockaddr_in *)&hop->addr)->sin_addr;
		opt[0] = 0x83; /* loose source and record route */
		opt[1] = 7;
		opt[2] = 4;
		memcpy(opt + 3, addr, 4);
		opt[7] = 1; /* no-op, to a multiple of 4 bytes */
		return setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opt, 8) ||
		       setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	}
	addr = &((const struct sockaddr_in6 *)&hop->addr)->sin6_addr;
	opt[1] = 4; /* two segments, in units of 8 bytes */
	opt[2] = 4; /* segment routing */
	opt[3] = 1; /* segments left: segment 1 (hop) is next */
	opt[4] = 1; /* last entry */
	memcpy(opt + 24, addr, 16);
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RTHDR, opt, sizeof(opt));
}

static int reroute(const struct endpoint *e, const struct endpoint *hop)
{
	static const char line[] = "secret\n";
	int listener = bound_socket(e, SOCK_STREAM, 1), client = -1, fd = -1;
	int on = 1, held = 0, rc = 0;

	if (listener < 0 || listen(listener, 1) ||
	    (client = socket(e->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(client, (const struct sockaddr *)&e->addr, e->len) ||
	    (fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) || source_route(fd, hop) ||
	    send_all(fd, line, sizeof(line) - 1) || ioctl(fd, SIOCOUTQNSD, &held))
		rc = failure();
	if (fd >= 0)
		close(fd);
	if (client >= 0)
		close(client);
	if (listener >= 0)
		close(listener);
	if (rc)
		return report("", rc);
	if (held > 0) {
		printf("held %d\n", held);
		return EXIT_TIMEOUT;
	}
	printf("sent\n");
	return 0;
}

/* An outgoing TCP SYN-ACK from port in frame buf? Its destination in dst. */
static int outgoing_synack(const uint8_t *buf, size_t len, unsigned int port, char *dst,
			   size_t dst_len)
{
	const struct tcphdr *th;
	size_t offset;
	int family;

	if (len >= sizeof(struct ip) && buf[0] >> 4 == 4) {
		const struct ip *ip = (const struct ip *)buf;

		if (ip->ip_p != IPPROTO_TCP)
			return 0;
		offset = (size_t)ip->ip_hl * 4;
		family = AF_INET;
		inet_ntop(family, &ip->ip_dst, dst, (socklen_t)dst_len);
	} else if (len >= sizeof(struct ip6_hdr) && buf[0] >> 4 == 6) {
		const struct ip6_hdr *ip6 = (const struct ip6_hdr *)buf;

		if (ip6->ip6_nxt != IPPROTO_TCP)
			return 0;
		offset = sizeof(*ip6);
		family = AF_INET6;
		inet_ntop(family, &ip6->ip6_dst, dst, (socklen_t)dst_len);
	} else {
		return 0;
	}
	if (len < offset + sizeof(*th))
		return 0;
	th = (const struct tcphdr *)(buf + offset);
	return ntohs(th->th_sport) == port &&
	       (th->th_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK);
}

/* Frames as the interfaces send them (cooked: no link header), so a frame
 * the egress hook dropped is never seen. Ends at the marker or WAIT_MS. */
static int capture(unsigned int port, const char *marker)
{
	long long deadline;
	struct sockaddr_ll from = { 0 };
	socklen_t len;
	uint8_t buf[2048];
	char dst[INET6_ADDRSTRLEN];
	ssize_t n;
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	int rc;

	if (fd < 0)
		return report("", failure());
	printf("ready\n");
	flush();
	deadline = now_ms() + CAPTURE_MS;
	for (;;) {
		rc = wait_for(fd, POLLIN, deadline);
		if (rc)
			return report("", rc);
		len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n <= 0 || from.sll_pkttype != PACKET_OUTGOING ||
		    !outgoing_synack(buf, (size_t)n, port, dst, sizeof(dst)))
			continue;
		printf("synack %s\n", dst);
		flush();
		if (strcmp(dst, marker) == 0)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct endpoint a, b;
	const char *mode = argc > 1 ? argv[1] : "";
	unsigned int port;

	if (argc == 4 && strcmp(mode, "listen") == 0 && !parse_endpoint(argv[2], argv[3], &a))
		return listen_tcp(&a);
	if (argc == 4 && strcmp(mode, "udp-echo") == 0 && !parse_endpoint(argv[2], argv[3], &a))
		return udp_echo(&a);
	if (argc == 6 && strcmp(mode, "talk") == 0 && !parse_endpoint(argv[2], argv[3], &a) &&
	    !parse_endpoint(argv[4], argv[5], &b))
		return talk(&a, &b);
	if (argc == 5 && strcmp(mode, "flood") == 0 && !parse_endpoint(argv[2], "0", &a) &&
	    !parse_endpoint(argv[3], argv[4], &b))
		return flood(&a, &b);
	if (argc == 5 && strcmp(mode, "udp-send") == 0 && !parse_endpoint(argv[2], "0", &a) &&
	    !parse_endpoint(argv[3], argv[4], &b))
		return udp_send(&a, &b);
	if (argc == 6 && strcmp(mode, "raw-synack") == 0 && !parse_endpoint(argv[2], argv[3], &a) &&
	    !parse_endpoint(argv[4], argv[5], &b) && a.family == b.family)
		return raw_synack(&a, &b);
	if (argc == 5 && strcmp(mode, "reroute") == 0 && !parse_endpoint(argv[2], argv[3], &a) &&
	    !parse_endpoint(argv[4], "0", &b) && a.family == b.family)
		return reroute(&a, &b);
	if (argc == 4 && strcmp(mode, "capture") == 0 && !parse_port(argv[2], &port))
		return capture(port, argv[3]);
	(void)fputs(usage, stderr);
	return EXIT_USAGE;
}

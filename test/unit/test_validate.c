// SPDX-License-Identifier: MIT
/*
 * Unit tests of validate.c, compiled straight in and built with ASan and
 * UBSan (-fno-sanitize-recover=all) by mk/assurance.mk; run by test/unit.bats.
 *
 *   test_validate --list          the names of the groups
 *   test_validate GROUP           run one group: one "ok"/"not ok" line per
 *                                 check, exit 1 if any check failed
 *   test_validate --asan-canary   read a heap block after free()
 *   test_validate --ubsan-canary  overflow a signed int
 * The canaries prove the sanitizers are really compiled in: each must die.
 *
 * Buffers handed to the functions under test are heap blocks of exactly the
 * size they are told, so ASan sees a write even one byte past the end.
 * Expected messages are the exact texts the loader prints after the
 * offending argument (DESIGN.md section 3).
 */
#include "../../validate.h"
#include "escape_contract.h"
#include "keys_contract.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD_ADDRESS "not an IPv4 or IPv6 address"
#define BAD_PREFIX "prefix length must be plain decimal, 0..32 or 0..128"
#define HOST_BITS "host bits set beyond the prefix length"
#define TOO_LONG "path too long"
#define BAD_CHARACTER "only printable ASCII without spaces is allowed"
#define NOT_CANONICAL "not canonical (no '.', '..', '//' or trailing '/')"
#define COMPONENT_TOO_LONG "path component too long"
#define OUTSIDE "not below /sys/fs/cgroup/"
#define TOO_MANY "too many rules (at most 16384)"
#define BRACKETS "brackets go around an IPv6 CIDR before :PORTS, only there"
#define BAD_PORTS "ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535"
#define BAD_PROTO "protocol must be tcp or udp"
#define OK NULL

#define CG "/sys/fs/cgroup/a"
#define CG_PREFIX_LEN (sizeof("/sys/fs/cgroup/") - 1)

static int failures;
static const char *group;

__attribute__((format(printf, 3, 4))) static void check(int ok, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s: ", ok ? "ok" : "not ok", group);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(" (test_validate.c:%d)", line);
	printf("\n");
	if (!ok)
		failures++;
}

#define CHECK(cond, ...) check(!!(cond), __LINE__, __VA_ARGS__)

static int same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *or_null(const char *text)
{
	return text ? text : "NULL";
}

/* Printable rendering of test input for the report lines. */
static const char *shown(const char *text)
{
	static char buf[4][128];
	static unsigned int next;
	char *out = buf[next++ % 4];
	size_t used = 0, len;

	if (!text)
		return "NULL";
	len = strlen(text);
	for (; *text && used < 60; text++) {
		unsigned char c = (unsigned char)*text;

		if (c >= ' ' && c <= '~' && c != '\\')
			out[used++] = (char)c;
		else
			used += (size_t)snprintf(out + used, 5, "\\x%02x", c);
	}
	if (*text)
		used += (size_t)snprintf(out + used, 32, "...(%zu bytes)", len);
	out[used] = '\0';
	return out;
}

/* "ipv4 10.0.0.0/8", as the loader prints the network meant, then for a
 * rule with ports " tcp 80-90", " udp 53-53" or " tcp+udp 1-65535". */
static void describe(const struct rule *r, char *buf, size_t size)
{
	static const char *const protocols[] = { "", " tcp", " udp", " tcp+udp" };
	const struct cidr *c = &r->network;
	char addr[INET6_ADDRSTRLEN] = "?";
	int used;

	if (c->family == AF_INET || c->family == AF_INET6)
		inet_ntop(c->family, c->addr, addr, sizeof(addr));
	used = snprintf(buf, size, "%s %s/%u",
			c->family == AF_INET  ? "ipv4" :
			c->family == AF_INET6 ? "ipv6" :
						"family?",
			addr, c->prefixlen);
	if (r->protocols > 3)
		snprintf(buf + used, size - (size_t)used, " protocols?%u", r->protocols);
	else if (r->protocols)
		snprintf(buf + used, size - (size_t)used, "%s %llu-%llu", protocols[r->protocols],
			 r->first_port, r->last_port);
	else if (r->first_port || r->last_port)
		snprintf(buf + used, size - (size_t)used, " ports without protocol");
}

/* want: NULL (valid) or the message; expected: "ipv4 10.0.0.0/8" (and the
 * ports, see describe) for a valid rule and for host bits (the network
 * meant), else NULL. */
static void expect_rule(const char *text, const char *want, const char *expected, int line)
{
	struct rule r;
	const char *got;
	char desc[128] = "";
	size_t i;

	memset(&r, 0xa5, sizeof(r));
	got = parse_rule(text, &r);
	if (!expected) {
		check(same(got, want) && r.network.family == 0, line,
		      "parse_rule(\"%s\") = \"%s\" (family %d), want \"%s\" "
		      "(family 0)",
		      shown(text), or_null(got), r.network.family, or_null(want));
		return;
	}
	describe(&r, desc, sizeof(desc));
	check(same(got, want) && strcmp(desc, expected) == 0, line,
	      "parse_rule(\"%s\") = \"%s\" %s, want \"%s\" %s", shown(text), or_null(got), desc,
	      or_null(want), expected);
	/* Nothing stale past the address: the loader copies 4 or 16 bytes. */
	for (i = r.network.family == AF_INET ? 4 : 16; i < sizeof(r.network.addr); i++)
		if (r.network.addr[i])
			break;
	check(i == sizeof(r.network.addr), line,
	      "parse_rule(\"%s\") leaves no byte set past the address", shown(text));
}

#define CIDR(text, want, expected) expect_rule(text, want, expected, __LINE__)
#define BAD_CIDR(text, want) expect_rule(text, want, NULL, __LINE__)
#define RULE CIDR
#define BAD_RULE BAD_CIDR

static void group_cidr_ipv4(void)
{
	CIDR("192.0.2.1", OK, "ipv4 192.0.2.1/32");
	CIDR("192.0.2.1/32", OK, "ipv4 192.0.2.1/32");
	CIDR("192.0.2.0/24", OK, "ipv4 192.0.2.0/24");
	CIDR("10.0.0.0/8", OK, "ipv4 10.0.0.0/8");
	CIDR("0.0.0.0/0", OK, "ipv4 0.0.0.0/0");
	CIDR("0.0.0.0", OK, "ipv4 0.0.0.0/32");
	CIDR("255.255.255.255", OK, "ipv4 255.255.255.255/32");
	CIDR("255.255.255.254/31", OK, "ipv4 255.255.255.254/31");
	CIDR("169.254.169.254", OK, "ipv4 169.254.169.254/32");
	CIDR("128.0.0.0/1", OK, "ipv4 128.0.0.0/1");
	BAD_CIDR("0.0.0.0/33", BAD_PREFIX);
	BAD_CIDR("192.0.2.1/33", BAD_PREFIX);
	BAD_CIDR("192.0.2.1/128", BAD_PREFIX);
}

static void group_cidr_ipv6(void)
{
	CIDR("::/0", OK, "ipv6 ::/0");
	CIDR("::", OK, "ipv6 ::/128");
	CIDR("::1", OK, "ipv6 ::1/128");
	CIDR("::1/128", OK, "ipv6 ::1/128");
	CIDR("2001:db8::/32", OK, "ipv6 2001:db8::/32");
	CIDR("2001:DB8::/32", OK, "ipv6 2001:db8::/32");
	CIDR("2001:0db8:0000:0000:0000:0000:0000:0001", OK, "ipv6 2001:db8::1/128");
	CIDR("fe80::/10", OK, "ipv6 fe80::/10");
	CIDR("fd00:ec2::254", OK, "ipv6 fd00:ec2::254/128");
	CIDR("8000::/1", OK, "ipv6 8000::/1");
	CIDR("1:2:3:4:5:6:7::", OK, "ipv6 1:2:3:4:5:6:7:0/128");
	CIDR("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", OK,
	     "ipv6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	CIDR("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", OK,
	     "ipv6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	/* The longest text inet_pton accepts (45 bytes) still fits. */
	CIDR("ffff:ffff:ffff:ffff:ffff:fffe:255.255.255.255", OK,
	     "ipv6 ffff:ffff:ffff:ffff:ffff:fffe:ffff:ffff/128");
	CIDR("ffff:ffff:ffff:ffff:ffff:fffe:255.255.255.255/128", OK,
	     "ipv6 ffff:ffff:ffff:ffff:ffff:fffe:ffff:ffff/128");
	BAD_CIDR("::/129", BAD_PREFIX);
	BAD_CIDR("::1/200", BAD_PREFIX);
	BAD_CIDR("2001:db8::/4294967328", BAD_PREFIX); /* 2^32 + 32 */
}

static void group_cidr_bad_address(void)
{
	static const char *const bad[] = {
		"",
		"/8",
		"/",
		"1.2.3",
		"1.2.3.4.5",
		"1.2.3.",
		".1.2.3",
		"1..2.3",
		"01.2.3.4", /* leading zero: octal elsewhere */
		"1.2.3.04",
		"010.0.0.0/8",
		"0x1.2.3.4",
		"0x7f000001",
		"2130706433", /* integer shorthand */
		"127.1", /* shorthand */
		"1.2.3.256",
		"256.0.0.0",
		"1.2.3.-1",
		"+1.2.3.4",
		" 1.2.3.4",
		"1.2.3.4 ",
		"1.2.3.4\n",
		"\t1.2.3.4",
		"1.2.3.4 /8",
		"localhost",
		"example.com",
		"fe80::1%eth0",
		"fe80::1%1/64",
		":",
		":::",
		"1::2::3",
		"12345::",
		"g::",
		"::1:",
		":1::",
		"1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7",
		"1:2:3:4:5:6:7:8::",
		"::ffff:1.2.3.04",
		"::ffff:1.2.3",
		"::ffff:256.1.1.1",
		"::1.2.3.4:5",
		/* One byte longer than the longest acceptable address. */
		"0ffff:ffff:ffff:ffff:ffff:fffe:255.255.255.255",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000",
		"\xff",
		"1.2.3.4\xc2\xa0",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD_CIDR(bad[i], BAD_ADDRESS);
}

static void group_cidr_bad_prefix(void)
{
	static const char *const bad[] = {
		"10.0.0.0/",
		"10.0.0.0/08",
		"10.0.0.0/00",
		"10.0.0.0/+8",
		"10.0.0.0/-8",
		"10.0.0.0/ 8",
		"10.0.0.0/8 ",
		"10.0.0.0/8\n",
		"10.0.0.0/33",
		"10.0.0.0/8/8",
		"10.0.0.0//8",
		"10.0.0.0/0x8",
		"10.0.0.0/8.0",
		"10.0.0.0/1e1",
		"10.0.0.0/a",
		"1.2.3.4/032",
		"10.0.0.0/99999999999999999999999999999999",
		"10.0.0.0/18446744073709551616", /* 2^64 */
		"10.0.0.0/18446744073709551624", /* 2^64 + 8 */
		"10.0.0.0/4294967304", /* 2^32 + 8 */
		"::/",
		"::/00",
		"::/0128",
		"::/129",
		"::/-0",
		"::/1 ",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD_CIDR(bad[i], BAD_PREFIX);
	/* A bad address is reported before a bad prefix. */
	BAD_CIDR("10.0.0.256/99", BAD_ADDRESS);
}

static void group_cidr_host_bits(void)
{
	static const uint8_t zero[16];
	char text[64];
	unsigned int prefix, bit, wrong = 0;

	CIDR("10.0.0.1/8", HOST_BITS, "ipv4 10.0.0.0/8");
	CIDR("192.0.2.255/25", HOST_BITS, "ipv4 192.0.2.128/25");
	CIDR("203.0.113.77/24", HOST_BITS, "ipv4 203.0.113.0/24");
	CIDR("255.255.255.255/0", HOST_BITS, "ipv4 0.0.0.0/0");
	CIDR("1.2.3.5/31", HOST_BITS, "ipv4 1.2.3.4/31");
	CIDR("1.2.3.4/31", OK, "ipv4 1.2.3.4/31");
	CIDR("::1/0", HOST_BITS, "ipv6 ::/0");
	CIDR("::1/127", HOST_BITS, "ipv6 ::/127");
	CIDR("2001:db8::1/32", HOST_BITS, "ipv6 2001:db8::/32");
	CIDR("fe80::1/10", HOST_BITS, "ipv6 fe80::/10");
	CIDR("febf::/10", HOST_BITS, "ipv6 fe80::/10");

	/* Every (prefix, bit) pair: the single bit is a host bit iff it is at
	 * or beyond the prefix length. */
	for (prefix = 0; prefix <= 32; prefix++) {
		for (bit = 0; bit < 32; bit++) {
			uint32_t addr = 0x80000000U >> bit;
			const char *got;
			struct rule r;
			struct cidr *c = &r.network;

			snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", addr >> 24, addr >> 16 & 255,
				 addr >> 8 & 255, addr & 255, prefix);
			got = parse_rule(text, &r);
			if (!same(got, bit < prefix ? OK : HOST_BITS) || c->family != AF_INET ||
			    c->prefixlen != prefix || (got && memcmp(c->addr, zero, 16) != 0)) {
				if (!wrong++)
					CHECK(0, "parse_rule(\"%s\") = \"%s\"", text, or_null(got));
			}
		}
	}
	CHECK(wrong == 0,
	      "every IPv4 bit 0..31 at every prefix 0..32: a host bit iff "
	      "bit >= prefix, and then cleared (%u wrong)",
	      wrong);

	wrong = 0;
	for (prefix = 0; prefix <= 128; prefix++) {
		for (bit = 0; bit < 128; bit++) {
			uint8_t addr[16] = { 0 };
			char a[INET6_ADDRSTRLEN];
			const char *got;
			struct rule r;
			struct cidr *c = &r.network;

			addr[bit / 8] = (uint8_t)(0x80U >> bit % 8);
			inet_ntop(AF_INET6, addr, a, sizeof(a));
			snprintf(text, sizeof(text), "%s/%u", a, prefix);
			got = parse_rule(text, &r);
			/* None of these is IPv4-mapped: all stay IPv6. */
			if (!same(got, bit < prefix ? OK : HOST_BITS) || c->family != AF_INET6 ||
			    c->prefixlen != prefix || (got && memcmp(c->addr, zero, 16) != 0)) {
				if (!wrong++)
					CHECK(0, "parse_rule(\"%s\") = \"%s\"", text, or_null(got));
			}
		}
	}
	CHECK(wrong == 0,
	      "every IPv6 bit 0..127 at every prefix 0..128: a host bit iff "
	      "bit >= prefix, and then cleared (%u wrong)",
	      wrong);
}

static void group_cidr_mapped(void)
{
	CIDR("::ffff:192.0.2.1", OK, "ipv4 192.0.2.1/32");
	CIDR("::ffff:192.0.2.1/128", OK, "ipv4 192.0.2.1/32");
	CIDR("::ffff:192.0.2.0/120", OK, "ipv4 192.0.2.0/24");
	CIDR("::ffff:10.0.0.0/104", OK, "ipv4 10.0.0.0/8");
	CIDR("::ffff:0.0.0.0/96", OK, "ipv4 0.0.0.0/0");
	CIDR("::ffff:0:0/96", OK, "ipv4 0.0.0.0/0");
	CIDR("::ffff:c000:201", OK, "ipv4 192.0.2.1/32");
	CIDR("::FFFF:C000:0201", OK, "ipv4 192.0.2.1/32");
	CIDR("0:0:0:0:0:ffff:192.0.2.1", OK, "ipv4 192.0.2.1/32");
	CIDR("0000:0000:0000:0000:0000:ffff:c000:0200/127", OK, "ipv4 192.0.2.0/31");
	/* Host bits are judged in the notation given, before mapping. */
	CIDR("::ffff:10.0.0.1/104", HOST_BITS, "ipv6 ::ffff:10.0.0.0/104");
	CIDR("::ffff:0.0.0.0/95", HOST_BITS, "ipv6 ::fffe:0:0/95");
	CIDR("::ffff:0.0.0.0/80", HOST_BITS, "ipv6 ::/80");
	BAD_CIDR("::ffff:192.0.2.1/129", BAD_PREFIX);
	/* Not IPv4-mapped: these stay IPv6. */
	CIDR("::192.0.2.1", OK, "ipv6 ::192.0.2.1/128");
	CIDR("::fffe:192.0.2.1", OK, "ipv6 ::fffe:c000:201/128");
	CIDR("::1:ffff:192.0.2.1", OK, "ipv6 ::1:ffff:c000:201/128");
	CIDR("64:ff9b::192.0.2.1", OK, "ipv6 64:ff9b::c000:201/128");
	CIDR("::ffff:0:192.0.2.1", OK, "ipv6 ::ffff:0:c000:201/128");
	CIDR("ffff::192.0.2.1", OK, "ipv6 ffff::c000:201/128");
	CIDR("::/96", OK, "ipv6 ::/96");
}

static void group_rule_ports(void)
{
	/* The DESIGN.md section 3 examples. */
	RULE("10.88.0.1:11434/tcp", OK, "ipv4 10.88.0.1/32 tcp 11434-11434");
	RULE("169.254.1.1:53", OK, "ipv4 169.254.1.1/32 tcp+udp 53-53");
	RULE("0.0.0.0/0:25/tcp", OK, "ipv4 0.0.0.0/0 tcp 25-25");
	RULE("[fd00::/8]:443", OK, "ipv6 fd00::/8 tcp+udp 443-443");
	RULE("[2001:db8::1]:8000-8100/udp", OK, "ipv6 2001:db8::1/128 udp 8000-8100");
	/* Bounds, ranges, N-N. */
	RULE("192.0.2.1:1", OK, "ipv4 192.0.2.1/32 tcp+udp 1-1");
	RULE("192.0.2.1:65535", OK, "ipv4 192.0.2.1/32 tcp+udp 65535-65535");
	RULE("192.0.2.1:1-65535", OK, "ipv4 192.0.2.1/32 tcp+udp 1-65535");
	RULE("192.0.2.1:80-80/udp", OK, "ipv4 192.0.2.1/32 udp 80-80");
	RULE("192.0.2.0/24:1024-65535/tcp", OK, "ipv4 192.0.2.0/24 tcp 1024-65535");
	RULE("[::/0]:1-65535/udp", OK, "ipv6 ::/0 udp 1-65535");
	RULE("[::]:53", OK, "ipv6 ::/128 tcp+udp 53-53");
	RULE("[2001:DB8::1/128]:443/tcp", OK, "ipv6 2001:db8::1/128 tcp 443-443");
	/* IPv4-mapped with ports: folded to IPv4, ports kept. */
	RULE("[::ffff:10.0.0.1]:53", OK, "ipv4 10.0.0.1/32 tcp+udp 53-53");
	RULE("[::ffff:10.0.0.0/104]:1-1024/udp", OK, "ipv4 10.0.0.0/8 udp 1-1024");
	RULE("[::ffff:0.0.0.0/96]:25/tcp", OK, "ipv4 0.0.0.0/0 tcp 25-25");
	/* Unbracketed with colons and no '.' before the first: a plain IPv6
	 * CIDR, never ports. */
	RULE("2001:db8::1:80", OK, "ipv6 2001:db8::1:80/128");
	RULE("::ffff:10.0.0.1", OK, "ipv4 10.0.0.1/32");
	/* Host bits are still refused with ports, naming the network. */
	RULE("10.0.0.1/8:80", HOST_BITS, "ipv4 10.0.0.0/8 tcp+udp 80-80");
	RULE("[2001:db8::1/32]:443/tcp", HOST_BITS, "ipv6 2001:db8::/32 tcp 443-443");
	RULE("[::ffff:10.0.0.1/120]:80", HOST_BITS, "ipv6 ::ffff:10.0.0.0/120 tcp+udp 80-80");
}

static void group_rule_bad_ports(void)
{
	static const char *const bad[] = {
		"192.0.2.1:0",
		"192.0.2.1:00",
		"192.0.2.1:0-80",
		"[2001:db8::1]:0",
		"192.0.2.1:65536",
		"192.0.2.1:1-65536",
		"192.0.2.1:18446744073709551696", /* 2^64 + 80 */
		"192.0.2.1:4294967376", /* 2^32 + 80 */
		"192.0.2.1:-1",
		"192.0.2.1:+80",
		"192.0.2.1:80-",
		"192.0.2.1:-80",
		"192.0.2.1:-",
		"192.0.2.1:90-80",
		"192.0.2.1:65535-1",
		"192.0.2.1:080",
		"192.0.2.1:80-090",
		"192.0.2.1:8 0",
		"192.0.2.1: 80",
		"192.0.2.1:80 ",
		"192.0.2.1:80\n",
		"192.0.2.1:80 - 90",
		"192.0.2.1:80--90",
		"192.0.2.1:1-2-3",
		"192.0.2.1:0x50",
		"192.0.2.1:1e2",
		"192.0.2.1:http",
		"192.0.2.1:80,443",
		"192.0.2.1:",
		"192.0.2.1:/tcp",
		"1.2.3.4::80",
		"1.2.3.4:80:90",
		"1.2.3.4::",
		"[::1]::80",
		"[::1]:80]",
		"[2001:db8::1]:",
		"[2001:db8::1]:-/udp",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD_RULE(bad[i], BAD_PORTS);
}

static void group_rule_bad_protocol(void)
{
	static const char *const bad[] = {
		"192.0.2.1:80/TCP",  "192.0.2.1:80/Udp",     "192.0.2.1:80/sctp",
		"192.0.2.1:80/icmp", "192.0.2.1:80/6",	     "192.0.2.1:80/",
		"[::1]:80/tcp/udp",  "192.0.2.1:80/tcp,udp", "192.0.2.1:80/tcp ",
		"192.0.2.1:80/ tcp", "[::1]:80/udp6",	     "192.0.2.1:80//tcp",
		"192.0.2.1:80/tc",   "192.0.2.1:80/tcpp",    "192.0.2.1:80/tcp-90",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD_RULE(bad[i], BAD_PROTO);
}

static void group_rule_brackets(void)
{
	static const char *const brackets[] = {
		"[::1]",
		"[::1]/128",
		"[2001:db8::]/32",
		"[2001:db8::1]/tcp",
		"[10.0.0.1]:80",
		"[10.0.0.0/8]:80/tcp",
		"[1.2.3.4]",
		"[2001:db8::1]80",
		"[::1",
		"[]:80",
		"[]",
		"[",
		"[::ffff:10.0.0.1]/120:80",
	};
	size_t i;

	for (i = 0; i < sizeof(brackets) / sizeof(brackets[0]); i++)
		BAD_RULE(brackets[i], BRACKETS);
	/* Brackets inside or doubled: the address inside is not one. */
	BAD_RULE("[[::1]]:80", BAD_ADDRESS);
	BAD_RULE("[fe80::1%eth0]:80", BAD_ADDRESS);
	BAD_RULE("::1]:80", BAD_ADDRESS);
	BAD_RULE("1.2.3.4:[80]", BAD_PORTS);
	/* Without brackets an IPv6 value with a port is a plain CIDR. */
	BAD_RULE("2001:db8::1:80/tcp", BAD_PREFIX);
	BAD_RULE(":80", BAD_ADDRESS);
	BAD_RULE("tcp", BAD_ADDRESS);
	BAD_RULE("localhost:80", BAD_ADDRESS);
}

static void group_rule_order(void)
{
	char text[200];

	/* address, prefix length, ports, protocol, host bits */
	BAD_RULE("010.0.0.1/40:0/sctp", BAD_ADDRESS);
	BAD_RULE("[::1/129]:0/sctp", BAD_PREFIX);
	BAD_RULE("10.0.0.0/33:0", BAD_PREFIX);
	BAD_RULE("10.0.0.1/8:0/sctp", BAD_PORTS);
	BAD_RULE("10.0.0.1/8:80/sctp", BAD_PROTO);
	RULE("10.0.0.1/8:80/tcp", HOST_BITS, "ipv4 10.0.0.0/8 tcp 80-80");
	/* A valid rule followed by a long tail, or a long value, is never
	 * taken: the longest valid rule is far shorter than the copy that
	 * parse_rule cuts. */
	memset(text, 'x', sizeof(text));
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "192.0.2.1:80", 12);
	BAD_RULE(text, BAD_PORTS);
	memcpy(text, "[::1]:80/tcp", 12);
	BAD_RULE(text, BAD_PROTO);
	memset(text, '0', sizeof(text) - 1);
	memcpy(text, "192.0.2.1:1-", 12);
	BAD_RULE(text, BAD_PORTS);
	text[198] = '1';
	BAD_RULE(text, BAD_PORTS);
	memcpy(text, "[::1]:1-65535/udp", 18);
	RULE(text, OK, "ipv6 ::1/128 udp 1-65535");
	/* The longest valid rules fit whole. */
	RULE("[0000:0000:0000:0000:0000:0000:255.255.255.255/128]:65535-65535/udp", OK,
	     "ipv6 ::255.255.255.255/128 udp 65535-65535");
	RULE("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128]:65535-65535/tcp", OK,
	     "ipv6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 tcp 65535-65535");
}

static void expect_path(const char *path, const char *want, int line)
{
	const char *got = check_cgroup_path(path);

	check(same(got, want), line, "check_cgroup_path(\"%s\") = \"%s\"", shown(path),
	      or_null(got));
}

#define PATH(path, want) expect_path(path, want, __LINE__)

static void group_path_syntax(void)
{
	PATH("/sys/fs/cgroup/a", OK);
	PATH("/sys/fs/cgroup/unified/jail", OK);
	PATH("/sys/fs/cgroup/user.slice/user-1000.slice/libpod-0123abcd.scope", OK);
	PATH("/sys/fs/cgroup/.hidden", OK);
	PATH("/sys/fs/cgroup/...", OK);
	PATH("/sys/fs/cgroup/a..b/.c./c.", OK);
	PATH("/sys/fs/cgroup/~!@#$%^&*()_+={}[]|:;'<>,?\"\\", OK);

	/* Not absolute: not below /sys/fs/cgroup/ either. */
	PATH("", OUTSIDE);
	PATH("sys/fs/cgroup/a", OUTSIDE);
	PATH("./sys/fs/cgroup/a", OUTSIDE);
	PATH("~/a", OUTSIDE);
	PATH(" /sys/fs/cgroup/a", BAD_CHARACTER);

	PATH("/sys/fs/cgroup/", NOT_CANONICAL);
	PATH("/sys/fs/cgroup/a/", NOT_CANONICAL);
	PATH("/sys/fs/cgroup//a", NOT_CANONICAL);
	PATH("//sys/fs/cgroup/a", NOT_CANONICAL);
	PATH("/sys/fs/cgroup/./a", NOT_CANONICAL);
	PATH("/sys/fs/cgroup/../a", NOT_CANONICAL);
	PATH("/sys/fs/cgroup/a/.", NOT_CANONICAL);
	PATH("/sys/fs/cgroup/a/..", NOT_CANONICAL);
	PATH("/sys/fs/cgroup/a/../../../../etc", NOT_CANONICAL);
	PATH("/sys/fs/../fs/cgroup/a", NOT_CANONICAL);
	PATH("/", NOT_CANONICAL);

	PATH("/sys/fs/cgroup", OUTSIDE);
	PATH("/sys/fs/cgroupx/a", OUTSIDE);
	PATH("/sys/fs/cgroup2/a", OUTSIDE);
	PATH("/SYS/fs/cgroup/a", OUTSIDE);
	PATH("/etc/passwd", OUTSIDE);
	PATH("/proc/self/root/sys/fs/cgroup/a", OUTSIDE);

	PATH("/sys/fs/cgroup/a b", BAD_CHARACTER);
	PATH("/sys/fs/cgroup/a\tb", BAD_CHARACTER);
	PATH("/sys/fs/cgroup/a\nb", BAD_CHARACTER);
	PATH("/sys/fs/cgroup/a\x01", BAD_CHARACTER);
	PATH("/sys/fs/cgroup/a\x7f", BAD_CHARACTER);
	PATH("/sys/fs/cgroup/\xc3\xa9", BAD_CHARACTER);
	PATH("/sys/fs/cgroup/a\x80", BAD_CHARACTER);
	PATH("/sys/fs/cgroup/a\xff", BAD_CHARACTER);
	PATH("/tmp/\x1b[2J", BAD_CHARACTER);
}

/* A path below /sys/fs/cgroup/ of exactly len bytes whose components are
 * at most component_max long (the last one takes the rest), made of fill
 * (or letters if fill is 0). */
static char *long_path(size_t len, size_t component_max, char fill)
{
	char *path = malloc(len + 1);
	size_t used = CG_PREFIX_LEN, run = 0;

	if (!path)
		abort();
	memcpy(path, "/sys/fs/cgroup/", used);
	while (used < len) {
		/* Never end on '/', never put two in a row. */
		if (run == component_max && used + 1 < len) {
			path[used++] = '/';
			run = 0;
			continue;
		}
		path[used] = fill;
		if (!fill)
			path[used] = "abcdefghijklmnopqrstuvwxyz"[used % 26];
		used++;
		run++;
	}
	path[len] = '\0';
	return path;
}

static void group_path_length(void)
{
	size_t len;
	char *path;

	path = long_path(PATH_MAX - 1, 200, 0);
	CHECK(strlen(path) == PATH_MAX - 1, "built a %d-byte path", PATH_MAX - 1);
	PATH(path, OK);
	free(path);

	path = long_path(PATH_MAX, 200, 0);
	CHECK(strlen(path) == PATH_MAX, "built a %d-byte path", PATH_MAX);
	PATH(path, TOO_LONG);
	free(path);

	path = long_path((size_t)PATH_MAX * 3, 200, 0);
	PATH(path, TOO_LONG);
	free(path);

	/* Components: NAME_MAX bytes pass, NAME_MAX + 1 do not, at the end
	 * or in the middle. */
	path = long_path(CG_PREFIX_LEN + NAME_MAX, NAME_MAX, 0);
	PATH(path, OK);
	free(path);
	path = long_path(CG_PREFIX_LEN + NAME_MAX + 1, NAME_MAX + 1, 0);
	PATH(path, COMPONENT_TOO_LONG);
	free(path);
	len = CG_PREFIX_LEN + NAME_MAX + 1 + 2;
	path = long_path(len, NAME_MAX + 1, 0);
	CHECK(path[len - 2] == '/', "a middle component of %d bytes", NAME_MAX + 1);
	PATH(path, COMPONENT_TOO_LONG);
	free(path);
	len = CG_PREFIX_LEN + NAME_MAX + 2;
	path = long_path(len, NAME_MAX, 0);
	CHECK(path[len - 2] == '/', "a middle component of %d bytes", NAME_MAX);
	PATH(path, OK);
	free(path);
}

static void expect_decimal(const char *text, unsigned long long max, int want,
			   unsigned long long value, int line)
{
	unsigned long long got_value = 12345;
	int got = parse_decimal(text, max, &got_value);

	check(got == want && (want != 0 || got_value == value), line,
	      "parse_decimal(\"%s\", max %llu) = %d, %llu", shown(text), max, got, got_value);
}

#define DECIMAL(text, max, want, value) expect_decimal(text, max, want, value, __LINE__)
#define UID_MAX_ ((unsigned long long)(uid_t)-2) /* (uid_t)-1: "no uid" */

static void group_decimal(void)
{
	/* SUDO_UID, as the loader reads it. */
	DECIMAL("0", UID_MAX_, 0, 0);
	DECIMAL("1", UID_MAX_, 0, 1);
	DECIMAL("1000", UID_MAX_, 0, 1000);
	DECIMAL("65534", UID_MAX_, 0, 65534);
	DECIMAL("4294967294", UID_MAX_, 0, 4294967294ULL);
	DECIMAL("4294967295", UID_MAX_, -1, 0);
	DECIMAL("4294967296", UID_MAX_, -1, 0);
	DECIMAL("42949672940", UID_MAX_, -1, 0);
	DECIMAL("18446744073709551615", UID_MAX_, -1, 0);
	DECIMAL("18446744073709551616", UID_MAX_, -1, 0);
	DECIMAL("99999999999999999999999999999999999999", UID_MAX_, -1, 0);
	DECIMAL("", UID_MAX_, -1, 0);
	DECIMAL("00", UID_MAX_, -1, 0);
	DECIMAL("01000", UID_MAX_, -1, 0);
	DECIMAL("-1", UID_MAX_, -1, 0);
	DECIMAL("+1000", UID_MAX_, -1, 0);
	DECIMAL(" 1000", UID_MAX_, -1, 0);
	DECIMAL("1000 ", UID_MAX_, -1, 0);
	DECIMAL("1000\n", UID_MAX_, -1, 0);
	DECIMAL("0x3e8", UID_MAX_, -1, 0);
	DECIMAL("1e3", UID_MAX_, -1, 0);
	DECIMAL("10a", UID_MAX_, -1, 0);
	DECIMAL("root", UID_MAX_, -1, 0);
	/* Prefix lengths. */
	DECIMAL("32", 32, 0, 32);
	DECIMAL("33", 32, -1, 0);
	DECIMAL("128", 128, 0, 128);
	DECIMAL("129", 128, -1, 0);
	DECIMAL("0", 0, 0, 0);
	DECIMAL("1", 0, -1, 0);
	/* The recipe holds for any max, up to the largest: no wrap-around. */
	DECIMAL("18446744073709551615", ULLONG_MAX, 0, ULLONG_MAX);
	DECIMAL("18446744073709551616", ULLONG_MAX, -1, 0);
	DECIMAL("18446744073709551620", ULLONG_MAX, -1, 0);
	DECIMAL("36893488147419103232", ULLONG_MAX, -1, 0); /* 2^65 */
	DECIMAL("18446744073709551615", ULLONG_MAX - 1, -1, 0);
	DECIMAL("1844674407370955161", ULLONG_MAX / 10, 0, ULLONG_MAX / 10);
	DECIMAL("18446744073709551610", ULLONG_MAX / 10, -1, 0);
}

/* One request for every test (its keys and values take tens of MB): in
 * static storage, as the loader has it. */
static struct request req;

static int run_args(int argc, char *const argv[], struct request *r, struct parse_error *err)
{
	memset(r, 0xa5, offsetof(struct request, keys));
	memset(err, 0xa5, sizeof(*err));
	err->message[sizeof(err->message) - 1] = '\0';
	return parse_args(argc, argv, r, err);
}

/* The message the loader prints after "jail-ai-ebpf-loader: ": "OPTION
 * VALUE: why", "OPTION: why" or "VALUE: why", or just "why". */
static void message_of(char *buf, size_t size, const char *why, const char *option,
		       const char *value)
{
	snprintf(buf, size, "%s%s%s%s%s", option ? option : "", option && value ? " " : "",
		 value ? value : "", option || value ? ": " : "", why ? why : "");
}

/* argv as a NULL-terminated list after the expectations; argv[0] added.
 * A success (want 0) must also keep the keys contract. */
static void expect_args(int want, const char *why, const char *option, const char *value, int line,
			...)
{
	char *argv[40] = { "jail-ai-ebpf-loader" };
	char words[1024] = "", message[600];
	struct parse_error err;
	const char *broken;
	int argc = 1, got;
	va_list ap;

	va_start(ap, line);
	while (argc < 39 && (argv[argc] = va_arg(ap, char *)) != NULL) {
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s",
			 argc > 1 ? " " : "", shown(argv[argc]));
		argc++;
	}
	va_end(ap);
	got = run_args(argc, argv, &req, &err);
	if (want == 0) {
		broken = got == 0 ? keys_contract(argc, argv, &req) : NULL;
		check(got == 0 && req.action == ACT_LOAD && req.cgroup && !broken, line,
		      "parse_args(%s) = %d, want 0%s%s", words, got, broken ? ": " : "",
		      broken ? broken : "");
		return;
	}
	message_of(message, sizeof(message), why, option, value);
	check(got == want && err.exit_code == want && strcmp(err.message, message) == 0, line,
	      "parse_args(%s) = %d \"%s\", want %d \"%s\"", words, got, shown(err.message), want,
	      message);
}

#define ARGS(want, why, option, value, ...) \
	expect_args(want, why, option, value, __LINE__, __VA_ARGS__, (char *)0)

static void group_args_grammar(void)
{
	char *none[] = { "jail-ai-ebpf-loader", NULL };
	char *help[] = { "x", "--help", NULL };
	char *version[] = { "x", "--version", NULL };
	char *load[] = { "x", "--cgroup", CG, "--deny", "10.0.0.0/8", NULL };
	struct parse_error err;
	int got;

	got = run_args(1, none, &req, &err);
	CHECK(got == 64 && strcmp(err.message, "no arguments (try --help)") == 0,
	      "no arguments: %d \"%s\"", got, shown(err.message));
	got = run_args(0, none, &req, &err);
	CHECK(got == 64, "argc 0: %d", got);
	ARGS(0, OK, NULL, NULL, "--cgroup", CG, "--deny", "192.0.2.1");
	ARGS(0, OK, NULL, NULL, "--deny", "192.0.2.1", "--cgroup", CG);
	ARGS(0, OK, NULL, NULL, "--deny", "::1", "--cgroup", CG, "--deny", "::1");
	ARGS(0, OK, NULL, NULL, "--allow", "192.0.2.1:53", "--cgroup", CG, "--deny",
	     "192.0.2.0/24");
	ARGS(0, OK, NULL, NULL, "--cgroup", CG, "--deny", "10.88.0.1", "--deny", "192.168.1.23",
	     "--deny", "169.254.0.0/16", "--deny", "fe80::/10", "--deny", "fd00:ec2::254",
	     "--allow", "10.88.0.1:11434/tcp", "--allow", "169.254.1.1:53");
	CHECK(run_args(2, help, &req, &err) == 0 && req.action == ACT_HELP,
	      "--help alone: ACT_HELP");
	CHECK(run_args(2, version, &req, &err) == 0 && req.action == ACT_VERSION,
	      "--version alone: ACT_VERSION");
	CHECK(run_args(5, load, &req, &err) == 0 && req.action == ACT_LOAD && req.cgroup == load[2],
	      "a load request: ACT_LOAD, cgroup points into argv");

	ARGS(64, "must stand alone", "--help", NULL, "--help", "--version");
	ARGS(64, "must stand alone", "--version", NULL, "--version", "--help");
	ARGS(64, "must stand alone", "--help", NULL, "--cgroup", CG, "--help");
	ARGS(64, "must stand alone", "--version", NULL, "--version", "--cgroup", CG, "--deny",
	     "::1");
	ARGS(64, "must stand alone", "--help", NULL, "--help", "--help");

	ARGS(64, "unknown option", NULL, "--cgroup=" CG, "--cgroup=" CG, "--deny", "::1");
	ARGS(64, "unknown option", NULL, "--deny=::1", "--cgroup", CG, "--deny=::1");
	ARGS(64, "unknown option", NULL, "--allow=::1", "--cgroup", CG, "--deny", "::1",
	     "--allow=::1");
	ARGS(64, "unknown option", NULL, "--cg", "--cg", CG, "--deny", "::1");
	ARGS(64, "unknown option", NULL, "--Cgroup", "--Cgroup", CG);
	ARGS(64, "unknown option", NULL, "--Allow", "--cgroup", CG, "--deny", "::1", "--Allow",
	     "::2");
	ARGS(64, "unknown option", NULL, "--allo", "--allo", "::2");
	ARGS(64, "unknown option", NULL, "--allows", "--allows", "::2");
	ARGS(64, "unknown option", NULL, "-a", "-a", "::2");
	ARGS(64, "unknown option", NULL, "-c", "-c", CG);
	ARGS(64, "unknown option", NULL, "--", "--", "--cgroup", CG);
	ARGS(64, "unknown option", NULL, "-", "-");
	ARGS(64, "unknown option", NULL, "--he", "--he");
	ARGS(64, "unknown option", NULL, "--help=1", "--help=1");
	ARGS(64, "unexpected argument", NULL, CG, CG);
	ARGS(64, "unexpected argument", NULL, "''", ""); /* shown as '' */
	ARGS(64, "unexpected argument", NULL, "x", "--cgroup", CG, "--deny", "::1", "x");
	ARGS(64, "missing value", "--cgroup", NULL, "--cgroup");
	ARGS(64, "missing value", "--deny", NULL, "--deny");
	ARGS(64, "missing value", "--deny", NULL, "--cgroup", CG, "--deny");
	ARGS(64, "missing value", "--allow", NULL, "--cgroup", CG, "--deny", "::1", "--allow");
	ARGS(64, "given more than once", "--cgroup", NULL, "--cgroup", CG, "--cgroup", CG, "--deny",
	     "::1");
	ARGS(64, "required", "--cgroup", NULL, "--deny", "::1");
	ARGS(64, "required", "--cgroup", NULL, "--allow", "::1");
	ARGS(64, "required at least once", "--deny", NULL, "--cgroup", CG);
	/* --allow alone: the rules need a --deny. */
	ARGS(64, "required at least once", "--deny", NULL, "--cgroup", CG, "--allow", "192.0.2.1");
	ARGS(64, "required at least once", "--deny", NULL, "--cgroup", CG, "--allow", "0.0.0.0/0",
	     "--allow", "::/0");

	/* Each option takes exactly the next entry, whatever it looks like. */
	ARGS(65, OUTSIDE, "--cgroup", "--deny", "--cgroup", "--deny", "::1");
	ARGS(65, BAD_ADDRESS, "--deny", "--cgroup", "--deny", "--cgroup", CG);
	ARGS(65, BAD_ADDRESS, "--deny", "--help", "--deny", "--help");
	ARGS(65, BAD_ADDRESS, "--allow", "--deny", "--allow", "--deny", "::1");
	/* The first error in argv order wins. */
	ARGS(65, BAD_ADDRESS, "--deny", "bad", "--deny", "bad", "--bogus");
	ARGS(64, "unknown option", NULL, "--bogus", "--bogus", "--deny", "bad");
	ARGS(65, OUTSIDE, "--cgroup", "/tmp/x", "--cgroup", "/tmp/x", "--deny", "bad");
	ARGS(64, "given more than once", "--cgroup", NULL, "--cgroup", CG, "--cgroup", "relative");
	ARGS(65, BAD_PORTS, "--allow", "192.0.2.1:0", "--cgroup", CG, "--allow", "192.0.2.1:0");

	/* Data errors name the option and the value (escaped, '' if empty). */
	ARGS(65, BAD_PREFIX, "--deny", "10.0.0.0/08", "--cgroup", CG, "--deny", "10.0.0.0/08");
	ARGS(65, BAD_ADDRESS, "--allow", "''", "--cgroup", CG, "--deny", "::1", "--allow", "");
	ARGS(65, BAD_PORTS, "--deny", "1.2.3.4:8\\x200", "--cgroup", CG, "--deny", "1.2.3.4:8 0");
	ARGS(65, BRACKETS, "--allow", "[::1]", "--cgroup", CG, "--deny", "::1", "--allow", "[::1]");
	ARGS(65, BAD_PROTO, "--deny", "[::1]:80/TCP", "--cgroup", CG, "--deny", "[::1]:80/TCP");
	ARGS(65, NOT_CANONICAL, "--cgroup", CG "/", "--cgroup", CG "/", "--deny", "::1");
	ARGS(65, BAD_CHARACTER, "--cgroup", CG "\\x20b", "--cgroup", CG " b", "--deny", "::1");

	/* Host bits name the network meant, in the notation given. */
	ARGS(65, HOST_BITS "; the network is 192.0.2.0/24", "--deny", "192.0.2.9/24", "--cgroup",
	     CG, "--deny", "192.0.2.9/24");
	ARGS(65, HOST_BITS "; the network is 10.0.0.0/8", "--allow", "10.0.0.1/8:80", "--cgroup",
	     CG, "--deny", "::1", "--allow", "10.0.0.1/8:80");
	ARGS(65, HOST_BITS "; the network is ::ffff:10.0.0.0/120", "--deny",
	     "[::ffff:10.0.0.1/120]:80", "--cgroup", CG, "--deny", "[::ffff:10.0.0.1/120]:80");
	ARGS(65, HOST_BITS "; the network is 2001:db8::/32", "--deny", "[2001:db8::1/32]:443/tcp",
	     "--cgroup", CG, "--deny", "[2001:db8::1/32]:443/tcp");
}

/* The index in the front (allow) or back (deny) segment of the key. */
static int find_key(const struct request *r, int deny, int family, unsigned int kind,
		    unsigned int port, const char *addr, unsigned int prefixlen, uint32_t value)
{
	size_t from = deny ? KEYS_ALL - r->n_last : 0, n = deny ? r->n_last : r->n_first, i;
	uint8_t packed[16] = { 0 };

	if (inet_pton(family == 4 ? AF_INET : AF_INET6, addr, packed) != 1)
		return 0;
	for (i = from; i < from + n; i++)
		if (r->keys[i].family == (family == 4 ? AF_INET : AF_INET6) &&
		    r->keys[i].kind == kind && r->keys[i].port == htons((uint16_t)port) &&
		    r->keys[i].prefixlen == 32 + prefixlen &&
		    memcmp(r->keys[i].addr, packed, 16) == 0 && r->values[i] == value)
			return 1;
	return 0;
}

#define KEY(deny, family, kind, port, addr, len, value)                                          \
	CHECK(find_key(&req, (deny), (family), (kind), (port), (addr), (len), (value)),          \
	      "%s key: IPv%d kind 0x%02x port %u %s/%u value %u",                                \
	      (deny) ? "back (deny)" : "front (allow)", (family), (kind), (port), (addr), (len), \
	      (value))

static void group_args_store(void)
{
	char *argv[] = { "x",
			 "--deny",
			 "192.0.2.0/24",
			 "--deny",
			 "2001:db8::/32",
			 "--cgroup",
			 CG,
			 "--deny",
			 "::ffff:198.51.100.7",
			 "--deny",
			 "192.0.2.0/24", /* duplicates are fine */
			 "--allow",
			 "192.0.2.1:53",
			 "--allow",
			 "[2001:db8::1]:8000-8100/udp",
			 "--deny",
			 "[::ffff:10.0.0.0/104]:1-3/tcp",
			 NULL };
	struct parse_error err;
	const char *broken;
	int got = run_args(17, argv, &req, &err);

	CHECK(got == 0, "parse_args = %d", got);
	CHECK(req.n_v4 == 5 && req.n_v6 == 2,
	      "5 IPv4 (two were ::ffff:) and 2 IPv6 rules: %zu, %zu", req.n_v4, req.n_v6);
	CHECK(req.n_deny == 5 && req.n_allow == 2, "5 deny and 2 allow rules: %zu, %zu", req.n_deny,
	      req.n_allow);
	broken = keys_contract(17, argv, &req);
	CHECK(!broken, "keys contract: %s", broken ? broken : "kept");
	/* A few keys spelled out: a deny without ports has KIND_DENY and
	 * KIND_ANY_PORT, rank 24 << 2 | RANK_DENY; an allow on port 53 one TCP
	 * and one UDP block, rank 32 << 2 | RANK_PORTS; 8000-8100 is 8000-8063 (level 6),
	 * 8064-8095 (5), 8096-8099 (2), 8100 (0); 1-3 is 1 (0) and 2-3 (1). */
	KEY(1, 4, KIND_DENY, 0, "192.0.2.0", 24, 24 << RANK_PREFIX_SHIFT | RANK_DENY);
	KEY(1, 4, KIND_ANY_PORT, 0, "192.0.2.0", 24, 24 << RANK_PREFIX_SHIFT | RANK_DENY);
	KEY(1, 4, KIND_ANY_PORT, 0, "198.51.100.7", 32, 32 << RANK_PREFIX_SHIFT | RANK_DENY);
	KEY(1, 6, KIND_ANY_PORT, 0, "2001:db8::", 32, 32 << RANK_PREFIX_SHIFT | RANK_DENY);
	KEY(0, 4, KIND_TCP, 53, "192.0.2.1", 32, 32 << RANK_PREFIX_SHIFT | RANK_PORTS);
	KEY(0, 4, KIND_UDP, 53, "192.0.2.1", 32, 32 << RANK_PREFIX_SHIFT | RANK_PORTS);
	KEY(0, 6, KIND_UDP | 6, 8000, "2001:db8::1", 128, 128 << RANK_PREFIX_SHIFT | RANK_PORTS);
	KEY(0, 6, KIND_UDP | 5, 8064, "2001:db8::1", 128, 128 << RANK_PREFIX_SHIFT | RANK_PORTS);
	KEY(0, 6, KIND_UDP | 2, 8096, "2001:db8::1", 128, 128 << RANK_PREFIX_SHIFT | RANK_PORTS);
	KEY(0, 6, KIND_UDP | 0, 8100, "2001:db8::1", 128, 128 << RANK_PREFIX_SHIFT | RANK_PORTS);
	KEY(1, 4, KIND_DENY, 0, "10.0.0.0", 8, 8 << RANK_PREFIX_SHIFT | RANK_PORTS | RANK_DENY);
	KEY(1, 4, KIND_TCP | 0, 1, "10.0.0.0", 8, 8 << RANK_PREFIX_SHIFT | RANK_PORTS | RANK_DENY);
	KEY(1, 4, KIND_TCP | 1, 2, "10.0.0.0", 8, 8 << RANK_PREFIX_SHIFT | RANK_PORTS | RANK_DENY);
	CHECK(req.n_first == 2 + 4 && req.n_last == 2 * 4 + 3,
	      "6 front keys (allow), 11 back (deny): %zu, %zu", req.n_first, req.n_last);
	CHECK(req.cgroup == argv[6], "cgroup points at its argv entry");

	/* The contract can fail: a rank, a port, a family, a segment. */
	req.values[0] ^= 1;
	CHECK(keys_contract(17, argv, &req), "a deny bit flipped is caught");
	req.values[0] ^= 1;
	req.keys[KEYS_ALL - 1].port ^= htons(1);
	CHECK(keys_contract(17, argv, &req), "a block moved is caught");
	req.keys[KEYS_ALL - 1].port ^= htons(1);
	req.keys[req.n_first - 1].family ^= AF_INET ^ AF_INET6;
	CHECK(keys_contract(17, argv, &req), "a wrong family is caught");
	req.keys[req.n_first - 1].family ^= AF_INET ^ AF_INET6;
	req.n_last--;
	CHECK(keys_contract(17, argv, &req), "a deny key missing is caught");
	req.n_last++;
	CHECK(!keys_contract(17, argv, &req), "restored, it holds again");
}

/* argv of --cgroup CG and n rules: IPv4 and IPv6 alternating (only IPv6
 * if v6_only); with mixed, every third an --allow and rules with ports
 * and ranges among them. */
static char **many_rules(size_t n, int v6_only, int mixed, int *argc)
{
	char **argv = calloc(2 * n + 4, sizeof(*argv));
	size_t i;

	if (!argv)
		abort();
	argv[0] = "x";
	argv[1] = "--cgroup";
	argv[2] = CG;
	for (i = 0; i < n; i++) {
		char *value = malloc(64);

		if (!value)
			abort();
		if ((i % 2 || v6_only) && mixed && i % 4 == 1)
			snprintf(value, 64, "[2001:db8::%zx]:%zu-65535/udp", i, i % 65535 + 1);
		else if (i % 2 || v6_only)
			snprintf(value, 64, "2001:db8::%zx", i);
		else if (mixed && i % 4 == 2)
			snprintf(value, 64, "10.%zu.%zu.%zu:%zu", i >> 16 & 255, i >> 8 & 255,
				 i & 255, i % 65535 + 1);
		else
			snprintf(value, 64, "10.%zu.%zu.%zu", i >> 16 & 255, i >> 8 & 255, i & 255);
		argv[3 + 2 * i] = mixed && i % 3 == 2 ? "--allow" : "--deny";
		argv[4 + 2 * i] = value;
	}
	*argc = (int)(2 * n + 3);
	return argv;
}

static void free_rules(char **argv, int argc)
{
	int i;

	for (i = 4; i < argc; i += 2)
		free(argv[i]);
	free(argv);
}

static void group_args_limits(void)
{
	char message[600];
	struct parse_error err;
	const char *broken;
	char **argv;
	int argc, got, mixed;

	for (mixed = 0; mixed < 2; mixed++) {
		argv = many_rules(RULES_MAX, 0, mixed, &argc);
		got = run_args(argc, argv, &req, &err);
		broken = got == 0 ? keys_contract(argc, argv, &req) : NULL;
		CHECK(got == 0 && req.n_v4 == RULES_MAX / 2 && req.n_v6 == RULES_MAX / 2 && !broken,
		      "%d %s rules accepted: %d, %zu + %zu, keys: %s", RULES_MAX,
		      mixed ? "mixed" : "deny", got, req.n_v4, req.n_v6, broken ? broken : "kept");
		CHECK(mixed ? req.n_allow == RULES_MAX / 3 :
			      req.n_allow == 0 && req.n_deny == RULES_MAX,
		      "%zu deny, %zu allow", req.n_deny, req.n_allow);
		free_rules(argv, argc);

		argv = many_rules(RULES_MAX + 1, 0, mixed, &argc);
		got = run_args(argc, argv, &req, &err);
		snprintf(message, sizeof(message), "%s %s: " TOO_MANY, argv[argc - 2],
			 argv[argc - 1]);
		CHECK(got == 65 && strcmp(err.message, message) == 0,
		      "%d rules refused: %d \"%s\", naming the rule too many", RULES_MAX + 1, got,
		      shown(err.message));
		CHECK(req.n_v4 + req.n_v6 <= RULES_MAX && req.n_first + req.n_last <= KEYS_ALL,
		      "never more than RULES_MAX rules stored (%zu)", req.n_v4 + req.n_v6);
		free_rules(argv, argc);
	}

	/* All of one family. */
	argv = many_rules(RULES_MAX, 1, 1, &argc);
	got = run_args(argc, argv, &req, &err);
	broken = got == 0 ? keys_contract(argc, argv, &req) : NULL;
	CHECK(got == 0 && req.n_v6 == RULES_MAX && req.n_v4 == 0 && !broken,
	      "%d IPv6 rules: %d, keys: %s", RULES_MAX, got, broken ? broken : "kept");
	free_rules(argv, argc);
	argv = many_rules(RULES_MAX + 1, 1, 0, &argc);
	got = run_args(argc, argv, &req, &err);
	CHECK(got == 65 && strstr(err.message, TOO_MANY) && req.n_v6 == RULES_MAX,
	      "%d IPv6 rules refused: %d", RULES_MAX + 1, got);
	free_rules(argv, argc);

	/* The worst case for keys: every rule a deny on both protocols with
	 * the range of the most blocks (1-65534: 2 x 30 blocks + KIND_DENY):
	 * exactly KEYS_PER_RULE each, and all of them fit. */
	argv = many_rules(RULES_MAX, 0, 0, &argc);
	for (got = 4; got < argc; got += 2)
		snprintf(argv[got], 64, "10.%d.%d.%d:1-65534", got >> 17 & 255, got >> 9 & 255,
			 got >> 1 & 255);
	got = run_args(argc, argv, &req, &err);
	broken = got == 0 ? keys_contract(argc, argv, &req) : NULL;
	CHECK(got == 0 && req.n_last == (size_t)RULES_MAX * KEYS_PER_RULE && req.n_first == 0 &&
		      !broken,
	      "%d rules of 1-65534: %d, %zu keys (KEYS_PER_RULE each), %s", RULES_MAX, got,
	      req.n_last, broken ? broken : "kept");
	free_rules(argv, argc);
}

/* escape()'s contract: see escape_contract.h. */
static int escape_ok(const char *text, const char *out, size_t size, int json)
{
	static char full[4 * PATH_MAX + 1], boundary[4 * PATH_MAX + 1];

	if (strlen(text) > PATH_MAX)
		return 0; /* beyond what the tests here escape */
	memset(boundary, 0, sizeof(boundary));
	return escape_contract(text, out, size, json, full, boundary);
}

/* Every size from the minimum (8) up, every length, several contents:
 * exact-size heap buffers, so ASan sees any overrun. */
static size_t escape_sweep(int json)
{
	static const char fills[] = "a\x01\\\" \xff";
	char text[128];
	size_t size, len, f, bad = 0;

	for (f = 0; f < sizeof(fills) - 1; f++) {
		for (size = 8; size <= 72; size++) {
			for (len = 0; len < 90; len++) {
				char *buf = malloc(size);

				if (!buf)
					abort();
				memset(text, fills[f], len);
				text[len] = '\0';
				if (len > 2)
					text[len / 2] = 'm'; /* mixed */
				escape(text, buf, size, json);
				if (!escape_ok(text, buf, size, json) && !bad++)
					CHECK(0, "size %zu, %zu x 0x%02x: \"%s\"", size, len,
					      fills[f] & 0xff, shown(buf));
				free(buf);
			}
		}
	}
	return bad;
}

static void group_escape_message(void)
{
	char text[600], out[256];
	size_t len, bad;

	escape("--deny", out, sizeof(out), 0);
	CHECK(strcmp(out, "--deny") == 0, "plain text unchanged: %s", out);
	escape("", out, sizeof(out), 0);
	CHECK(strcmp(out, "") == 0, "empty text stays empty");
	escape("a b\\c\n\x1b[31m\x7f\xff\"", out, sizeof(out), 0);
	CHECK(strcmp(out, "a\\x20b\\x5cc\\x0a\\x1b[31m\\x7f\\xff\"") == 0,
	      "space, backslash, control and high bytes become \\xNN: %s", out);

	/* What the loader does: 256 bytes; short values pass whole. */
	memset(text, 'v', 200);
	text[200] = '\0';
	escape(text, out, sizeof(out), 0);
	CHECK(strcmp(out, text) == 0, "a 200-byte value is not cut");
	memset(text, 'v', 599);
	text[599] = '\0';
	escape(text, out, sizeof(out), 0);
	len = strlen(out);
	CHECK(len < sizeof(out) && len > 200 && strcmp(out + len - 3, "...") == 0,
	      "a 599-byte value is cut to %zu bytes ending in \"...\"", len);
	memset(text, '\n', 599);
	escape(text, out, sizeof(out), 0);
	CHECK(escape_ok(text, out, sizeof(out), 0),
	      "599 newlines: cut on an escape boundary (%zu bytes)", strlen(out));

	bad = escape_sweep(0);
	CHECK(bad == 0,
	      "sizes 8..72 x lengths 0..89 x 6 fills: terminated, printable, "
	      "whole or cut on a boundary with \"...\" (%zu wrong)",
	      bad);
}

static void group_escape_json(void)
{
	char *path, *out;
	size_t i, escaped = 0, bad;

	out = malloc(64);
	if (!out)
		abort();
	escape("/sys/fs/cgroup/a", out, 64, 1);
	CHECK(strcmp(out, "/sys/fs/cgroup/a") == 0, "plain path unchanged");
	escape("/sys/fs/cgroup/\"q\"\\", out, 64, 1);
	CHECK(strcmp(out, "/sys/fs/cgroup/\\\"q\\\"\\\\") == 0, "'\"' and '\\' are escaped: %s",
	      out);
	free(out);

	/* The loader's worst case, which its comment says "always fits": the
	 * longest valid path with the most bytes to escape (every component
	 * NAME_MAX quotes), into its PATH_MAX * 2 buffer. */
	path = long_path(PATH_MAX - 1, NAME_MAX, '"');
	CHECK(check_cgroup_path(path) == NULL, "a %d-byte path of quotes is a valid cgroup path",
	      PATH_MAX - 1);
	for (i = 0; path[i]; i++)
		escaped += path[i] == '"';
	out = malloc(PATH_MAX * 2);
	if (!out)
		abort();
	escape(path, out, PATH_MAX * 2, 1);
	CHECK(strlen(out) == PATH_MAX - 1 + escaped && escape_ok(path, out, PATH_MAX * 2, 1) &&
		      strstr(out, "...") == NULL,
	      "... its %zu-byte escape fits the loader's buffer whole", PATH_MAX - 1 + escaped);
	free(out);
	free(path);

	bad = escape_sweep(1);
	CHECK(bad == 0,
	      "sizes 8..72 x lengths 0..89 x 6 fills: terminated, whole or "
	      "cut between escapes with \"...\" (%zu wrong)",
	      bad);
}

static const struct {
	const char *name;
	void (*run)(void);
} groups[] = {
	{ "cidr_ipv4", group_cidr_ipv4 },
	{ "cidr_ipv6", group_cidr_ipv6 },
	{ "cidr_bad_address", group_cidr_bad_address },
	{ "cidr_bad_prefix", group_cidr_bad_prefix },
	{ "cidr_host_bits", group_cidr_host_bits },
	{ "cidr_mapped", group_cidr_mapped },
	{ "rule_ports", group_rule_ports },
	{ "rule_bad_ports", group_rule_bad_ports },
	{ "rule_bad_protocol", group_rule_bad_protocol },
	{ "rule_brackets", group_rule_brackets },
	{ "rule_order", group_rule_order },
	{ "path_syntax", group_path_syntax },
	{ "path_length", group_path_length },
	{ "decimal", group_decimal },
	{ "args_grammar", group_args_grammar },
	{ "args_store", group_args_store },
	{ "args_limits", group_args_limits },
	{ "escape_message", group_escape_message },
	{ "escape_json", group_escape_json },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			printf("%s\n", groups[i].name);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--asan-canary") == 0) {
		char *p = calloc(8, 1), *alias = p;

		/* Hide that alias is p from compilers and analysers: only
		 * the sanitizer, at run time, may see the use after free. */
		__asm__ volatile("" : "+r"(alias));
		free(p);
		printf("%d\n", alias[argc]);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--ubsan-canary") == 0) {
		volatile int big = INT_MAX;

		printf("%d\n", big + argc);
		return 0;
	}
	for (i = 0; argc == 2 && i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (strcmp(argv[1], groups[i].name) != 0)
			continue;
		group = groups[i].name;
		groups[i].run();
		printf("%s: %d failed\n", group, failures);
		return failures ? 1 : 0;
	}
	fprintf(stderr, "usage: test_validate --list | GROUP\n");
	return 2;
}

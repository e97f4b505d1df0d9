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

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD_ADDRESS "not an IPv4 or IPv6 address"
#define BAD_PREFIX "prefix length must be plain decimal, 0..32 or 0..128"
#define HOST_BITS "host bits set beyond the prefix length"
#define NOT_ABSOLUTE "not an absolute path"
#define TOO_LONG "path too long"
#define BAD_CHARACTER "only printable ASCII without spaces is allowed"
#define NOT_CANONICAL "not canonical (no '.', '..', '//' or trailing '/')"
#define COMPONENT_TOO_LONG "path component too long"
#define OUTSIDE "not below /sys/fs/cgroup/"
#define TOO_MANY "too many entries (at most 16384)"
#define OK NULL

#define CG "/sys/fs/cgroup/a"
#define CG_PREFIX_LEN (sizeof("/sys/fs/cgroup/") - 1)

static int failures;
static const char *group;

__attribute__((format(printf, 3, 4))) static void check(int ok, int line,
							const char *fmt, ...)
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

/* "ipv4 10.0.0.0/8", as the loader prints the network meant. */
static void describe(const struct cidr *c, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (c->family == AF_INET || c->family == AF_INET6)
		inet_ntop(c->family, c->addr, addr, sizeof(addr));
	snprintf(buf, size, "%s %s/%u",
		 c->family == AF_INET  ? "ipv4" :
		 c->family == AF_INET6 ? "ipv6" :
					 "family?",
		 addr, c->prefixlen);
}

/* want: NULL (valid) or the message; expected: "ipv4 10.0.0.0/8" for a
 * valid entry and for host bits (the network meant), else NULL. */
static void expect_cidr(const char *text, const char *want,
			const char *expected, int line)
{
	struct cidr c;
	const char *got;
	char desc[96] = "";
	size_t i;

	memset(&c, 0xa5, sizeof(c));
	got = parse_cidr(text, &c);
	if (!expected) {
		check(same(got, want) && c.family == 0, line,
		      "parse_cidr(\"%s\") = \"%s\" (family %d), want \"%s\" "
		      "(family 0)",
		      shown(text), or_null(got), c.family, or_null(want));
		return;
	}
	describe(&c, desc, sizeof(desc));
	check(same(got, want) && strcmp(desc, expected) == 0, line,
	      "parse_cidr(\"%s\") = \"%s\" %s, want \"%s\" %s", shown(text),
	      or_null(got), desc, or_null(want), expected);
	/* Nothing stale past the address: the loader copies 4 or 16 bytes. */
	for (i = c.family == AF_INET ? 4 : 16; i < sizeof(c.addr); i++)
		if (c.addr[i])
			break;
	check(i == sizeof(c.addr), line,
	      "parse_cidr(\"%s\") leaves no byte set past the address",
	      shown(text));
}

#define CIDR(text, want, expected) expect_cidr(text, want, expected, __LINE__)
#define BAD_CIDR(text, want) expect_cidr(text, want, NULL, __LINE__)

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
	CIDR("2001:0db8:0000:0000:0000:0000:0000:0001", OK,
	     "ipv6 2001:db8::1/128");
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
		"[::1]",
		"[2001:db8::]/32",
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
		"1.2.3.4::",
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
			struct cidr c;

			snprintf(text, sizeof(text), "%u.%u.%u.%u/%u",
				 addr >> 24, addr >> 16 & 255, addr >> 8 & 255,
				 addr & 255, prefix);
			got = parse_cidr(text, &c);
			if (!same(got, bit < prefix ? OK : HOST_BITS) ||
			    c.family != AF_INET || c.prefixlen != prefix ||
			    (got && memcmp(c.addr, zero, 16) != 0)) {
				if (!wrong++)
					CHECK(0, "parse_cidr(\"%s\") = \"%s\"",
					      text, or_null(got));
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
			struct cidr c;

			addr[bit / 8] = (uint8_t)(0x80U >> bit % 8);
			inet_ntop(AF_INET6, addr, a, sizeof(a));
			snprintf(text, sizeof(text), "%s/%u", a, prefix);
			got = parse_cidr(text, &c);
			/* None of these is IPv4-mapped: all stay IPv6. */
			if (!same(got, bit < prefix ? OK : HOST_BITS) ||
			    c.family != AF_INET6 || c.prefixlen != prefix ||
			    (got && memcmp(c.addr, zero, 16) != 0)) {
				if (!wrong++)
					CHECK(0, "parse_cidr(\"%s\") = \"%s\"",
					      text, or_null(got));
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
	CIDR("0000:0000:0000:0000:0000:ffff:c000:0200/127", OK,
	     "ipv4 192.0.2.0/31");
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

static void expect_path(const char *path, const char *want, int line)
{
	const char *got = check_cgroup_path(path);

	check(same(got, want), line, "check_cgroup_path(\"%s\") = \"%s\"",
	      shown(path), or_null(got));
}

#define PATH(path, want) expect_path(path, want, __LINE__)

static void group_path_syntax(void)
{
	PATH("/sys/fs/cgroup/a", OK);
	PATH("/sys/fs/cgroup/unified/jail", OK);
	PATH("/sys/fs/cgroup/user.slice/user-1000.slice/libpod-0123abcd.scope",
	     OK);
	PATH("/sys/fs/cgroup/.hidden", OK);
	PATH("/sys/fs/cgroup/...", OK);
	PATH("/sys/fs/cgroup/a..b/.c./c.", OK);
	PATH("/sys/fs/cgroup/~!@#$%^&*()_+={}[]|:;'<>,?\"\\", OK);

	PATH("", NOT_ABSOLUTE);
	PATH("sys/fs/cgroup/a", NOT_ABSOLUTE);
	PATH("./sys/fs/cgroup/a", NOT_ABSOLUTE);
	PATH("~/a", NOT_ABSOLUTE);
	PATH(" /sys/fs/cgroup/a", NOT_ABSOLUTE);

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
	CHECK(strlen(path) == PATH_MAX - 1, "built a %d-byte path",
	      PATH_MAX - 1);
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
	CHECK(path[len - 2] == '/', "a middle component of %d bytes",
	      NAME_MAX + 1);
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
	      "parse_decimal(\"%s\", max %llu) = %d, %llu", shown(text), max,
	      got, got_value);
}

#define DECIMAL(text, max, want, value) \
	expect_decimal(text, max, want, value, __LINE__)
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

/* Storage for DENY_MAX entries, as the loader provides. */
static struct key_v4 store_v4[DENY_MAX];
static struct key_v6 store_v6[DENY_MAX];

static int run_args(int argc, char *const argv[], struct request *req,
		    struct parse_error *err)
{
	memset(req, 0xa5, sizeof(*req));
	req->v4 = store_v4;
	req->v6 = store_v6;
	return parse_args(argc, argv, req, err);
}

/* argv as a NULL-terminated list after the expectations; argv[0] added. */
static void expect_args(int want, const char *why, const char *option,
			const char *value, int line, ...)
{
	char *argv[16] = { "jail-ai-ebpf-loader" };
	char words[512] = "";
	struct parse_error err;
	struct request req;
	int argc = 1, got;
	va_list ap;

	va_start(ap, line);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL) {
		snprintf(words + strlen(words), sizeof(words) - strlen(words),
			 "%s%s", argc > 1 ? " " : "", shown(argv[argc]));
		argc++;
	}
	va_end(ap);
	got = run_args(argc, argv, &req, &err);
	if (want == 0) {
		check(got == 0 && req.action == ACT_LOAD && req.cgroup, line,
		      "parse_args(%s) = %d, want 0", words, got);
		return;
	}
	check(got == want && err.exit_code == want && same(err.why, why) &&
		      same(err.option, option) && same(err.value, value),
	      line, "parse_args(%s) = %d \"%s\" [%s] [%s]", words, got,
	      or_null(err.why), or_null(err.option), shown(err.value));
}

#define ARGS(want, why, option, value, ...) \
	expect_args(want, why, option, value, __LINE__, __VA_ARGS__, (char *)0)

static void group_args_grammar(void)
{
	char *none[] = { "jail-ai-ebpf-loader", NULL };
	char *help[] = { "x", "--help", NULL };
	char *version[] = { "x", "--version", NULL };
	char *load[] = { "x", "--cgroup", CG, "--deny", "10.0.0.0/8", NULL };
	char *host[] = { "x", "--cgroup", CG, "--deny", "192.0.2.9/24", NULL };
	char *bad[] = { "x", "--cgroup", CG, "--deny", "192.0.2.999", NULL };
	char net[64] = "";
	struct parse_error err;
	struct request req;
	int got;

	got = run_args(1, none, &req, &err);
	CHECK(got == 64 && same(err.why, "no arguments (try --help)") &&
		      !err.option && !err.value,
	      "no arguments: %d \"%s\"", got, or_null(err.why));
	got = run_args(0, none, &req, &err);
	CHECK(got == 64, "argc 0: %d", got);
	ARGS(0, OK, NULL, NULL, "--cgroup", CG, "--deny", "192.0.2.1");
	ARGS(0, OK, NULL, NULL, "--deny", "192.0.2.1", "--cgroup", CG);
	ARGS(0, OK, NULL, NULL, "--deny", "::1", "--cgroup", CG, "--deny",
	     "::1");
	CHECK(run_args(2, help, &req, &err) == 0 && req.action == ACT_HELP,
	      "--help alone: ACT_HELP");
	CHECK(run_args(2, version, &req, &err) == 0 &&
		      req.action == ACT_VERSION,
	      "--version alone: ACT_VERSION");
	CHECK(run_args(5, load, &req, &err) == 0 && req.action == ACT_LOAD &&
		      req.cgroup == load[2],
	      "a load request: ACT_LOAD, cgroup points into argv");

	ARGS(64, "must stand alone", "--help", NULL, "--help", "--version");
	ARGS(64, "must stand alone", "--version", NULL, "--version", "--help");
	ARGS(64, "must stand alone", "--help", NULL, "--cgroup", CG, "--help");
	ARGS(64, "must stand alone", "--version", NULL, "--version", "--cgroup",
	     CG, "--deny", "::1");
	ARGS(64, "must stand alone", "--help", NULL, "--help", "--help");

	ARGS(64, "unknown option", NULL, "--cgroup=" CG, "--cgroup=" CG,
	     "--deny", "::1");
	ARGS(64, "unknown option", NULL, "--deny=::1", "--cgroup", CG,
	     "--deny=::1");
	ARGS(64, "unknown option", NULL, "--cg", "--cg", CG, "--deny", "::1");
	ARGS(64, "unknown option", NULL, "--Cgroup", "--Cgroup", CG);
	ARGS(64, "unknown option", NULL, "-c", "-c", CG);
	ARGS(64, "unknown option", NULL, "--", "--", "--cgroup", CG);
	ARGS(64, "unknown option", NULL, "-", "-");
	ARGS(64, "unknown option", NULL, "--he", "--he");
	ARGS(64, "unknown option", NULL, "--help=1", "--help=1");
	ARGS(64, "unexpected argument", NULL, CG, CG);
	ARGS(64, "unexpected argument", NULL, "''", ""); /* shown as '' */
	ARGS(64, "unexpected argument", NULL, "x", "--cgroup", CG, "--deny",
	     "::1", "x");
	ARGS(64, "missing value", "--cgroup", NULL, "--cgroup");
	ARGS(64, "missing value", "--deny", NULL, "--deny");
	ARGS(64, "missing value", "--deny", NULL, "--cgroup", CG, "--deny");
	ARGS(64, "given more than once", "--cgroup", NULL, "--cgroup", CG,
	     "--cgroup", CG, "--deny", "::1");
	ARGS(64, "required", "--cgroup", NULL, "--deny", "::1");
	ARGS(64, "required at least once", "--deny", NULL, "--cgroup", CG);

	/* Each option takes exactly the next entry, whatever it looks like. */
	ARGS(65, NOT_ABSOLUTE, "--cgroup", "--deny", "--cgroup", "--deny",
	     "::1");
	ARGS(65, BAD_ADDRESS, "--deny", "--cgroup", "--deny", "--cgroup", CG);
	ARGS(65, BAD_ADDRESS, "--deny", "--help", "--deny", "--help");
	/* The first error in argv order wins. */
	ARGS(65, BAD_ADDRESS, "--deny", "bad", "--deny", "bad", "--bogus");
	ARGS(64, "unknown option", NULL, "--bogus", "--bogus", "--deny", "bad");
	ARGS(65, OUTSIDE, "--cgroup", "/tmp/x", "--cgroup", "/tmp/x", "--deny",
	     "bad");
	ARGS(64, "given more than once", "--cgroup", NULL, "--cgroup", CG,
	     "--cgroup", "relative");

	/* Data errors name the option and the value. */
	ARGS(65, HOST_BITS, "--deny", "10.0.0.1/8", "--cgroup", CG, "--deny",
	     "10.0.0.1/8");
	ARGS(65, BAD_PREFIX, "--deny", "10.0.0.0/08", "--cgroup", CG, "--deny",
	     "10.0.0.0/08");
	ARGS(65, NOT_CANONICAL, "--cgroup", CG "/", "--cgroup", CG "/",
	     "--deny", "::1");
	ARGS(65, BAD_CHARACTER, "--cgroup", CG " b", "--cgroup", CG " b",
	     "--deny", "::1");

	/* The network meant comes back with host bits, and only then. */
	got = run_args(5, host, &req, &err);
	if (err.network.family == AF_INET)
		inet_ntop(AF_INET, err.network.addr, net, sizeof(net));
	CHECK(got == 65 && same(err.why, HOST_BITS) &&
		      err.network.family == AF_INET &&
		      strcmp(net, "192.0.2.0") == 0 &&
		      err.network.prefixlen == 24,
	      "host bits hand back the network: %s/%u", net,
	      err.network.prefixlen);
	CHECK(run_args(5, bad, &req, &err) == 65 && err.network.family == 0,
	      "a bad address hands back no network");
	CHECK(run_args(5, load, &req, &err) == 0 && err.network.family == 0,
	      "success leaves no network in err");
}

static void group_args_store(void)
{
	char *argv[] = { "x",	   "--deny",	    "192.0.2.0/24",
			 "--deny", "2001:db8::/32", "--cgroup",
			 CG,	   "--deny",	    "::ffff:198.51.100.7",
			 "--deny", "192.0.2.0/24", /* duplicates are fine */
			 "--deny", "::1",	    NULL };
	static const uint8_t v6_db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t v6_one[16] = { [15] = 1 };
	struct parse_error err;
	struct request req;
	int got = run_args(13, argv, &req, &err);

	CHECK(got == 0, "parse_args = %d", got);
	CHECK(req.n_v4 == 3 && req.n_v6 == 2,
	      "3 IPv4 (one was ::ffff:) and 2 IPv6 entries: %zu, %zu", req.n_v4,
	      req.n_v6);
	CHECK(store_v4[0].prefixlen == 24 &&
		      memcmp(store_v4[0].addr, "\xc0\x00\x02\x00", 4) == 0,
	      "IPv4 key: prefix 24, address in network byte order");
	CHECK(store_v4[1].prefixlen == 32 &&
		      memcmp(store_v4[1].addr, "\xc6\x33\x64\x07", 4) == 0,
	      "::ffff:198.51.100.7 stored as IPv4 198.51.100.7/32");
	CHECK(store_v4[2].prefixlen == 24 &&
		      memcmp(store_v4[2].addr, "\xc0\x00\x02\x00", 4) == 0,
	      "the duplicate is stored again");
	CHECK(store_v6[0].prefixlen == 32 &&
		      memcmp(store_v6[0].addr, v6_db8, 16) == 0,
	      "IPv6 key: prefix 32, address in network byte order");
	CHECK(store_v6[1].prefixlen == 128 &&
		      memcmp(store_v6[1].addr, v6_one, 16) == 0,
	      "::1 stored as IPv6 ::1/128");
	CHECK(req.cgroup == argv[6], "cgroup points at its argv entry");
}

/* argv of --cgroup CG and n --deny entries, IPv4 and IPv6 alternating
 * (only IPv6 if v6_only). */
static char **many_denies(size_t n, int v6_only, int *argc)
{
	char **argv = calloc(2 * n + 4, sizeof(*argv));
	size_t i;

	if (!argv)
		abort();
	argv[0] = "x";
	argv[1] = "--cgroup";
	argv[2] = CG;
	for (i = 0; i < n; i++) {
		char *value = malloc(48);

		if (!value)
			abort();
		if (i % 2 || v6_only)
			snprintf(value, 48, "2001:db8::%zx", i);
		else
			snprintf(value, 48, "10.%zu.%zu.%zu", i >> 16 & 255,
				 i >> 8 & 255, i & 255);
		argv[3 + 2 * i] = "--deny";
		argv[4 + 2 * i] = value;
	}
	*argc = (int)(2 * n + 3);
	return argv;
}

static void free_denies(char **argv, int argc)
{
	int i;

	for (i = 4; i < argc; i += 2)
		free(argv[i]);
	free(argv);
}

static void group_args_limits(void)
{
	struct parse_error err;
	struct request req;
	char **argv;
	int argc, got;

	argv = many_denies(DENY_MAX, 0, &argc);
	got = run_args(argc, argv, &req, &err);
	CHECK(got == 0 && req.n_v4 == DENY_MAX / 2 && req.n_v6 == DENY_MAX / 2,
	      "%d entries accepted: %d, %zu + %zu", DENY_MAX, got, req.n_v4,
	      req.n_v6);
	CHECK(store_v6[DENY_MAX / 2 - 1].prefixlen == 128 &&
		      store_v6[DENY_MAX / 2 - 1].addr[15] ==
			      ((DENY_MAX - 1) & 255),
	      "the last IPv6 entry is stored at the end of its array");
	free_denies(argv, argc);

	argv = many_denies(DENY_MAX + 1, 0, &argc);
	got = run_args(argc, argv, &req, &err);
	CHECK(got == 65 && same(err.why, TOO_MANY) &&
		      same(err.option, "--deny") &&
		      err.value == argv[argc - 1] && err.network.family == 0,
	      "%d entries refused: %d \"%s\", naming the entry too many",
	      DENY_MAX + 1, got, or_null(err.why));
	CHECK(req.n_v4 + req.n_v6 <= DENY_MAX,
	      "never more than DENY_MAX stored (%zu)", req.n_v4 + req.n_v6);
	free_denies(argv, argc);

	/* All of one family: one array really holds DENY_MAX. */
	argv = many_denies(DENY_MAX, 1, &argc);
	got = run_args(argc, argv, &req, &err);
	CHECK(got == 0 && req.n_v6 == DENY_MAX && req.n_v4 == 0,
	      "%d IPv6 entries: %d", DENY_MAX, got);
	free_denies(argv, argc);
	argv = many_denies(DENY_MAX + 1, 1, &argc);
	got = run_args(argc, argv, &req, &err);
	CHECK(got == 65 && same(err.why, TOO_MANY) && req.n_v6 == DENY_MAX,
	      "%d IPv6 entries refused: %d", DENY_MAX + 1, got);
	free_denies(argv, argc);
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
					CHECK(0,
					      "size %zu, %zu x 0x%02x: \"%s\"",
					      size, len, fills[f] & 0xff,
					      shown(buf));
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
	CHECK(len < sizeof(out) && len > 200 &&
		      strcmp(out + len - 3, "...") == 0,
	      "a 599-byte value is cut to %zu bytes ending in \"...\"", len);
	memset(text, '\n', 599);
	escape(text, out, sizeof(out), 0);
	CHECK(escape_ok(text, out, sizeof(out), 0),
	      "599 newlines: cut on an escape boundary (%zu bytes)",
	      strlen(out));

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
	CHECK(strcmp(out, "/sys/fs/cgroup/\\\"q\\\"\\\\") == 0,
	      "'\"' and '\\' are escaped: %s", out);
	free(out);

	/* The loader's worst case, which its comment says "always fits": the
	 * longest valid path with the most bytes to escape (every component
	 * NAME_MAX quotes), into its PATH_MAX * 2 buffer. */
	path = long_path(PATH_MAX - 1, NAME_MAX, '"');
	CHECK(check_cgroup_path(path) == NULL,
	      "a %d-byte path of quotes is a valid cgroup path", PATH_MAX - 1);
	for (i = 0; path[i]; i++)
		escaped += path[i] == '"';
	out = malloc(PATH_MAX * 2);
	if (!out)
		abort();
	escape(path, out, PATH_MAX * 2, 1);
	CHECK(strlen(out) == PATH_MAX - 1 + escaped &&
		      escape_ok(path, out, PATH_MAX * 2, 1) &&
		      strstr(out, "...") == NULL,
	      "... its %zu-byte escape fits the loader's buffer whole",
	      PATH_MAX - 1 + escaped);
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

// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness over validate.c (`make fuzz`, mk/assurance.mk), built
 * with -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all.
 *
 * Every input goes through every entry point, and each result is checked
 * against the contract of validate.h and DESIGN.md section 3; a breach
 * aborts, which libFuzzer reports as a crash:
 *   - the text up to the first NUL: parse_cidr (accepted entries have no
 *     host bits and survive a print/parse round trip; the network handed
 *     back for host bits is itself accepted), check_cgroup_path (compared
 *     with an independent model of the path rules), parse_decimal (with a
 *     model, for the loader's maxima and one taken from the input) and
 *     escape (messages and JSON, into a heap buffer of exactly the size
 *     given, 8..263 bytes);
 *   - the whole input split on NUL bytes as argv[1..]: parse_args, whose
 *     request or error must be consistent, then the loader's message.
 */
#include "../validate.h"
#include "../test/unit/escape_contract.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST_BITS "host bits set beyond the prefix length"

static struct key_v4 store_v4[DENY_MAX];
static struct key_v6 store_v6[DENY_MAX];

#define ASSERT(cond)                                                    \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: contract broken: %s\n", \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

static unsigned int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static int has_host_bits(const uint8_t *addr, unsigned int prefixlen,
			 unsigned int bits)
{
	unsigned int bit;

	for (bit = prefixlen; bit < bits; bit++)
		if (addr[bit / 8] & (0x80U >> bit % 8))
			return 1;
	return 0;
}

static void check_cidr(const char *text)
{
	static const uint8_t zero[16];
	char addr[INET6_ADDRSTRLEN], again_text[INET6_ADDRSTRLEN + 8];
	struct cidr c, again;
	const char *why = parse_cidr(text, &c);
	unsigned int bytes;

	if (why && c.family == 0)
		return; /* a plain refusal: nothing more is promised */
	ASSERT(c.family == AF_INET || c.family == AF_INET6);
	ASSERT(c.prefixlen <= family_bits(c.family));
	ASSERT(!has_host_bits(c.addr, c.prefixlen, family_bits(c.family)));
	bytes = c.family == AF_INET ? 4 : 16;
	ASSERT(memcmp(c.addr + bytes, zero, sizeof(c.addr) - bytes) == 0);
	ASSERT(!why || strcmp(why, HOST_BITS) == 0);
	ASSERT(strchr(text, ':') || c.family == AF_INET);
	/* What the loader would print, parsed again: accepted, and the same
	 * entry (a network meant in ::ffff: notation may come back IPv4). */
	ASSERT(inet_ntop(c.family, c.addr, addr, sizeof(addr)));
	snprintf(again_text, sizeof(again_text), "%s/%u", addr, c.prefixlen);
	ASSERT(parse_cidr(again_text, &again) == NULL);
	if (!why || again.family == c.family) {
		ASSERT(again.family == c.family &&
		       again.prefixlen == c.prefixlen &&
		       memcmp(again.addr, c.addr, sizeof(c.addr)) == 0);
	} else {
		ASSERT(c.family == AF_INET6 && again.family == AF_INET &&
		       again.prefixlen + 96 == c.prefixlen &&
		       memcmp(again.addr, c.addr + 12, 4) == 0);
	}
	/* Accepted IPv6 is never IPv4-mapped with a prefix >= 96. */
	if (!why && c.family == AF_INET6 && c.prefixlen >= 96)
		ASSERT(!(memcmp(c.addr, zero, 10) == 0 && c.addr[10] == 0xff &&
			 c.addr[11] == 0xff));
}

/* DESIGN.md section 3, written out independently of validate.c. */
static int path_valid(const char *path)
{
	static const char prefix[] = "/sys/fs/cgroup/";
	size_t len = strlen(path), i, component = 0;

	if (len >= PATH_MAX || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)path[i] <= ' ' ||
		    (unsigned char)path[i] > '~')
			return 0;
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0') {
			if (++component > NAME_MAX)
				return 0;
			continue;
		}
		if (component == 0)
			return 0; /* "//" or a trailing "/" */
		if (component <= 2 &&
		    strncmp(path + i - component, "..", component) == 0)
			return 0; /* "." or ".." */
		component = 0;
	}
	return 1;
}

static void check_path(const char *text)
{
	const char *why = check_cgroup_path(text);

	ASSERT((why == NULL) == path_valid(text));
}

/* Digits only, no sign, no leading zero, at most max. */
static int decimal_model(const char *text, unsigned long long max,
			 unsigned long long *value)
{
	const char *p;

	*value = 0;
	if (!*text || (text[0] == '0' && text[1]))
		return -1;
	for (p = text; *p; p++) {
		unsigned int digit = (unsigned int)(*p - '0');

		if (*p < '0' || *p > '9' || digit > max ||
		    *value > (max - digit) / 10)
			return -1;
		*value = *value * 10 + digit;
	}
	return 0;
}

static void check_decimal(const char *text, unsigned long long max)
{
	unsigned long long got = 0, want = 0;
	int rc = parse_decimal(text, max, &got);

	ASSERT(rc == decimal_model(text, max, &want));
	ASSERT(rc != 0 || got == want);
}

/* escape() keeps its contract (test/unit/escape_contract.h). */
static void check_escape(const char *text, size_t size, int json)
{
	char *buf = malloc(size), *full = malloc(4 * strlen(text) + 1);
	char *boundary = calloc(4 * strlen(text) + 1, 1);

	ASSERT(buf && full && boundary);
	escape(text, buf, size, json);
	ASSERT(escape_contract(text, buf, size, json, full, boundary));
	free(boundary);
	free(full);
	free(buf);
}

static int is_argv_entry(const char *p, char *const argv[], int argc)
{
	int i;

	for (i = 0; i < argc; i++)
		if (argv[i] == p)
			return 1;
	return 0;
}

static int has_empty_entry(char *const argv[], int argc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (argv[i][0] == '\0')
			return 1;
	return 0;
}

static void check_args(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1),
	     **argv = malloc((size + 2) * sizeof(char *));
	char value[256], message[1024];
	struct parse_error err;
	struct request req;
	size_t i, n;
	int argc = 1, rc;

	ASSERT(copy && argv);
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "jail-ai-ebpf-loader";
	/* Entries end at each NUL; a trailing NUL adds no empty entry. */
	for (i = 0; i < size;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;

	memset(&req, 0xa5, sizeof(req));
	req.v4 = store_v4;
	req.v6 = store_v6;
	rc = parse_args(argc, argv, &req, &err);
	ASSERT(rc == 0 || rc == 64 || rc == 65);
	if (rc == 0) {
		ASSERT(req.action == ACT_LOAD || argc == 2);
		if (req.action != ACT_LOAD)
			goto out;
		ASSERT(req.cgroup && is_argv_entry(req.cgroup, argv, argc));
		ASSERT(check_cgroup_path(req.cgroup) == NULL);
		n = req.n_v4 + req.n_v6;
		ASSERT(n >= 1 && n <= DENY_MAX && n <= (size_t)argc / 2);
		for (i = 0; i < req.n_v4; i++)
			ASSERT(store_v4[i].prefixlen <= 32 &&
			       !has_host_bits(store_v4[i].addr,
					      store_v4[i].prefixlen, 32));
		for (i = 0; i < req.n_v6; i++)
			ASSERT(store_v6[i].prefixlen <= 128 &&
			       !has_host_bits(store_v6[i].addr,
					      store_v6[i].prefixlen, 128));
		goto out;
	}
	ASSERT(err.exit_code == rc && err.why && *err.why);
	/* The offending entry itself, or "''" standing for an empty one. */
	ASSERT(!err.value || is_argv_entry(err.value, argv, argc) ||
	       (strcmp(err.value, "''") == 0 && has_empty_entry(argv, argc)));
	ASSERT(!err.option || strcmp(err.option, "--cgroup") == 0 ||
	       strcmp(err.option, "--deny") == 0 ||
	       strcmp(err.option, "--help") == 0 ||
	       strcmp(err.option, "--version") == 0);
	ASSERT(err.network.family == 0 || strcmp(err.why, HOST_BITS) == 0);
	/* The loader's message: a bounded, printable line. */
	escape(err.value ? err.value : "", value, sizeof(value), 0);
	ASSERT(snprintf(message, sizeof(message), "%s %s: %s",
			err.option ? err.option : "", value,
			err.why) < (int)sizeof(message));
	for (i = 0; message[i]; i++)
		ASSERT(message[i] >= ' ' && message[i] <= '~');
out:
	free(argv);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	unsigned long long max = 0;
	unsigned int sum = 0;
	size_t i;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* string entry points see up to the first NUL */
	for (i = 0; i < size; i++)
		sum += data[i];

	check_cidr(text);
	check_path(text);
	check_decimal(text, 32);
	check_decimal(text, 128);
	check_decimal(text, (uid_t)-2);
	/* Any max: the input's last 8 bytes, so the text stays intact. */
	if (size >= 8)
		memcpy(&max, data + size - 8, sizeof(max));
	check_decimal(text, max);
	check_escape(text, 8 + sum % 256, 0);
	check_escape(text, 8 + sum % 256, 1);
	check_args(data, size);
	free(text);
	return 0;
}

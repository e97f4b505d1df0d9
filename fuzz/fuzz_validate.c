// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness over validate.c (`make fuzz`, mk/assurance.mk), built
 * with -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all.
 *
 * Every input goes through every entry point, and each result is checked
 * against the contract of validate.h and DESIGN.md section 3; a breach
 * aborts, which libFuzzer reports as a crash:
 *   - the text up to the first NUL: parse_rule (accepted rules have no
 *     host bits, sane ports and protocols, and survive a print/parse round
 *     trip; the network handed back for host bits is itself accepted; every
 *     refusal is one of the contract's messages), check_cgroup_path (compared
 *     with an independent model of the path rules), parse_decimal (with a
 *     model, for the loader's maxima and one taken from the input) and
 *     escape (messages and JSON, into a heap buffer of exactly the size
 *     given, 8..263 bytes);
 *   - the whole input split on NUL bytes as argv[1..]: parse_args, whose
 *     request must keep the keys contract (test/unit/keys_contract.h: every
 *     key's prefix length, family, kind, port and rank, allow keys in the
 *     front segment, deny keys in the back, each port range cut into
 *     aligned blocks covering exactly N..M) or whose error
 *     must be consistent, then the loader's message.
 */
#include "../validate.h"
#include "../test/unit/escape_contract.h"
#include "../test/unit/keys_contract.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST_BITS "host bits set beyond the prefix length"

/* parse_rule's refusals other than host bits (DESIGN.md section 3). */
static const char *const rule_refusals[] = {
	"brackets go around an IPv6 CIDR before :PORTS, only there",
	"not an IPv4 or IPv6 address",
	"prefix length must be plain decimal, 0..32 or 0..128",
	"ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535",
	"protocol must be tcp or udp",
};

/* Its keys and values take tens of MB: static, as in the loader. */
static struct request req;

#define ASSERT(cond)                                                                        \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

static unsigned int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static int has_host_bits(const uint8_t *addr, unsigned int prefixlen, unsigned int bits)
{
	unsigned int bit;

	for (bit = prefixlen; bit < bits; bit++)
		if (addr[bit / 8] & (0x80U >> bit % 8))
			return 1;
	return 0;
}

static int is_rule_refusal(const char *why)
{
	size_t i;

	for (i = 0; i < sizeof(rule_refusals) / sizeof(rule_refusals[0]); i++)
		if (strcmp(why, rule_refusals[i]) == 0)
			return 1;
	return 0;
}

/* Where the text of an accepted rule with ports may have them: after
 * "]:" if bracketed, else after a ':' that follows a '.'. */
static int ports_allowed(const char *text)
{
	const char *colon = strchr(text, ':');

	if (text[0] == '[')
		return strstr(text, "]:") != NULL;
	return colon && memchr(text, '.', (size_t)(colon - text)) != NULL;
}

static void check_rule(const char *text)
{
	static const uint8_t zero[16];
	char addr[INET6_ADDRSTRLEN], again_text[INET6_ADDRSTRLEN + 32];
	struct rule r, again;
	const struct cidr *c = &r.network;
	const char *why = parse_rule(text, &r);
	unsigned int bytes;

	if (why && c->family == 0) {
		/* a plain refusal: one of the contract's messages */
		ASSERT(is_rule_refusal(why));
		return;
	}
	/* No valid rule is near 128 bytes: a longer value is never taken,
	 * whatever its first bytes. */
	ASSERT(strlen(text) < 128);
	ASSERT(c->family == AF_INET || c->family == AF_INET6);
	ASSERT(c->prefixlen <= family_bits(c->family));
	ASSERT(!has_host_bits(c->addr, c->prefixlen, family_bits(c->family)));
	bytes = c->family == AF_INET ? 4 : 16;
	ASSERT(memcmp(c->addr + bytes, zero, sizeof(c->addr) - bytes) == 0);
	ASSERT(!why || strcmp(why, HOST_BITS) == 0);
	ASSERT(strchr(text, ':') || c->family == AF_INET);
	/* Ports: none, or 1 <= first <= last <= 65535 for TCP and/or UDP;
	 * brackets only, and always, with ports. */
	ASSERT(r.protocols <= 3);
	if (r.protocols == 0)
		ASSERT(r.first_port == 0 && r.last_port == 0);
	else
		ASSERT(r.first_port >= 1 && r.first_port <= r.last_port && r.last_port <= 65535 &&
		       ports_allowed(text));
	ASSERT((text[0] == '[') == (r.protocols && c->family == AF_INET6) ||
	       (text[0] == '[' && r.protocols)); /* [::ffff:a.b.c.d]:N */
	/* What the loader would print, as a rule again: accepted, and the
	 * same rule (a network meant in ::ffff: notation may come back
	 * IPv4). */
	ASSERT(inet_ntop(c->family, c->addr, addr, sizeof(addr)));
	if (!r.protocols)
		snprintf(again_text, sizeof(again_text), "%s/%u", addr, c->prefixlen);
	else
		snprintf(again_text, sizeof(again_text), "%s%s/%u%s:%llu-%llu%s",
			 c->family == AF_INET6 ? "[" : "", addr, c->prefixlen,
			 c->family == AF_INET6 ? "]" : "", r.first_port, r.last_port,
			 r.protocols == 1 ? "/tcp" :
			 r.protocols == 2 ? "/udp" :
					    "");
	ASSERT(parse_rule(again_text, &again) == NULL);
	ASSERT(again.protocols == r.protocols && again.first_port == r.first_port &&
	       again.last_port == r.last_port);
	if (!why || again.network.family == c->family) {
		ASSERT(again.network.family == c->family &&
		       again.network.prefixlen == c->prefixlen &&
		       memcmp(again.network.addr, c->addr, sizeof(c->addr)) == 0);
	} else {
		ASSERT(c->family == AF_INET6 && again.network.family == AF_INET &&
		       again.network.prefixlen + 96 == c->prefixlen &&
		       memcmp(again.network.addr, c->addr + 12, 4) == 0);
	}
	/* Accepted IPv6 is never IPv4-mapped with a prefix >= 96. */
	if (!why && c->family == AF_INET6 && c->prefixlen >= 96)
		ASSERT(!(memcmp(c->addr, zero, 10) == 0 && c->addr[10] == 0xff &&
			 c->addr[11] == 0xff));
}

/* DESIGN.md section 3, written out independently of validate.c. */
static int path_valid(const char *path)
{
	static const char prefix[] = "/sys/fs/cgroup/";
	size_t len = strlen(path), i, component = 0;

	if (len >= PATH_MAX || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)path[i] <= ' ' || (unsigned char)path[i] > '~')
			return 0;
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0') {
			if (++component > NAME_MAX)
				return 0;
			continue;
		}
		if (component == 0)
			return 0; /* "//" or a trailing "/" */
		if (component <= 2 && strncmp(path + i - component, "..", component) == 0)
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
static int decimal_model(const char *text, unsigned long long max, unsigned long long *value)
{
	const char *p;

	*value = 0;
	if (!*text || (text[0] == '0' && text[1]))
		return -1;
	for (p = text; *p; p++) {
		unsigned int digit = (unsigned int)(*p - '0');

		if (*p < '0' || *p > '9' || digit > max || *value > (max - digit) / 10)
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
	char *copy = malloc(size + 1), **argv = malloc((size + 2) * sizeof(char *));
	struct parse_error err;
	const char *broken;
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

	memset(&req, 0xa5, offsetof(struct request, keys));
	memset(&err, 0xa5, sizeof(err));
	rc = parse_args(argc, argv, &req, &err);
	ASSERT(rc == 0 || rc == 64 || rc == 65);
	if (rc == 0) {
		ASSERT(req.action == ACT_LOAD || argc == 2);
		if (req.action != ACT_LOAD)
			goto out;
		ASSERT(req.cgroup && is_argv_entry(req.cgroup, argv, argc));
		ASSERT(check_cgroup_path(req.cgroup) == NULL);
		n = req.n_v4 + req.n_v6;
		ASSERT(n >= 1 && n <= RULES_MAX && n <= (size_t)argc / 2);
		ASSERT(req.n_deny + req.n_allow == n && req.n_deny >= 1);
		broken = keys_contract(argc, argv, &req);
		if (broken)
			fprintf(stderr, "keys contract: %s\n", broken);
		ASSERT(broken == NULL);
		goto out;
	}
	ASSERT(err.exit_code == rc);
	/* The loader's message: one bounded, printable, non-empty line of
	 * "what: why", naming an option, an argv entry or '' (empty). */
	n = strnlen(err.message, sizeof(err.message));
	ASSERT(n > 0 && n < sizeof(err.message));
	for (i = 0; i < n; i++)
		ASSERT(err.message[i] >= ' ' && err.message[i] <= '~');
	ASSERT(strcmp(err.message, "no arguments (try --help)") == 0 || strstr(err.message, ": "));
	ASSERT(strncmp(err.message, "--cgroup", 8) == 0 || strncmp(err.message, "--deny", 6) == 0 ||
	       strncmp(err.message, "--allow", 7) == 0 ||
	       strncmp(err.message, "--help: ", 8) == 0 ||
	       strncmp(err.message, "--version: ", 11) == 0 ||
	       strcmp(err.message, "no arguments (try --help)") == 0 ||
	       strstr(err.message, ": unknown option") ||
	       strstr(err.message, ": unexpected argument"));
	ASSERT(strncmp(err.message, "'': ", 4) != 0 || has_empty_entry(argv, argc));
	/* A host-bits refusal names the network meant. */
	ASSERT(!strstr(err.message, HOST_BITS) ||
	       strstr(err.message, HOST_BITS "; the network is "));
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

	check_rule(text);
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

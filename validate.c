// SPDX-License-Identifier: MIT
/* Pure argv validation for jail-ai-ebpf-loader: see validate.h. */
#include "validate.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The one number recipe: digits only, no sign, no leading zero, <= max. */
int parse_decimal(const char *text, unsigned long long max,
		  unsigned long long *out)
{
	const char *p = text;

	*out = 0;
	if (*p == '\0' || (*p == '0' && p[1] != '\0'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(*out, 10, out) ||
		    __builtin_add_overflow(*out, *p - '0', out) || *out > max)
			return -1;
	return *p != '\0' ? -1 : 0;
}

const char *parse_cidr(const char *text, struct cidr *out)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	char addr[INET6_ADDRSTRLEN];
	unsigned long long prefixlen;
	unsigned int bit, host_bits = 0;
	int family;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(addr))
		return "not an IPv4 or IPv6 address";
	snprintf(addr, sizeof(addr), "%.*s", (int)len, text);
	family = memchr(addr, ':', len) ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, out->addr) != 1)
		return "not an IPv4 or IPv6 address";
	prefixlen = family == AF_INET ? 32 : 128;
	if (slash && parse_decimal(slash + 1, prefixlen, &prefixlen))
		return "prefix length must be plain decimal, 0..32 or 0..128";
	out->family = family;
	out->prefixlen = (unsigned int)prefixlen;
	for (bit = out->prefixlen; bit < (family == AF_INET ? 32U : 128U);
	     bit++) {
		host_bits |= out->addr[bit / 8] & (0x80U >> bit % 8);
		out->addr[bit / 8] &= (uint8_t) ~(0x80U >> bit % 8);
	}
	if (host_bits)
		return "host bits set beyond the prefix length";
	if (family == AF_INET6 && out->prefixlen >= 96 &&
	    memcmp(out->addr, mapped, sizeof(mapped)) == 0) {
		out->family = AF_INET;
		out->prefixlen -= 96;
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
	}
	return NULL;
}

const char *check_cgroup_path(const char *path)
{
	const char *p, *component = path + 1;

	if (path[0] != '/')
		return "not an absolute path";
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return "path too long";
	/* Every component non-empty, not "." or "..", at most NAME_MAX. */
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0' && (*p <= ' ' || *p > '~'))
			return "only printable ASCII without spaces is allowed";
		if (*p != '/' && *p != '\0')
			continue;
		if (p == component ||
		    (p - component == 1 && *component == '.') ||
		    (p - component == 2 && strncmp(component, "..", 2) == 0))
			return "not canonical (no '.', '..', '//' or trailing '/')";
		if (p - component > NAME_MAX)
			return "path component too long";
		if (*p == '\0')
			break;
		component = p + 1;
	}
	if (strncmp(path, "/sys/fs/cgroup/", strlen("/sys/fs/cgroup/")) != 0)
		return "not below /sys/fs/cgroup/";
	return NULL;
}

static int fail(struct parse_error *err, int exit_code, const char *why,
		const char *option, const char *value)
{
	err->exit_code = exit_code, err->why = why;
	err->option = option, err->value = value && !*value ? "''" : value;
	return exit_code;
}

static const char *add_deny(struct request *req, const char *text,
			    struct cidr *c)
{
	const char *why = parse_cidr(text, c);
	uint32_t prefixlen = c->prefixlen; /* after parse_cidr() above */
	uint8_t *key;

	if (why)
		return why;
	if (req->n_v4 + req->n_v6 >= DENY_MAX)
		return c->family = 0, "too many entries (at most 16384)";
	key = c->family == AF_INET ? (uint8_t *)&req->v4[req->n_v4++] :
				     (uint8_t *)&req->v6[req->n_v6++];
	memcpy(key, &prefixlen, sizeof(prefixlen));
	memcpy(key + sizeof(uint32_t), c->addr, c->family == AF_INET ? 4 : 16);
	c->family = 0; /* scratch: only a host-bits error leaves it set */
	return NULL;
}

/* Strict: each option takes exactly the next entry; no '=', abbreviations,
 * short options, positionals or "--". The first error in argv order wins. */
int parse_args(int argc, char *const argv[], struct request *req,
	       struct parse_error *err)
{
	const char *why;
	int i;

	memset(err, 0, sizeof(*err));
	memset(req, 0, offsetof(struct request, v4));
	req->n_v4 = req->n_v6 = 0;
	if (argc < 2)
		return fail(err, 64, "no arguments (try --help)", NULL, NULL);
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return req->action = ACT_HELP, 0;
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return req->action = ACT_VERSION, 0;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int cgroup = strcmp(arg, "--cgroup") == 0;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "--version") == 0)
			return fail(err, 64, "must stand alone", arg, NULL);
		if (!cgroup && strcmp(arg, "--deny") != 0)
			return fail(err, 64,
				    arg[0] == '-' ? "unknown option" :
						    "unexpected argument",
				    NULL, arg);
		if (i + 1 >= argc)
			return fail(err, 64, "missing value", arg, NULL);
		if (cgroup && req->cgroup)
			return fail(err, 64, "given more than once", arg, NULL);
		why = cgroup ? check_cgroup_path(argv[++i]) :
			       add_deny(req, argv[++i], &err->network);
		if (why)
			return fail(err, 65, why, arg, argv[i]);
		if (cgroup)
			req->cgroup = argv[i];
	}
	if (!req->cgroup)
		return fail(err, 64, "required", "--cgroup", NULL);
	if (req->n_v4 + req->n_v6 == 0)
		return fail(err, 64, "required at least once", "--deny", NULL);
	return 0;
}

void escape(const char *text, char *buf, size_t size, int json)
{
	size_t used = 0;

	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (used + 4 + sizeof("...") > size) {
			memcpy(buf + used, "...", sizeof("..."));
			return;
		}
		if (json && (c == '"' || c == '\\'))
			buf[used++] = '\\';
		if (json || (c > ' ' && c <= '~' && c != '\\'))
			buf[used++] = (char)c;
		else
			used += (size_t)snprintf(buf + used, 5, "\\x%02x", c);
	}
	buf[used] = '\0';
}

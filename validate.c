// SPDX-License-Identifier: MIT
/* Pure argv validation for jail-ai-ebpf-loader: see validate.h. */
#include "validate.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define CGROUP_PREFIX "/sys/fs/cgroup/"

/* The one number recipe: digits only, no sign, no leading zero, at most max. */
static int parse_decimal(const char *text, unsigned long long max,
			 unsigned long long *out)
{
	unsigned long long value = 0;
	const char *p;

	if (text[0] == '\0' || (text[0] == '0' && text[1] != '\0'))
		return -1;
	for (p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		value = value * 10 + (unsigned long long)(*p - '0');
		if (value > max)
			return -1;
	}
	*out = value;
	return 0;
}

static int has_host_bits(struct cidr *c)
{
	unsigned int bytes = c->family == AF_INET ? 4 : 16;
	unsigned int i, bit;
	int dirty = 0;

	for (i = 0; i < bytes; i++) {
		for (bit = 0; bit < 8; bit++) {
			if (i * 8 + bit < c->prefixlen)
				continue;
			if (c->addr[i] & (0x80 >> bit)) {
				c->addr[i] &= (uint8_t)~(0x80 >> bit);
				dirty = 1;
			}
		}
	}
	return dirty;
}

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* On V_HOST_BITS, *out holds the network the caller probably meant. */
enum verdict parse_cidr(const char *text, struct cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long long prefixlen;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(addr))
		return V_BAD_ADDRESS;
	memcpy(addr, text, len);
	addr[len] = '\0';
	out->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, addr, out->addr) != 1)
		return V_BAD_ADDRESS;
	out->prefixlen = out->family == AF_INET ? 32 : 128;
	if (slash) {
		if (parse_decimal(slash + 1, out->prefixlen, &prefixlen))
			return V_BAD_PREFIX;
		out->prefixlen = (unsigned int)prefixlen;
	}
	if (has_host_bits(out))
		return V_HOST_BITS;
	if (out->family == AF_INET6 && out->prefixlen >= 96 &&
	    memcmp(out->addr, v4_mapped, sizeof(v4_mapped)) == 0) {
		out->family = AF_INET;
		out->prefixlen -= 96;
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
	}
	return V_OK;
}

enum verdict check_cgroup_path(const char *path)
{
	size_t len = strnlen(path, PATH_MAX);
	size_t component = 0;
	size_t i;

	if (path[0] != '/')
		return V_PATH_NOT_ABSOLUTE;
	if (len >= PATH_MAX)
		return V_PATH_TOO_LONG;
	for (i = 0; i < len; i++)
		if (path[i] <= ' ' || path[i] > '~')
			return V_PATH_BAD_CHARACTER;
	if (strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../") ||
	    path[len - 1] == '/' ||
	    (len >= 2 && strcmp(path + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0))
		return V_PATH_NOT_CANONICAL;
	if (strncmp(path, CGROUP_PREFIX, strlen(CGROUP_PREFIX)) != 0)
		return V_PATH_OUTSIDE;
	for (i = 0; i <= len; i++) {
		if (path[i] == '/' || path[i] == '\0')
			component = 0;
		else if (++component > NAME_MAX)
			return V_PATH_TOO_LONG;
	}
	return V_OK;
}

/* (uid_t)-1 means "no uid" to the kernel: never a caller. */
enum verdict parse_uid(const char *text, uid_t *out)
{
	unsigned long long uid;

	if (parse_decimal(text, (uid_t)-2, &uid))
		return V_BAD_UID;
	*out = (uid_t)uid;
	return V_OK;
}

static enum verdict store_deny(struct request *req, const struct cidr *c)
{
	if (req->n_v4 + req->n_v6 >= DENY_MAX)
		return V_TOO_MANY;
	if (c->family == AF_INET) {
		req->v4[req->n_v4].prefixlen = c->prefixlen;
		memcpy(req->v4[req->n_v4++].addr, c->addr, 4);
	} else {
		req->v6[req->n_v6].prefixlen = c->prefixlen;
		memcpy(req->v6[req->n_v6++].addr, c->addr, 16);
	}
	return V_OK;
}

static enum verdict fail(struct parse_error *err, enum verdict verdict,
			 const char *option, const char *value)
{
	err->verdict = verdict;
	err->option = option;
	err->value = value;
	return verdict;
}

/* Strict: each option takes exactly the next entry; no '=', abbreviations,
 * short options, positionals or "--". The first error in argv order wins. */
enum verdict parse_args(int argc, char *const argv[], struct request *req,
			struct parse_error *err)
{
	enum verdict verdict;
	int i;

	memset(err, 0, sizeof(*err));
	req->action = ACT_LOAD;
	req->cgroup = NULL;
	req->n_v4 = req->n_v6 = 0;
	if (argc < 2)
		return fail(err, V_NO_ARGUMENTS, NULL, NULL);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int is_help = strcmp(arg, "--help") == 0;

		if (is_help || strcmp(arg, "--version") == 0) {
			if (argc != 2)
				return fail(err, V_NOT_ALONE, arg, NULL);
			req->action = is_help ? ACT_HELP : ACT_VERSION;
			return V_OK;
		}
		if (strcmp(arg, "--cgroup") != 0 && strcmp(arg, "--deny") != 0)
			return fail(err, arg[0] == '-' ? V_UNKNOWN_OPTION :
							 V_UNEXPECTED_ARGUMENT,
				    NULL, arg);
		if (i + 1 >= argc)
			return fail(err, V_MISSING_VALUE, arg, NULL);
		if (strcmp(arg, "--cgroup") == 0) {
			if (req->cgroup)
				return fail(err, V_GIVEN_TWICE, arg, NULL);
			verdict = check_cgroup_path(argv[++i]);
			if (verdict != V_OK)
				return fail(err, verdict, arg, argv[i]);
			req->cgroup = argv[i];
			continue;
		}
		verdict = parse_cidr(argv[++i], &err->network);
		if (verdict == V_OK)
			verdict = store_deny(req, &err->network);
		if (verdict != V_OK)
			return fail(err, verdict, arg, argv[i]);
	}
	if (!req->cgroup)
		return fail(err, V_NO_CGROUP, "--cgroup", NULL);
	if (req->n_v4 + req->n_v6 == 0)
		return fail(err, V_NO_DENY, "--deny", NULL);
	return V_OK;
}

const char *verdict_text(enum verdict verdict)
{
	switch (verdict) {
	case V_OK: return "ok";
	case V_NO_ARGUMENTS: return "no arguments (try --help)";
	case V_UNKNOWN_OPTION: return "unknown option";
	case V_UNEXPECTED_ARGUMENT: return "unexpected argument";
	case V_MISSING_VALUE: return "missing value";
	case V_GIVEN_TWICE: return "given more than once";
	case V_NO_CGROUP: return "required option missing";
	case V_NO_DENY: return "at least one is required";
	case V_NOT_ALONE: return "must be the only argument";
	case V_BAD_ADDRESS: return "not an IPv4 or IPv6 address";
	case V_BAD_PREFIX: return "prefix length must be plain decimal within 0..32 (IPv4) or 0..128 (IPv6)";
	case V_HOST_BITS: return "host bits set beyond the prefix length";
	case V_TOO_MANY: return "too many entries (at most 16384)";
	case V_PATH_NOT_ABSOLUTE: return "not an absolute path";
	case V_PATH_OUTSIDE: return "not below /sys/fs/cgroup/";
	case V_PATH_NOT_CANONICAL: return "not canonical (no '.', '..', '//' or trailing '/')";
	case V_PATH_BAD_CHARACTER: return "only printable ASCII without spaces is allowed";
	case V_PATH_TOO_LONG: return "path or component too long";
	case V_BAD_UID: return "not a plain decimal user id";
	}
	return "unknown error";
}

int verdict_exit_code(enum verdict verdict)
{
	if (verdict == V_OK)
		return 0;
	return verdict < V_BAD_ADDRESS ? 64 : 65;
}

int format_cidr(const struct cidr *cidr, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(cidr->family, cidr->addr, addr, sizeof(addr)))
		return -1;
	n = snprintf(buf, size, "%s/%u", addr, cidr->prefixlen);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* For error messages: bytes outside printable ASCII become \xNN, and long
 * values are cut with "...", so one hostile argument cannot flood a log.
 * size must be at least 8. */
void escape_for_message(const char *text, char *buf, size_t size)
{
	size_t used = 0;

	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (used + 4 + sizeof("...") > size) {
			memcpy(buf + used, "...", sizeof("..."));
			return;
		}
		if (c > ' ' && c <= '~' && c != '\\')
			buf[used++] = (char)c;
		else
			used += (size_t)snprintf(buf + used, 5, "\\x%02x", c);
	}
	buf[used] = '\0';
}

/* Validated paths are printable ASCII; only '"' and '\' need escaping. */
int escape_for_json(const char *text, char *buf, size_t size)
{
	size_t used = 0;

	for (; *text; text++) {
		if (used + 3 > size)
			return -1;
		if (*text == '"' || *text == '\\')
			buf[used++] = '\\';
		buf[used++] = *text;
	}
	buf[used] = '\0';
	return 0;
}

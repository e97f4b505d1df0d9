// SPDX-License-Identifier: MIT
/* Pure argv validation for jail-ai-ebpf-loader: see validate.h. */
#include "validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

/* The one number recipe: digits only, no sign, no leading zero, <= max. */
int parse_decimal(const char *text, unsigned long long max, unsigned long long *out)
{
	char *end;

	if ((text[0] < '1' || text[0] > '9') && strcmp(text, "0") != 0)
		return -1; /* what strtoull() would also take: sign, space, leading 0 */
	errno = 0;
	*out = strtoull(text, &end, 10);
	return *end != '\0' || errno != 0 || *out > max ? -1 : 0;
}

/* The one parser of a rule, DESIGN.md section 3: CIDR, CIDR4:PORTS[/PROTO]
 * or [CIDR6]:PORTS[/PROTO]. Unbracketed, it is CIDR4:PORTS if a '.' comes
 * before its first ':', else a CIDR (IPv6 if it holds a ':'). It is cut in
 * a copy (no valid rule is near its size, so a longer text stays invalid
 * when cut short) into address, prefix length, ports, last port, protocol.
 */
const char *parse_rule(const char *text, struct rule *out)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char buf[128], *addr = buf, *ports = NULL, *len, *last, *proto;
	struct cidr *net = &out->network;
	unsigned int bit, addr_bits, host_bits = 0;
	unsigned long long bits;
	int family;

	memset(out, 0, sizeof(*out));
	snprintf(buf, sizeof(buf), "%s", text);
	if (buf[0] == '[') {
		addr = buf + 1;
		ports = strstr(addr, "]:");
		if (!ports || !memchr(addr, ':', (size_t)(ports - addr)))
			return "brackets go around an IPv6 CIDR before :PORTS, only there";
		*ports = '\0';
		ports += 2;
	} else if (strchr(buf, ':') && memchr(buf, '.', (size_t)(strchr(buf, ':') - buf))) {
		ports = strchr(buf, ':');
		*ports++ = '\0';
	}
	len = addr; /* strsep() ends addr at the '/' and moves len past it, or to NULL */
	strsep(&len, "/");
	proto = ports;
	strsep(&proto, "/");
	last = ports;
	strsep(&last, "-");
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	addr_bits = family == AF_INET ? 32 : 128;
	if (inet_pton(family, addr, net->addr) != 1)
		return "not an IPv4 or IPv6 address";
	if (len && parse_decimal(len, addr_bits, &bits))
		return "prefix length must be plain decimal, 0..32 or 0..128";
	if (ports && (parse_decimal(ports, PORT_MAX, &out->first_port) || !out->first_port ||
		      parse_decimal(last ? last : ports, PORT_MAX, &out->last_port) ||
		      out->last_port < out->first_port))
		return "ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535";
	if (proto && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		return "protocol must be tcp or udp";
	out->protocols = ports ? PROTO_TCP | PROTO_UDP : 0;
	if (proto)
		out->protocols = proto[0] == 't' ? PROTO_TCP : PROTO_UDP;
	net->family = family;
	net->prefixlen = len ? (unsigned int)bits : addr_bits;
	for (bit = net->prefixlen; bit < addr_bits; bit++) {
		host_bits |= net->addr[bit / 8] & (0x80U >> bit % 8);
		net->addr[bit / 8] &= (uint8_t) ~(0x80U >> bit % 8);
	}
	if (host_bits)
		return "host bits set beyond the prefix length";
	if (net->prefixlen >= 96 && memcmp(net->addr, mapped, sizeof(mapped)) == 0) {
		net->family = AF_INET;
		net->prefixlen -= 96;
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
	}
	return NULL;
}

const char *check_cgroup_path(const char *path)
{
	char buf[PATH_MAX + 1], *p;

	/* each component ends in '/'; the path itself is shorter than PATH_MAX */
	if (snprintf(buf, sizeof(buf), "%s/", path) > PATH_MAX)
		return "path too long";
	for (p = buf; *p; p++)
		if (*p <= ' ' || *p > '~')
			return "only printable ASCII without spaces is allowed";
	if (strstr(buf, "//") || strstr(buf, "/./") || strstr(buf, "/../"))
		return "not canonical (no '.', '..', '//' or trailing '/')";
	for (p = buf + 1; *p; p += strcspn(p, "/") + 1) /* p: where a component starts */
		if (strcspn(p, "/") > NAME_MAX)
			return "path component too long";
	if (strncmp(path, "/sys/fs/cgroup/", strlen("/sys/fs/cgroup/")) != 0)
		return "not below /sys/fs/cgroup/";
	return NULL;
}

/* err->message: "OPTION VALUE: why", naming what is given of the two, and
 * after host bits the network meant (net->family != 0). */
static int fail(struct parse_error *err, int code, const char *why, const char *option,
		const char *value, const struct cidr *net)
{
	char shown[256] = "''", addr[INET6_ADDRSTRLEN], hint[80] = "";

	if (value && *value)
		escape(value, shown, sizeof(shown), 0);
	if (net && net->family && inet_ntop(net->family, net->addr, addr, sizeof(addr)))
		snprintf(hint, sizeof(hint), "; the network is %s/%u", addr, net->prefixlen);
	snprintf(err->message, sizeof(err->message), "%s%s%s%s%s%s", option ? option : "",
		 option && value ? " " : "", value ? shown : "", option || value ? ": " : "", why,
		 hint);
	return err->exit_code = code;
}

/* One key of a rule, allow keys at the front, deny keys at the back. */
static void add_key(struct request *req, const struct rule *rule, int deny, unsigned int kind,
		    unsigned int port)
{
	const struct cidr *net = &rule->network;
	size_t i = req->n_first;

	if (deny)
		i = KEYS_MAX - ++req->n_last;
	else
		req->n_first++;
	req->keys[i] = (struct rule_key){ .prefixlen = 32 + net->prefixlen,
					  .family = (uint8_t)net->family,
					  .kind = (uint8_t)kind,
					  .port = htons((uint16_t)port) };
	memcpy(req->keys[i].addr, net->addr, sizeof(net->addr));
	req->values[i] = rule_rank(net->prefixlen, rule->protocols != 0, deny);
}

static const char *add_rule(struct request *req, const char *text, int deny, struct rule *rule)
{
	unsigned int proto, port, level;
	const char *why;

	if (req->n_deny + req->n_allow >= RULES_MAX)
		return "too many rules (at most 16384)";
	why = parse_rule(text, rule);
	if (why)
		return why;
	req->n_v4 += (size_t)(rule->network.family == AF_INET);
	req->n_v6 += (size_t)(rule->network.family == AF_INET6);
	req->n_deny += (size_t)(deny != 0);
	req->n_allow += (size_t)(deny == 0);
	if (deny)
		add_key(req, rule, deny, KIND_DENY, 0);
	if (!rule->protocols)
		add_key(req, rule, deny, KIND_ANY_PORT, 0);
	/* Each protocol's range N-M as aligned blocks of 2^level ports, each
	 * keyed by its first port (filter.h). */
	for (proto = PROTO_TCP; proto <= PROTO_UDP; proto <<= 1) {
		port = (unsigned int)rule->first_port;
		while (rule->protocols & proto && port <= rule->last_port) {
			level = (unsigned int)__builtin_ctz(port); /* < PORT_LEVELS */
			while (port + (1U << level) - 1 > rule->last_port)
				level--;
			add_key(req, rule, deny, KIND_OF(proto) | level, port);
			port += 1U << level;
		}
	}
	return NULL;
}

/* Strict: each option takes exactly the next entry; no '=', abbreviations,
 * short options, positionals or "--". The first error in argv order wins. */
int parse_args(int argc, char *const argv[], struct request *req, struct parse_error *err)
{
	int i;

	memset(req, 0, offsetof(struct request, keys));
	if (argc < 2)
		return fail(err, EX_USAGE, "no arguments (try --help)", NULL, NULL, NULL);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "--version") == 0)) {
		req->action = strcmp(argv[1], "--help") == 0 ? ACT_HELP : ACT_VERSION;
		return 0;
	}
	for (i = 1; i < argc; i += 2) {
		struct rule rule = { 0 }; /* a fresh one: its network is a hint */
		const char *option = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL, *why;
		int cgroup = strcmp(option, "--cgroup") == 0, deny = strcmp(option, "--deny") == 0;

		if (strcmp(option, "--help") == 0 || strcmp(option, "--version") == 0)
			return fail(err, EX_USAGE, "must stand alone", option, NULL, NULL);
		if (!cgroup && !deny && strcmp(option, "--allow") != 0)
			return fail(err, EX_USAGE,
				    option[0] == '-' ? "unknown option" : "unexpected argument",
				    NULL, option, NULL);
		if (!value)
			return fail(err, EX_USAGE, "missing value", option, NULL, NULL);
		if (cgroup && req->cgroup)
			return fail(err, EX_USAGE, "given more than once", option, NULL, NULL);
		why = cgroup ? check_cgroup_path(value) : add_rule(req, value, deny, &rule);
		if (why) /* a --cgroup leaves rule.network.family 0: no hint */
			return fail(err, EX_DATAERR, why, option, value, &rule.network);
		if (cgroup)
			req->cgroup = value;
	}
	if (!req->cgroup)
		return fail(err, EX_USAGE, "required", "--cgroup", NULL, NULL);
	if (!req->n_deny)
		return fail(err, EX_USAGE, "required at least once", "--deny", NULL, NULL);
	return 0;
}

void escape(const char *text, char *buf, size_t size, int json)
{
	size_t used = 0;
	unsigned char c;

	for (; *text && used + 8 <= size; text++) {
		c = (unsigned char)*text;
		if (json && (c == '"' || c == '\\'))
			used += (size_t)sprintf(buf + used, "\\%c", c);
		else if (!json && (c <= ' ' || c > '~' || c == '\\' || c == '\''))
			used += (size_t)sprintf(buf + used, "\\x%02x", c);
		else
			used += (size_t)sprintf(buf + used, "%c", c);
	}
	snprintf(buf + used, size - used, "%s", *text ? "..." : "");
}

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

/* The one parser of a rule, DESIGN.md section 3: CIDR, CIDR4:PORTS[/PROTO]
 * or [CIDR6]:PORTS[/PROTO]. Unbracketed, it is CIDR4:PORTS if a '.' comes
 * before its first ':', else a CIDR (IPv6 if it holds a ':'). It is cut in
 * a copy (no valid rule is near its size, so a longer text stays invalid
 * when cut short) into address, prefix length, ports, last port, protocol.
 */
const char *parse_rule(const char *text, struct rule *out)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char buf[128], *addr = buf, *ports, *len, *last, *proto;
	unsigned long long bits;
	struct cidr *net = &out->network;
	unsigned int bit, host_bits = 0;

	memset(out, 0, sizeof(*out));
	snprintf(buf, sizeof(buf), "%s", text);
	ports = strchr(buf, ':');
	if (buf[0] == '[' && (ports = strstr(buf, "]:")) &&
	    memchr(buf, ':', (size_t)(ports - buf)))
		*ports = '\0', ports += 2, addr++;
	else if (buf[0] == '[')
		return "brackets go around an IPv6 CIDR before :PORTS, only there";
	else if (!ports || !memchr(buf, '.', (size_t)(ports - buf)))
		ports = NULL;
	else
		*ports++ = '\0';
	len = addr, proto = ports, strsep(&len, "/"), strsep(&proto, "/");
	last = ports, strsep(&last, "-");
	bits = strchr(addr, ':') ? 128 : 32;
	if (inet_pton(bits == 32 ? AF_INET : AF_INET6, addr, net->addr) != 1)
		return "not an IPv4 or IPv6 address";
	if (len && parse_decimal(len, bits, &bits))
		return "prefix length must be plain decimal, 0..32 or 0..128";
	if (ports &&
	    (parse_decimal(ports, 65535, &out->first_port) ||
	     !out->first_port ||
	     parse_decimal(last ? last : ports, 65535, &out->last_port) ||
	     out->last_port < out->first_port))
		return "ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535";
	if (proto && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		return "protocol must be tcp or udp";
	out->protocols = !ports ? 0 : !proto ? 3 : *proto == 't' ? 1 : 2;
	net->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	for (bit = net->prefixlen = (unsigned int)bits;
	     bit < (net->family == AF_INET ? 32U : 128U); bit++) {
		host_bits |= net->addr[bit / 8] & (0x80U >> bit % 8);
		net->addr[bit / 8] &= (uint8_t) ~(0x80U >> bit % 8);
	}
	if (host_bits)
		return "host bits set beyond the prefix length";
	if (bits >= 96 && memcmp(net->addr, mapped, sizeof(mapped)) == 0) {
		net->family = AF_INET, net->prefixlen -= 96;
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
	}
	return NULL;
}

const char *check_cgroup_path(const char *path)
{
	char buf[PATH_MAX + 1], *p, *next;

	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return "path too long";
	snprintf(buf, sizeof(buf), "%s/", path); /* each component ends in / */
	for (p = buf; *p; p++)
		if (*p <= ' ' || *p > '~')
			return "only printable ASCII without spaces is allowed";
	if (strstr(buf, "//") || strstr(buf, "/./") || strstr(buf, "/../"))
		return "not canonical (no '.', '..', '//' or trailing '/')";
	for (p = buf; (next = strchr(p + 1, '/')); p = next)
		if (next - p - 1 > NAME_MAX)
			return "path component too long";
	if (strncmp(path, "/sys/fs/cgroup/", strlen("/sys/fs/cgroup/")) != 0)
		return "not below /sys/fs/cgroup/";
	return NULL;
}

/* err->message: "OPTION VALUE: why", naming what is given of the two, and
 * after host bits the network meant (net->family != 0). */
static int fail(struct parse_error *err, int code, const char *why,
		const char *option, const char *value, const struct cidr *net)
{
	char shown[256] = "''", addr[INET6_ADDRSTRLEN], hint[80] = "";

	if (value && *value)
		escape(value, shown, sizeof(shown), 0);
	if (net && net->family &&
	    inet_ntop(net->family, net->addr, addr, sizeof(addr)))
		snprintf(hint, sizeof(hint), "; the network is %s/%u", addr,
			 net->prefixlen);
	snprintf(err->message, sizeof(err->message), "%s%s%s%s%s%s",
		 option ? option : "", option && value ? " " : "",
		 value ? shown : "", option || value ? ": " : "", why, hint);
	return err->exit_code = code;
}

/* One key of a rule, allow keys at the front, deny keys at the back. */
static void add_key(struct request *req, const struct rule *rule, int deny,
		    unsigned int kind, unsigned int port)
{
	size_t i = deny ? KEYS_MAX - ++req->n_last : req->n_first++;
	const struct cidr *net = &rule->network;

	req->keys[i] = (struct rule_key){ .prefixlen = 32 + net->prefixlen,
					  .family = (uint8_t)net->family,
					  .kind = (uint8_t)kind,
					  .port = htons((uint16_t)port) };
	memcpy(req->keys[i].addr, net->addr, sizeof(net->addr));
	req->values[i] = net->prefixlen << 2 | (rule->protocols ? 2U : 0U) |
			 (deny ? 1U : 0U);
}

/* The keys of one rule (filter.h): a range N-M of ports becomes aligned
 * blocks of 2^level ports, for each of its protocols. */
static const char *add_rule(struct request *req, const char *text, int deny,
			    struct rule *rule)
{
	unsigned int port, level, proto;
	const char *why;

	if (req->n_deny + req->n_allow >= RULES_MAX)
		return "too many rules (at most 16384)";
	if ((why = parse_rule(text, rule)))
		return why;
	*(rule->network.family == AF_INET ? &req->n_v4 : &req->n_v6) += 1;
	*(deny ? &req->n_deny : &req->n_allow) += 1;
	if (deny)
		add_key(req, rule, deny, KIND_DENY, 0);
	if (!rule->protocols)
		add_key(req, rule, deny, KIND_ANY_PORT, 0);
	for (proto = 0; proto < 2; proto++)
		for (port = (unsigned int)rule->first_port;
		     rule->protocols >> proto & 1 && port <= rule->last_port;
		     port += 1U << level) {
			level = (unsigned int)__builtin_ctz(port); /* < 16 */
			while (port + (1U << level) - 1 > rule->last_port)
				level--;
			add_key(req, rule, deny,
				(unsigned int)KIND_TCP << proto | level, port);
		}
	return NULL;
}

/* Strict: each option takes exactly the next entry; no '=', abbreviations,
 * short options, positionals or "--". The first error in argv order wins. */
int parse_args(int argc, char *const argv[], struct request *req,
	       struct parse_error *err)
{
	const char *why = argc < 2 ? "no arguments (try --help)" : NULL;
	const char *option = NULL, *value = NULL;
	int i, cgroup = 0;

	memset(req, 0, offsetof(struct request, keys));
	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "--version")))
		return req->action = argv[1][2] == 'h' ? ACT_HELP : ACT_VERSION,
		       0;
	for (i = 1; !why && i < argc; i++) {
		struct rule rule = {
			0
		}; /* a fresh one: its network is a hint */

		value = NULL, cgroup = !strcmp(option = argv[i], "--cgroup");
		if (!strcmp(option, "--help") || !strcmp(option, "--version"))
			why = "must stand alone";
		else if (!cgroup && strcmp(option, "--deny") != 0 &&
			 strcmp(option, "--allow") != 0)
			why = *option == '-' ? "unknown option" :
					       "unexpected argument",
			value = option, option = NULL;
		else if (i + 1 >= argc || (cgroup && req->cgroup))
			why = i + 1 < argc ? "given more than once" :
					     "missing value";
		else if ((why = cgroup ? check_cgroup_path(value = argv[++i]) :
					 add_rule(req, value = argv[++i],
						  option[2] == 'd', &rule)))
			return fail(err, 65, why, option, value,
				    cgroup ? NULL : &rule.network);
		else if (cgroup)
			req->cgroup = argv[i];
	}
	if (!why && (!req->cgroup || !req->n_deny))
		why = req->cgroup ? "required at least once" : "required",
		option = req->cgroup ? "--deny" : "--cgroup", value = NULL;
	return why ? fail(err, 64, why, option, value, NULL) : 0;
}

void escape(const char *text, char *buf, size_t size, int json)
{
	size_t used = 0;
	unsigned char c;

	for (; (c = (unsigned char)*text) && used + 8 <= size; text++)
		used += (size_t)sprintf(
			buf + used,
			json ? (c == '"' || c == '\\' ? "\\%c" : "%c") :
			       (c > ' ' && c <= '~' && c != '\\' && c != '\'' ?
					"%c" :
					"\\x%02x"),
			c);
	snprintf(buf + used, size - used, "%s", *text ? "..." : "");
}

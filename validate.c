// SPDX-License-Identifier: MIT
/* Pure argv validation for jail-ai-ebpf-loader: see validate.h. */
#include "validate.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define BAD_PORTS "ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535"

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
 * a copy: address, prefix length, first port, last port, protocol. */
const char *parse_rule(const char *text, struct rule *out)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char buf[128], *addr = buf, *ports, *len, *last = NULL, *proto = NULL;
	unsigned long long prefixlen, first = 0, final = 0;
	unsigned int bit, host_bits = 0;
	int family;

	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(buf))
		return "too long for a rule";
	ports = strchr(strcpy(buf, text), ':');
	if (buf[0] == '[') {
		ports = strstr(buf, "]:");
		if (!ports || !memchr(buf, ':', (size_t)(ports - buf)))
			return "brackets go around an IPv6 CIDR before :PORTS, only there";
		*ports = '\0', ports += 2, addr++;
	} else if (ports && memchr(buf, '.', (size_t)(ports - buf))) {
		*ports++ = '\0';
	} else {
		ports = NULL;
	}
	if ((len = strchr(addr, '/')))
		*len++ = '\0';
	if (ports && (proto = strchr(ports, '/')))
		*proto++ = '\0';
	if (ports && (last = strchr(ports, '-')))
		*last++ = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	prefixlen = family == AF_INET ? 32 : 128;
	if (inet_pton(family, addr, out->network.addr) != 1)
		return "not an IPv4 or IPv6 address";
	if (len && parse_decimal(len, prefixlen, &prefixlen))
		return "prefix length must be plain decimal, 0..32 or 0..128";
	if (ports && (parse_decimal(ports, 65535, &first) || first == 0 ||
		      parse_decimal(last ? last : ports, 65535, &final) ||
		      final < first))
		return BAD_PORTS;
	out->protocols = !ports ? 0 : !proto ? 3 : 4;
	if (proto && (out->protocols = !strcmp(proto, "tcp") ? 1 :
				       !strcmp(proto, "udp") ? 2 :
							       0) == 0)
		return "protocol must be tcp or udp";
	out->first_port = (unsigned int)first;
	out->last_port = (unsigned int) final;
	out->network.family = family;
	out->network.prefixlen = (unsigned int)prefixlen;
	for (bit = (unsigned int)prefixlen;
	     bit < (family == AF_INET ? 32U : 128U); bit++) {
		host_bits |= out->network.addr[bit / 8] & (0x80U >> bit % 8);
		out->network.addr[bit / 8] &= (uint8_t) ~(0x80U >> bit % 8);
	}
	if (host_bits)
		return "host bits set beyond the prefix length";
	if (family == AF_INET6 && prefixlen >= 96 &&
	    memcmp(out->network.addr, mapped, sizeof(mapped)) == 0) {
		out->network.family = AF_INET;
		out->network.prefixlen -= 96;
		memmove(out->network.addr, out->network.addr + 12, 4);
		memset(out->network.addr + 4, 0, 12);
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

/* err->message: "OPTION VALUE: why", naming what is given of the two. */
static int fail(struct parse_error *err, int code, const char *why,
		const char *option, const char *value)
{
	char shown[256] = "''";

	if (value && *value)
		escape(value, shown, sizeof(shown), 0);
	snprintf(err->message, sizeof(err->message), "%s%s%s%s%s",
		 option ? option : "", option && value ? " " : "",
		 value ? shown : "", option || value ? ": " : "", why);
	return err->exit_code = code;
}

/* The keys of one rule, as filter.h describes them. */
static void add_key(struct request *req, const struct rule *rule, int deny,
		    unsigned int kind, unsigned int port)
{
	size_t i = deny ? KEYS_MAX - ++req->n_last : req->n_first++;

	req->keys[i] = (struct rule_key){
		.prefixlen = 32 + rule->network.prefixlen,
		.family = rule->network.family == AF_INET ? 4 : 6,
		.kind = (uint8_t)kind,
		.port = htons((uint16_t)port),
	};
	memcpy(req->keys[i].addr, rule->network.addr, 16);
	req->values[i] = rule->network.prefixlen << 2 |
			 (rule->protocols ? 2U : 0U) | (deny ? 1U : 0U);
}

/* A range N-M of ports is cut into aligned blocks of 2^level ports. */
static const char *add_rule(struct request *req, const char *text, int deny,
			    struct rule *rule)
{
	const char *why = parse_rule(text, rule);
	unsigned int port, level, protocol;

	if (!why && req->n_deny + req->n_allow >= RULES_MAX)
		why = "too many rules (at most 16384)",
		rule->network.family = 0;
	if (why)
		return why;
	*(rule->network.family == AF_INET ? &req->n_v4 : &req->n_v6) += 1;
	*(deny ? &req->n_deny : &req->n_allow) += 1;
	if (deny)
		add_key(req, rule, deny, KIND_DENY, 0);
	if (!rule->protocols)
		add_key(req, rule, deny, KIND_ANY_PORT, 0);
	for (protocol = 0; protocol < 2; protocol++)
		for (port = rule->first_port;
		     rule->protocols & (1U << protocol) &&
		     port <= rule->last_port;
		     port += 1U << level) {
			for (level = 0;
			     port % (2U << level) == 0 &&
			     port + (2U << level) - 1 <= rule->last_port;
			     level++)
				;
			add_key(req, rule, deny, (KIND_TCP << protocol) | level,
				port);
			req->levels[protocol] |= 1U << level;
		}
	return NULL;
}

/* Strict: each option takes exactly the next entry; no '=', abbreviations,
 * short options, positionals or "--". The first error in argv order wins. */
int parse_args(int argc, char *const argv[], struct request *req,
	       struct parse_error *err)
{
	char network[INET6_ADDRSTRLEN];
	struct rule rule = { 0 };
	const char *why;
	int i;

	memset(req, 0, offsetof(struct request, keys));
	req->n_first = req->n_last = req->levels[0] = req->levels[1] = 0;
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return req->action = ACT_HELP, 0;
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return req->action = ACT_VERSION, 0;
	if (argc < 2)
		return fail(err, 64, "no arguments (try --help)", NULL, NULL);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int cgroup = strcmp(arg, "--cgroup") == 0;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "--version") == 0)
			return fail(err, 64, "must stand alone", arg, NULL);
		if (!cgroup && strcmp(arg, "--deny") && strcmp(arg, "--allow"))
			return fail(err, 64,
				    arg[0] == '-' ? "unknown option" :
						    "unexpected argument",
				    NULL, arg);
		if (i + 1 >= argc)
			return fail(err, 64, "missing value", arg, NULL);
		if (cgroup && req->cgroup)
			return fail(err, 64, "given more than once", arg, NULL);
		why = cgroup ? check_cgroup_path(argv[++i]) :
			       add_rule(req, argv[++i], arg[2] == 'd', &rule);
		if (why && !cgroup && rule.network.family &&
		    inet_ntop(rule.network.family, rule.network.addr, network,
			      sizeof(network)))
			snprintf(err->hint, sizeof(err->hint),
				 "%s; the network is %s/%u", why, network,
				 rule.network.prefixlen),
				why = err->hint;
		if (why)
			return fail(err, 65, why, arg, argv[i]);
		req->cgroup = cgroup ? argv[i] : req->cgroup;
	}
	if (!req->cgroup || !req->n_deny)
		return fail(err, 64,
			    req->cgroup ? "required at least once" : "required",
			    req->cgroup ? "--deny" : "--cgroup", NULL);
	for (i = 0; i < 2; i++) { /* the level masks of filter.h */
		req->keys[req->n_first] =
			(struct rule_key){ .prefixlen = 16,
					   .kind = (uint8_t)(KIND_TCP << i) };
		req->values[req->n_first++] = req->levels[i];
	}
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

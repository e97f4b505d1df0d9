/* SPDX-License-Identifier: MIT */
/*
 * The contract of parse_args()'s keys and values (filter.h, validate.h),
 * written independently of validate.c's add_rule(), shared by the unit
 * tests and the fuzz harness. From the rules in argv (each parsed again
 * with parse_rule, itself held to DESIGN.md by the differential test) it
 * builds every key the kernel's trie must hold, and compares them, as
 * multisets, with what parse_args stored:
 *  - keys[0 .. n_first): each --allow rule's keys;
 *  - keys[KEYS_MAX - n_last .. KEYS_MAX): each --deny rule's keys (loaded
 *    last, so a deny replaces an allow of the same key);
 *  - a rule's keys: KIND_DENY (deny rules only, port 0), KIND_ANY_PORT
 *    (no port part, port 0), or for each of its protocols the smallest set
 *    of aligned blocks of 2^level ports covering exactly first..last (cut
 *    here top-down, from the block of all 65536 ports: a different route
 *    to the same blocks), each keyed KIND_TCP or KIND_UDP | level and its
 *    first port; prefix length 32 + the rule's; family AF_INET or
 *    AF_INET6; address as parsed; value (rule prefix << 2 | has ports << 1
 *    | deny);
 *  - counts per family and per action as the rules say.
 * keys_contract() returns NULL if all holds, else what does not.
 */
#ifndef JAIL_AI_KEYS_CONTRACT_H
#define JAIL_AI_KEYS_CONTRACT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../validate.h"

/* KEYS_MAX, computed in size_t. */
#define KEYS_ALL ((size_t)RULES_MAX * KEYS_PER_RULE)

struct keyval {
	struct rule_key key;
	uint32_t value;
};

static int keyval_order(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct keyval));
}

static void keyval_put(struct keyval *out, size_t *n, const struct rule *r, unsigned int kind,
		       unsigned int port, int deny)
{
	struct keyval *kv = &out[(*n)++];

	memset(kv, 0, sizeof(*kv));
	kv->key.prefixlen = 32 + r->network.prefixlen;
	kv->key.family = (uint8_t)r->network.family;
	kv->key.kind = (uint8_t)kind;
	kv->key.port = htons((uint16_t)port);
	memcpy(kv->key.addr, r->network.addr, sizeof(kv->key.addr));
	/* The rank, spelled out from its bits (filter.h), not with rule_rank(). */
	kv->value = r->network.prefixlen << RANK_PREFIX_SHIFT | (r->protocols ? RANK_PORTS : 0U) |
		    (deny ? RANK_DENY : 0U);
}

/* The blocks of [start, start + 2^level) inside [first, last], top-down. */
static void keyval_cover(struct keyval *out, size_t *n, const struct rule *r, int deny,
			 unsigned int protocol, unsigned int start, unsigned int level)
{
	unsigned int end = start + (1U << level) - 1;

	if (end < r->first_port || start > r->last_port)
		return;
	if (start >= r->first_port && end <= r->last_port) {
		keyval_put(out, n, r, (protocol == PROTO_TCP ? KIND_TCP : KIND_UDP) | level, start,
			   deny);
		return;
	}
	keyval_cover(out, n, r, deny, protocol, start, level - 1);
	keyval_cover(out, n, r, deny, protocol, start + (1U << (level - 1)), level - 1);
}

static size_t keyval_rule(struct keyval *out, size_t n, const struct rule *r, int deny)
{
	unsigned int protocol;

	if (deny)
		keyval_put(out, &n, r, KIND_DENY, 0, deny);
	if (!r->protocols)
		keyval_put(out, &n, r, KIND_ANY_PORT, 0, deny);
	for (protocol = PROTO_TCP; protocol <= PROTO_UDP; protocol <<= 1)
		if (r->protocols & protocol)
			keyval_cover(out, &n, r, deny, protocol, 0, PORT_LEVELS);
	return n;
}

/* keys[from .. from + n) with their values, sorted. */
static struct keyval *keyval_stored(const struct request *req, size_t from, size_t n)
{
	struct keyval *got = calloc(n ? n : 1, sizeof(*got));
	size_t i;

	if (!got)
		abort();
	for (i = 0; i < n; i++) {
		got[i].key = req->keys[from + i];
		got[i].value = req->values[from + i];
	}
	qsort(got, n, sizeof(*got), keyval_order);
	return got;
}

static int keyval_same(const struct request *req, size_t from, size_t n, struct keyval *want,
		       size_t n_want)
{
	struct keyval *got;
	int same;

	if (n != n_want)
		return 0;
	got = keyval_stored(req, from, n);
	qsort(want, n_want, sizeof(*want), keyval_order);
	same = n == 0 || memcmp(got, want, n * sizeof(*got)) == 0;
	free(got);
	return same;
}

static const char *keys_contract(int argc, char *const argv[], const struct request *req)
{
	size_t rules = 0, n_front = 0, n_back = 0, v4 = 0, v6 = 0, deny = 0;
	struct keyval *front, *back;
	const char *broken = NULL;
	struct rule r;
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--deny") == 0 || strcmp(argv[i], "--allow") == 0)
			rules++, i++;
		else if (strcmp(argv[i], "--cgroup") == 0)
			i++;
	front = calloc(rules * KEYS_PER_RULE + 1, sizeof(*front));
	back = calloc(rules * KEYS_PER_RULE + 1, sizeof(*back));
	if (!front || !back)
		abort();
	for (i = 1; i + 1 < argc; i++) {
		int is_deny = strcmp(argv[i], "--deny") == 0;

		if (!is_deny && strcmp(argv[i], "--allow") != 0) {
			i += strcmp(argv[i], "--cgroup") == 0;
			continue;
		}
		if (parse_rule(argv[++i], &r) != NULL) {
			broken = "a rule of an accepted argv does not parse";
			goto out;
		}
		*(r.network.family == AF_INET ? &v4 : &v6) += 1;
		deny += is_deny != 0;
		if (is_deny)
			n_back = keyval_rule(back, n_back, &r, 1);
		else
			n_front = keyval_rule(front, n_front, &r, 0);
	}
	if (req->n_v4 != v4 || req->n_v6 != v6)
		broken = "rules per family (n_v4, n_v6) differ from argv";
	else if (req->n_deny != deny || req->n_allow != rules - deny)
		broken = "rules per action (n_deny, n_allow) differ from argv";
	else if (rules < 1 || rules > RULES_MAX || deny < 1)
		broken = "accepted without 1..16384 rules and a --deny";
	else if (req->n_first > KEYS_ALL || req->n_last > KEYS_ALL ||
		 req->n_first + req->n_last > KEYS_ALL)
		broken = "the two segments overflow KEYS_MAX";
	else if (!keyval_same(req, 0, req->n_first, front, n_front))
		broken = "the front segment is not the allow rules' keys";
	else if (!keyval_same(req, KEYS_ALL - req->n_last, req->n_last, back, n_back))
		broken = "the back segment is not the deny rules' keys";
out:
	free(front);
	free(back);
	return broken;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Pure validation of jail-ai-ebpf-loader's argv: strings in, results out.
 * No I/O, no exit, no globals, so the same object links into the loader,
 * the unit tests and the fuzzer.
 *
 * The checks return NULL for valid input, else a static string saying why
 * it is not (the loader prints it after the offending argument).
 */
#ifndef JAIL_AI_VALIDATE_H
#define JAIL_AI_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "filter.h"

struct cidr {
	int family; /* AF_INET or AF_INET6; 0 after an error */
	unsigned int prefixlen;
	uint8_t addr[16]; /* network byte order */
};

/* One --deny or --allow value (DESIGN.md section 3). */
struct rule {
	struct cidr network;
	unsigned int protocols; /* bit 0 TCP, bit 1 UDP; 0: no port part */
	unsigned long long first_port, last_port; /* 1..65535, or 0 */
};

enum action { ACT_LOAD, ACT_HELP, ACT_VERSION };

/* The trie's keys and values (filter.h), in the order they must be loaded:
 * keys[0 .. n_first), then keys[KEYS_MAX - n_last .. KEYS_MAX), which hold
 * the deny rules' keys: loaded last, a deny replaces an allow of the same
 * key, as "deny wins a tie" says. */
struct request {
	enum action action;
	const char *cgroup;
	size_t n_v4, n_v6; /* rules per family */
	size_t n_deny, n_allow; /* rules per action */
	size_t n_first, n_last; /* keys at the front and at the back */
	struct rule_key keys[KEYS_MAX];
	uint32_t values[KEYS_MAX];
};

struct parse_error {
	int exit_code; /* 64: grammar (usage), 65: data */
	char message[512]; /* "OPTION VALUE: why": what the loader prints */
};

/* CIDR, CIDR4:PORTS[/PROTO] or [CIDR6]:PORTS[/PROTO]. Host bits set:
 * returns why, and out->network is the network meant; any other error
 * leaves out->network.family 0. IPv4-mapped IPv6 comes back as IPv4. */
const char *parse_rule(const char *text, struct rule *out);
const char *check_cgroup_path(const char *path);
/* Digits only, no sign, no leading zero, at most max: 0, else -1. */
int parse_decimal(const char *text, unsigned long long max, unsigned long long *out);
/* 0 when argv is valid (req filled), else the exit code (err filled). The
 * offending value is shown escaped (escape(), at most 255 bytes), '' if
 * empty. */
int parse_args(int argc, char *const argv[], struct request *req, struct parse_error *err);

/* json: '"' and '\' get a backslash. Otherwise, for messages: bytes outside
 * printable ASCII, '\' and '\'' become \xNN (so an empty argument, shown as
 * '', is told from one that is two quotes). Either way a text too long for buf
 * is cut with "..." (size must be at least 8). */
void escape(const char *text, char *buf, size_t size, int json);

#endif

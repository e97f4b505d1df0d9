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

#define DENY_MAX 16384

/* Keys as the kernel's LPM tries take them: prefix length, then the address
 * in network byte order. */
struct key_v4 {
	uint32_t prefixlen;
	uint8_t addr[4];
};

struct key_v6 {
	uint32_t prefixlen;
	uint8_t addr[16];
};

struct cidr {
	int family; /* AF_INET or AF_INET6; 0 after an error */
	unsigned int prefixlen;
	uint8_t addr[16];
};

enum action { ACT_LOAD, ACT_HELP, ACT_VERSION };

struct request {
	enum action action;
	const char *cgroup;
	struct key_v4 *v4; /* caller's storage for DENY_MAX entries */
	struct key_v6 *v6; /* caller's storage for DENY_MAX entries */
	size_t n_v4;
	size_t n_v6;
};

struct parse_error {
	int exit_code; /* 64: grammar (usage), 65: data */
	const char *why;
	const char *option; /* the option concerned, or NULL */
	const char *value; /* the offending argv entry ("''" if empty), or NULL */
	struct cidr network; /* family != 0: host bits were set; this is the
				network the caller probably meant */
};

/* Host bits set: returns why, and *out is the network meant. Any other
 * error leaves out->family 0. IPv4-mapped IPv6 comes back as IPv4. */
const char *parse_cidr(const char *text, struct cidr *out);
const char *check_cgroup_path(const char *path);
/* Digits only, no sign, no leading zero, at most max: 0, else -1. */
int parse_decimal(const char *text, unsigned long long max,
		  unsigned long long *out);
/* 0 when argv is valid (req filled), else the exit code (err filled). */
int parse_args(int argc, char *const argv[], struct request *req,
	       struct parse_error *err);

/* json: '"' and '\' get a backslash. Otherwise, for messages: bytes outside
 * printable ASCII and '\' become \xNN. Either way a text too long for buf
 * is cut with "..." (size must be at least 8). */
void escape(const char *text, char *buf, size_t size, int json);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Pure validation of jail-ai-ebpf-loader's argv: strings in, results out.
 * No I/O, no exit, no globals, so the same object links into the loader,
 * the unit tests and the fuzzer.
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
	int family; /* AF_INET or AF_INET6 */
	unsigned int prefixlen;
	uint8_t addr[16];
};

enum verdict {
	V_OK,
	/* grammar: exit 64 */
	V_NO_ARGUMENTS,
	V_UNKNOWN_OPTION,
	V_UNEXPECTED_ARGUMENT,
	V_MISSING_VALUE,
	V_GIVEN_TWICE,
	V_NO_CGROUP,
	V_NO_DENY,
	V_NOT_ALONE,
	/* data: exit 65 */
	V_BAD_ADDRESS,
	V_BAD_PREFIX,
	V_HOST_BITS,
	V_TOO_MANY,
	V_PATH_NOT_ABSOLUTE,
	V_PATH_OUTSIDE,
	V_PATH_NOT_CANONICAL,
	V_PATH_BAD_CHARACTER,
	V_PATH_TOO_LONG,
	V_BAD_UID,
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
	enum verdict verdict;
	const char *option; /* the option concerned, or NULL */
	const char *value; /* the offending argv entry, or NULL */
	struct cidr network; /* for V_HOST_BITS: the network meant */
};

enum verdict parse_cidr(const char *text, struct cidr *out);
enum verdict check_cgroup_path(const char *path);
enum verdict parse_uid(const char *text, uid_t *out);
enum verdict parse_args(int argc, char *const argv[], struct request *req,
			struct parse_error *err);

const char *verdict_text(enum verdict verdict);
int verdict_exit_code(enum verdict verdict);
int format_cidr(const struct cidr *cidr, char *buf, size_t size);
void escape_for_message(const char *text, char *buf, size_t size);
int escape_for_json(const char *text, char *buf, size_t size);

#endif

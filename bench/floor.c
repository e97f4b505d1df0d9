// SPDX-License-Identifier: MIT
/*
 * floor --cgroup PATH (--deny|--allow RULE)...: the least a program can do
 * to get the same filter attached, the yardstick the loader is measured
 * against. It takes the loader's argv, so both read the same input, and
 * makes only the kernel calls the job needs: the light skeleton creates the
 * rule trie and loads the six programs, BPF_MAP_UPDATE_BATCH fills the trie
 * with the same keys as the loader's (bench/rules.h; the deny rules' keys
 * last, so a deny replaces an allow of the same key), and six
 * BPF_PROG_ATTACH calls attach them. No hygiene, seccomp, validation beyond
 * inet_pton, ownership check, replacement, capability drop or report.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filter.lskel.h"
#include "rules.h"

#define ROOM ((size_t)KEYS_MAX)

/* allow keys from the front, deny keys from the back, as the loader */
static struct rule_key keys[ROOM];
static __u32 values[ROOM];

__attribute__((noreturn)) static void fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(3);
}

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static void fill(int map_fd, size_t from, size_t count)
{
	union bpf_attr attr;

	if (count == 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = (__u32)map_fd;
	attr.batch.keys = (__u64)(unsigned long)(keys + from);
	attr.batch.values = (__u64)(unsigned long)(values + from);
	attr.batch.count = (__u32)count;
	if (sys_bpf(BPF_MAP_UPDATE_BATCH, &attr) < 0)
		fail("BPF_MAP_UPDATE_BATCH");
}

static void attach(int cgroup_fd, int prog_fd, enum bpf_attach_type type)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgroup_fd;
	attr.attach_bpf_fd = (__u32)prog_fd;
	attr.attach_type = type;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		fail("BPF_PROG_ATTACH");
}

int main(int argc, char **argv)
{
	static const enum bpf_attach_type types[] = {
		BPF_CGROUP_SOCK_OPS,	  BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_UDP4_SENDMSG,
		BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_UDP6_SENDMSG,  BPF_CGROUP_INET_EGRESS,
	};
	struct rule_key rule[KEYS_PER_RULE];
	__u32 rank[KEYS_PER_RULE];
	size_t n_first = 0, n_last = 0;
	struct filter *skel;
	int cgroup_fd, i, j, n, deny, progs[6];

	if (argc < 5 || strcmp(argv[1], "--cgroup") != 0) {
		fprintf(stderr, "usage: floor --cgroup PATH --deny RULE...\n");
		return 2;
	}
	for (i = 3; i + 1 < argc; i += 2) {
		deny = strcmp(argv[i], "--deny") == 0;
		n = deny || strcmp(argv[i], "--allow") == 0 ?
			    rule_keys(argv[i + 1], deny, rule, rank) :
			    -1;
		if (n < 0 || n_first + n_last + (size_t)n > ROOM) {
			fprintf(stderr, "floor: bad argument %s\n", argv[i + 1]);
			return 2;
		}
		for (j = 0; j < n; j++) {
			size_t at = deny ? ROOM - ++n_last : n_first++;

			keys[at] = rule[j];
			values[at] = rank[j];
		}
	}
	cgroup_fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0)
		fail(argv[2]);
	skel = filter__open();
	if (!skel || filter__load(skel) < 0)
		fail("loading the light skeleton");
	fill(skel->maps.rules.map_fd, 0, n_first);
	fill(skel->maps.rules.map_fd, ROOM - n_last, n_last);
	progs[0] = skel->progs.jailai_sockops.prog_fd;
	progs[1] = skel->progs.jailai_connect4.prog_fd;
	progs[2] = skel->progs.jailai_sendmsg4.prog_fd;
	progs[3] = skel->progs.jailai_connect6.prog_fd;
	progs[4] = skel->progs.jailai_sendmsg6.prog_fd;
	progs[5] = skel->progs.jailai_egress.prog_fd;
	for (i = 0; i < 6; i++)
		attach(cgroup_fd, progs[i], types[i]);
	return 0;
}

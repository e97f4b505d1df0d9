// SPDX-License-Identifier: MIT
/*
 * floor --cgroup PATH --deny CIDR...: the least a program can do to get the
 * same filter attached, the yardstick the loader is measured against. It
 * takes the loader's argv, so both read the same input, and makes only the
 * kernel calls the job needs: the light skeleton creates the two LPM maps
 * and loads the five programs, one BPF_MAP_UPDATE_BATCH fills each map, and
 * five BPF_PROG_ATTACH calls attach them. No hygiene, seccomp, validation
 * beyond inet_pton, ownership check, replacement, capability drop or report.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filter.lskel.h"

#define DENY_MAX 16384

struct key_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct key_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

static struct key_v4 deny_v4[DENY_MAX];
static struct key_v6 deny_v6[DENY_MAX];
static __u8 values[DENY_MAX];

__attribute__((noreturn)) static void fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(3);
}

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* "ADDR[/LEN]" into the trie key of its family; no other checks. */
static int parse(char *text, size_t *n_v4, size_t *n_v6)
{
	char *slash = strchr(text, '/');
	int v6 = strchr(text, ':') != NULL;
	unsigned long len = v6 ? 128 : 32;

	if (slash) {
		*slash = '\0';
		len = strtoul(slash + 1, NULL, 10);
	}
	if (v6 && *n_v6 < DENY_MAX) {
		deny_v6[*n_v6].prefixlen = (__u32)len;
		return inet_pton(AF_INET6, text, deny_v6[(*n_v6)++].addr) == 1;
	}
	if (!v6 && *n_v4 < DENY_MAX) {
		deny_v4[*n_v4].prefixlen = (__u32)len;
		return inet_pton(AF_INET, text, deny_v4[(*n_v4)++].addr) == 1;
	}
	return 0;
}

static void fill(int map_fd, const void *keys, size_t count)
{
	union bpf_attr attr;

	if (count == 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = (__u32)map_fd;
	attr.batch.keys = (__u64)(unsigned long)keys;
	attr.batch.values = (__u64)(unsigned long)values;
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
	size_t n_v4 = 0, n_v6 = 0;
	struct filter *skel;
	int cgroup_fd, i;

	if (argc < 5 || strcmp(argv[1], "--cgroup") != 0) {
		fprintf(stderr, "usage: floor --cgroup PATH --deny CIDR...\n");
		return 2;
	}
	for (i = 3; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "--deny") != 0 ||
		    !parse(argv[i + 1], &n_v4, &n_v6)) {
			fprintf(stderr, "floor: bad argument %s\n",
				argv[i + 1]);
			return 2;
		}
	cgroup_fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0)
		fail(argv[2]);
	skel = filter__open();
	if (!skel || filter__load(skel) < 0)
		fail("loading the light skeleton");
	memset(values, 1, sizeof(values));
	fill(skel->maps.deny_v4.map_fd, deny_v4, n_v4);
	fill(skel->maps.deny_v6.map_fd, deny_v6, n_v6);
	attach(cgroup_fd, skel->progs.jailai_connect4.prog_fd,
	       BPF_CGROUP_INET4_CONNECT);
	attach(cgroup_fd, skel->progs.jailai_sendmsg4.prog_fd,
	       BPF_CGROUP_UDP4_SENDMSG);
	attach(cgroup_fd, skel->progs.jailai_connect6.prog_fd,
	       BPF_CGROUP_INET6_CONNECT);
	attach(cgroup_fd, skel->progs.jailai_sendmsg6.prog_fd,
	       BPF_CGROUP_UDP6_SENDMSG);
	attach(cgroup_fd, skel->progs.jailai_egress.prog_fd,
	       BPF_CGROUP_INET_EGRESS);
	return 0;
}

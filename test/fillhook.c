// SPDX-License-Identifier: MIT
/*
 * fillhook CGROUP HOOK COUNT|full|exclusive [NAME]
 *
 * Test helper: load COUNT distinct trivial programs that allow everything
 * (return 1) for HOOK (sockops, connect4, sendmsg4, connect6, sendmsg6 or
 * egress) and
 * attach each to the cgroup directory CGROUP with BPF_F_ALLOW_MULTI, as some
 * other tool would. "full" attaches until the kernel refuses with E2BIG (its
 * per-hook limit of 64). "exclusive" attaches one program without any flag,
 * as older systemd versions do: the kernel then refuses every other program
 * on that hook of CGROUP and of its descendants with EPERM. The programs are
 * named NAME (default "jt_other", never our "jailai_" prefix) and stay
 * attached after exit: the cgroup holds them, and removing the cgroup frees
 * them.
 *
 * Prints the id of each program attached, one per line, then "attached N";
 * exits 0 if COUNT programs (or, with "full", at least one) were attached,
 * 2 on bad usage, 71 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum bpf_prog_type prog_type;
	enum bpf_attach_type attach_type;
} hooks[] = {
	{ "sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS },
	{ "connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT },
	{ "sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG },
	{ "connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT },
	{ "sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG },
	{ "egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS },
};

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int load(size_t hook, const char *name)
{
	static const struct bpf_insn ret1[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = hooks[hook].prog_type;
	attr.expected_attach_type = hooks[hook].attach_type;
	attr.insns = (__u64)(unsigned long)ret1;
	attr.insn_cnt = 2;
	attr.license = (__u64)(unsigned long)"Dual MIT/GPL";
	strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
	return sys_bpf(BPF_PROG_LOAD, &attr);
}

static __u32 id_of(int prog_fd)
{
	struct bpf_prog_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)prog_fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? 0 : info.id;
}

int main(int argc, char **argv)
{
	const char *name = argc > 4 ? argv[4] : "jt_other";
	size_t hook, n_hooks = sizeof(hooks) / sizeof(hooks[0]);
	long count, attached = 0;
	union bpf_attr attr;
	int cgroup_fd, prog_fd, full, exclusive;
	char *end;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: fillhook CGROUP HOOK COUNT|full|exclusive [NAME]\n");
		return 2;
	}
	for (hook = 0; hook < n_hooks && strcmp(hooks[hook].name, argv[2]) != 0; hook++)
		;
	full = strcmp(argv[3], "full") == 0;
	exclusive = strcmp(argv[3], "exclusive") == 0;
	count = full ? 1000 : exclusive ? 1 : strtol(argv[3], &end, 10);
	if (hook == n_hooks || (!full && !exclusive && (*end || count < 1 || count > 1000))) {
		fprintf(stderr, "fillhook: bad hook or count\n");
		return 2;
	}
	cgroup_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0) {
		perror(argv[1]);
		return 71;
	}
	while (attached < count) {
		prog_fd = load(hook, name);
		if (prog_fd < 0) {
			perror("fillhook: BPF_PROG_LOAD");
			break;
		}
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (__u32)cgroup_fd;
		attr.attach_bpf_fd = (__u32)prog_fd;
		attr.attach_type = hooks[hook].attach_type;
		attr.attach_flags = exclusive ? 0 : BPF_F_ALLOW_MULTI;
		if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
			if (!(full && errno == E2BIG))
				perror("fillhook: BPF_PROG_ATTACH");
			close(prog_fd);
			break;
		}
		printf("%u\n", id_of(prog_fd));
		close(prog_fd); /* the cgroup keeps its own reference */
		attached++;
	}
	printf("attached %ld\n", attached);
	return (full ? attached > 0 : attached == count) ? 0 : 71;
}

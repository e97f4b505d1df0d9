// SPDX-License-Identifier: MIT
/*
 * jail-ai-ebpf-loader: attach the embedded eBPF filter to one cgroup v2
 * directory, so every socket in it is refused the denied addresses; exit.
 *
 * Run as root through sudo. The contract is DESIGN.md; main() follows its
 * order of operations, and each step MUST happen before the next:
 *  1. hygiene, touching no input: fds 0-2 open, others closed, umask, cwd,
 *     not dumpable, allocator warmed so later steps need no brk/mmap;
 *  2. seccomp allowlist, before anything looks at argv;
 *  3. parse and validate all of argv: any error exits before any bpf();
 *  4. open the cgroup one component at a time, judge the descriptor, and
 *     authorize the caller against its owner;
 *  5. build the whole filter (maps filled, programs loaded), unattached;
 *  6. attach, replacing our previous programs in place; undo on failure;
 *  7. drop all capabilities, verify, report one JSON line, exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <seccomp.h>
#include <unistd.h>

#include "filter.lskel.h"
#include "validate.h"

#define PROG "jail-ai-ebpf-loader"
#define VERSION "0.1.0"
#define OUR_PREFIX "jailai_"
#define HOOKS 5
#define OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

enum { EX_USAGE_ = 64, EX_NOINPUT_ = 66, EX_UNAVAILABLE_ = 69,
       EX_OSERR_ = 71, EX_NOPERM_ = 77 };

static const struct hook {
	enum bpf_attach_type type;
	const char *name;
} hooks[HOOKS] = {
	{ BPF_CGROUP_INET4_CONNECT, "connect4" },
	{ BPF_CGROUP_UDP4_SENDMSG, "sendmsg4" },
	{ BPF_CGROUP_INET6_CONNECT, "connect6" },
	{ BPF_CGROUP_UDP6_SENDMSG, "sendmsg6" },
	{ BPF_CGROUP_INET_EGRESS, "egress" },
};

static struct key_v4 deny_v4[DENY_MAX];
static struct key_v6 deny_v6[DENY_MAX];
static __u8 deny_values[DENY_MAX];

static const char usage[] =
	"usage: " PROG " --cgroup PATH --deny CIDR [--deny CIDR]...\n"
	"       " PROG " --help | --version\n"
	"Attach a filter to the cgroup v2 directory PATH (below /sys/fs/cgroup/)\n"
	"that refuses every connection and datagram to the denied addresses\n"
	"(IPv4 or IPv6, optionally /LEN; 1 to 16384 entries), then exit.\n"
	"Exit: 0 attached, 64 usage, 65 bad data, 66 no such cgroup v2 directory,\n"
	"69 kernel feature missing, 71 system error, 77 not permitted.\n";

__attribute__((noreturn, format(printf, 2, 3))) static void
die(int code, const char *fmt, ...)
{
	char msg[1024];
	int len = snprintf(msg, sizeof(msg), PROG ": ");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + len, sizeof(msg) - (size_t)len - 1, fmt, ap);
	va_end(ap);
	len = (int)strlen(msg);
	msg[len++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)len) < 0)
		_exit(code);
	_exit(code);
}

/* EPERM from the kernel means "not permitted" (77); anything else is 71. */
__attribute__((noreturn)) static void die_errno(const char *what)
{
	int err = errno;

	die(err == EPERM || err == EACCES ? EX_NOPERM_ : EX_OSERR_, "%s: %s",
	    what, strerror(err));
}

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static void hygiene(void)
{
	void *volatile warm; /* volatile: the compiler may not elide it */
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(EX_OSERR_);
	if (close_range(3, ~0U, 0) < 0 || chdir("/") < 0 ||
	    prctl(PR_SET_DUMPABLE, 0) < 0)
		_exit(EX_OSERR_);
	umask(077);
	/* After this, malloc never needs brk or mmap again (seccomp). */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	warm = malloc(256 << 10);
	free(warm);
	/* Fault in strerror's locale data while that may still mmap. */
	(void)strerror(EPERM);
}

/* The whole allowlist (SECURITY.md justifies each entry); anything else
 * kills the process. The context is never released: that would free(). */
static void confine(void)
{
	static const int bpf_cmds[] = {
		BPF_MAP_CREATE, BPF_MAP_UPDATE_ELEM, BPF_PROG_LOAD, BPF_PROG_RUN,
		BPF_MAP_UPDATE_BATCH, BPF_PROG_QUERY, BPF_PROG_GET_FD_BY_ID,
		BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_ATTACH, BPF_PROG_DETACH,
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = ctx ? 0 : -1;
	size_t i;

	for (i = 0; i < sizeof(bpf_cmds) / sizeof(bpf_cmds[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
				       SCMP_A0_32(SCMP_CMP_EQ, (__u32)bpf_cmds[i]));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
			       SCMP_A2_32(SCMP_CMP_EQ, OPEN_FLAGS));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
			       SCMP_A0_32(SCMP_CMP_EQ, STDOUT_FILENO));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
			       SCMP_A0_32(SCMP_CMP_EQ, STDERR_FILENO));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(close), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fstat), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fstatfs), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(capget), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(capset), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
	if (rc || seccomp_load(ctx) < 0)
		die(EX_OSERR_, "installing the seccomp filter failed");
}

/* glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH), whose path seccomp
 * cannot see; the fstat syscall takes a descriptor and nothing else. */
static int fd_stat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}

static void print_parse_error(const struct parse_error *err)
{
	char value[256], network[64] = "";
	int code = verdict_exit_code(err->verdict);

	escape_for_message(err->value ? err->value : "", value, sizeof(value));
	if (err->verdict == V_HOST_BITS &&
	    format_cidr(&err->network, network, sizeof(network)) == 0)
		die(code, "%s %s: %s; the network is %s", err->option, value,
		    verdict_text(err->verdict), network);
	if (err->option && err->value)
		die(code, "%s %s: %s", err->option, value,
		    verdict_text(err->verdict));
	if (err->option)
		die(code, "%s: %s", err->option, verdict_text(err->verdict));
	if (err->value)
		die(code, "%s: %s", value, verdict_text(err->verdict));
	die(code, "%s\n%s", verdict_text(err->verdict), usage);
}

static void say(const char *text)
{
	size_t len = strlen(text);

	if (write(STDOUT_FILENO, text, len) != (ssize_t)len)
		die_errno("writing to standard output");
}

static void parse(int argc, char **argv, struct request *req)
{
	struct parse_error err;

	req->v4 = deny_v4;
	req->v6 = deny_v6;
	if (parse_args(argc, argv, req, &err) != V_OK)
		print_parse_error(&err);
	if (req->action == ACT_LOAD)
		return;
	if (req->action == ACT_HELP)
		say(usage);
	else
		say(PROG " " VERSION "\n");
	_exit(0);
}

/* Walk from "/" with O_NOFOLLOW, so a symlink anywhere is refused, then
 * judge the descriptors: a cgroup2 directory whose parent is in the same
 * cgroup2 hierarchy, so never the root of a hierarchy. */
static int open_cgroup(const char *path)
{
	char buf[PATH_MAX], *component, *save = NULL;
	int parent = -1, fd = openat(AT_FDCWD, "/", OPEN_FLAGS);
	struct stat st, parent_st;
	struct statfs sfs, parent_sfs;

	strcpy(buf, path);
	for (component = strtok_r(buf, "/", &save); fd >= 0 && component;
	     component = strtok_r(NULL, "/", &save)) {
		if (parent >= 0)
			close(parent);
		parent = fd;
		fd = openat(parent, component, OPEN_FLAGS);
	}
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
		die(EX_NOINPUT_, "--cgroup %s: %s", path,
		    errno == ENOENT ? "no such directory" :
				      "not a directory, or a symbolic link");
	if (fd < 0)
		die_errno(path);
	if (fstatfs(fd, &sfs) < 0 || fstatfs(parent, &parent_sfs) < 0 ||
	    fd_stat(fd, &st) < 0 || fd_stat(parent, &parent_st) < 0)
		die_errno(path);
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		die(EX_NOINPUT_, "--cgroup %s: not a cgroup v2 directory", path);
	if (parent_sfs.f_type != CGROUP2_SUPER_MAGIC ||
	    parent_st.st_dev != st.st_dev)
		die(EX_NOPERM_,
		    "--cgroup %s: the root of a cgroup2 hierarchy is refused",
		    path);
	close(parent);
	return fd;
}

/* Caller: getuid() if non-zero (file-capability install), else SUDO_UID
 * if set, else root. Only sudo sets SUDO_UID and the sudoers rule forbids
 * SETENV, so it cannot be forged. Non-root callers act only on cgroups
 * they own (cgroup delegation); root on any non-root cgroup. */
static void authorize(int cgroup_fd, const char *path, uid_t real_uid,
		      const char *sudo_uid)
{
	uid_t caller = real_uid;
	struct stat st;

	if (caller == 0 && sudo_uid && parse_uid(sudo_uid, &caller) != V_OK)
		die(EX_NOPERM_, "SUDO_UID: %s", verdict_text(V_BAD_UID));
	if (fd_stat(cgroup_fd, &st) < 0)
		die_errno(path);
	if (caller != 0 && st.st_uid != caller)
		die(EX_NOPERM_, "--cgroup %s: owned by uid %u, not by the caller (uid %u)",
		    path, st.st_uid, caller);
}

/* When the load fails, say which kernel feature is missing, if any. */
static void explain_load_failure(int err)
{
	static const struct bpf_insn ret1[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static const struct {
		enum bpf_prog_type type;
		enum bpf_attach_type attach;
		const char *what;
	} probes[] = {
		{ BPF_PROG_TYPE_SYSCALL, 0, "BPF_PROG_TYPE_SYSCALL (Linux 5.14), which loads the embedded filter" },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, "cgroup sock_addr programs (CONFIG_CGROUP_BPF)" },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, "cgroup_skb programs (CONFIG_CGROUP_BPF)" },
	};
	union bpf_attr attr;
	size_t i;
	int fd;

	for (i = 0; err != EPERM && i < sizeof(probes) / sizeof(probes[0]); i++) {
		memset(&attr, 0, sizeof(attr));
		attr.prog_type = probes[i].type;
		attr.expected_attach_type = probes[i].attach;
		attr.insns = (__u64)(unsigned long)ret1;
		attr.insn_cnt = 2;
		attr.license = (__u64)(unsigned long)"Dual MIT/GPL";
		fd = sys_bpf(BPF_PROG_LOAD, &attr);
		if (fd < 0 && errno == EINVAL)
			die(EX_UNAVAILABLE_, "kernel lacks %s", probes[i].what);
		if (fd >= 0)
			close(fd);
	}
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_LPM_TRIE;
	attr.key_size = sizeof(struct key_v6);
	attr.value_size = 1;
	attr.max_entries = 1;
	attr.map_flags = BPF_F_NO_PREALLOC;
	fd = sys_bpf(BPF_MAP_CREATE, &attr);
	if (fd < 0 && errno == EINVAL && err != EPERM)
		die(EX_UNAVAILABLE_, "kernel lacks BPF_MAP_TYPE_LPM_TRIE");
	errno = err;
	die_errno("loading the embedded filter");
}

static void fill(int map_fd, const void *keys, size_t count, const char *name)
{
	union bpf_attr attr;

	if (count == 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = (__u32)map_fd;
	attr.batch.keys = (__u64)(unsigned long)keys;
	attr.batch.values = (__u64)(unsigned long)deny_values;
	attr.batch.count = (__u32)count;
	if (sys_bpf(BPF_MAP_UPDATE_BATCH, &attr) < 0)
		die_errno(name);
}

static struct filter *build(const struct request *req)
{
	struct filter *skel = filter__open();

	if (!skel)
		die(EX_OSERR_, "opening the embedded filter: out of memory");
	if (filter__load(skel) < 0)
		explain_load_failure(errno);
	memset(deny_values, 1, sizeof(deny_values));
	fill(skel->maps.deny_v4.map_fd, req->v4, req->n_v4, "filling the IPv4 deny map");
	fill(skel->maps.deny_v6.map_fd, req->v6, req->n_v6, "filling the IPv6 deny map");
	return skel;
}

static __u32 prog_id(int prog_fd, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)prog_fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
		die_errno("reading program info");
	if (name)
		memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	return info.id;
}

/* fds of our programs attached directly to this hook, up to max. */
static int find_ours(int cgroup_fd, const struct hook *hook, int *fds, int max)
{
	__u32 ids[64], i, found = 0;
	char name[BPF_OBJ_NAME_LEN];
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (__u32)cgroup_fd;
	attr.query.attach_type = hook->type;
	attr.query.prog_ids = (__u64)(unsigned long)ids;
	attr.query.prog_cnt = 64;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		die_errno(hook->name);
	for (i = 0; i < attr.query.prog_cnt && found < (__u32)max; i++) {
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = ids[i];
		fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (fd < 0 && errno == ENOENT)
			continue; /* detached and freed meanwhile */
		if (fd < 0)
			die_errno(hook->name);
		prog_id(fd, name);
		if (strncmp(name, OUR_PREFIX, strlen(OUR_PREFIX)) == 0)
			fds[found++] = fd;
		else
			close(fd);
	}
	return (int)found;
}

static int attach_one(int cgroup_fd, const struct hook *hook, int prog_fd,
		      int replace_fd)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgroup_fd;
	attr.attach_bpf_fd = (__u32)prog_fd;
	attr.attach_type = hook->type;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (replace_fd >= 0) {
		attr.attach_flags |= BPF_F_REPLACE;
		attr.replace_bpf_fd = (__u32)replace_fd;
	}
	return sys_bpf(BPF_PROG_ATTACH, &attr);
}

static void detach_one(int cgroup_fd, const struct hook *hook, int prog_fd)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgroup_fd;
	attr.attach_bpf_fd = (__u32)prog_fd;
	attr.attach_type = hook->type;
	if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
		die_errno(hook->name);
}

/* Swap our previous program on each hook for the new one, so the cgroup is
 * never unfiltered; if any attach fails, put every hook back as it was. */
static void attach_all(int cgroup_fd, const int prog_fds[HOOKS])
{
	int old[HOOKS], h, undo, err;

	for (h = 0; h < HOOKS; h++) {
		if (find_ours(cgroup_fd, &hooks[h], &old[h], 1) == 0)
			old[h] = -1;
		if (attach_one(cgroup_fd, &hooks[h], prog_fds[h], old[h]) == 0)
			continue;
		err = errno;
		for (undo = h - 1; undo >= 0; undo--) {
			if (old[undo] < 0)
				detach_one(cgroup_fd, &hooks[undo], prog_fds[undo]);
			else if (attach_one(cgroup_fd, &hooks[undo], old[undo],
					    prog_fds[undo]) < 0)
				die_errno(hooks[undo].name);
		}
		errno = err;
		die(err == EPERM ? EX_NOPERM_ : EX_OSERR_,
		    "attaching to the %s hook: %s; the cgroup is left as it was",
		    hooks[h].name, strerror(err));
	}
}

/* Two loaders racing on one cgroup may both attach fresh programs. Each
 * then keeps only the newest of ours (highest id) on every hook, so all
 * racers converge on one filter. */
static void settle(int cgroup_fd)
{
	int fds[64], n, i, newest, h;

	for (h = 0; h < HOOKS; h++) {
		n = find_ours(cgroup_fd, &hooks[h], fds, 64);
		for (newest = 0, i = 1; i < n; i++)
			if (prog_id(fds[i], NULL) > prog_id(fds[newest], NULL))
				newest = i;
		for (i = 0; i < n; i++) {
			if (i != newest)
				detach_one(cgroup_fd, &hooks[h], fds[i]);
			close(fds[i]);
		}
	}
}

static void drop_capabilities(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &header, data) < 0 ||
	    syscall(SYS_capget, &header, data) < 0)
		die_errno("dropping capabilities");
	if (data[0].effective | data[0].permitted | data[0].inheritable |
	    data[1].effective | data[1].permitted | data[1].inheritable)
		die(EX_OSERR_, "dropping capabilities: some remain");
}

static void report(const struct request *req, const int prog_fds[HOOKS])
{
	char out[PATH_MAX * 2 + 256], path[PATH_MAX * 2];
	int len, h;

	if (escape_for_json(req->cgroup, path, sizeof(path)) < 0)
		die(EX_OSERR_, "reporting: path too long");
	len = snprintf(out, sizeof(out),
		       "{\"success\":true,\"cgroup\":\"%s\",\"ipv4\":%zu,\"ipv6\":%zu,\"programs\":[",
		       path, req->n_v4, req->n_v6);
	for (h = 0; h < HOOKS; h++)
		len += snprintf(out + len, sizeof(out) - (size_t)len, "%s%u",
				h ? "," : "", prog_id(prog_fds[h], NULL));
	len += snprintf(out + len, sizeof(out) - (size_t)len, "]}\n");
	say(out);
}

int main(int argc, char **argv)
{
	const char *sudo_uid = getenv("SUDO_UID");
	struct request req;
	struct filter *skel;
	int cgroup_fd, prog_fds[HOOKS];
	uid_t real_uid;

	hygiene();
	real_uid = getuid();
	confine();
	parse(argc, argv, &req);
	cgroup_fd = open_cgroup(req.cgroup);
	authorize(cgroup_fd, req.cgroup, real_uid, sudo_uid);
	skel = build(&req);
	prog_fds[0] = skel->progs.jailai_connect4.prog_fd;
	prog_fds[1] = skel->progs.jailai_sendmsg4.prog_fd;
	prog_fds[2] = skel->progs.jailai_connect6.prog_fd;
	prog_fds[3] = skel->progs.jailai_sendmsg6.prog_fd;
	prog_fds[4] = skel->progs.jailai_egress.prog_fd;
	attach_all(cgroup_fd, prog_fds);
	settle(cgroup_fd);
	drop_capabilities();
	report(&req, prog_fds);
	return 0;
}

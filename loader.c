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
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sysexits.h>
#include <unistd.h>

#include "filter.lskel.h"
#include "validate.h"

#define PROG "jail-ai-ebpf-loader"
#define HOOKS 6
#define OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PTR(p) ((__u64)(unsigned long)(p))
#define NEEDS_CAPS \
	"loading the embedded filter (it needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON or CAP_SYS_ADMIN: run it as root, through sudo)"

/* In the order of the programs in filter.bpf.c and its skeleton. */
static const enum bpf_attach_type hooks[HOOKS] = {
	BPF_CGROUP_SOCK_OPS,	 BPF_CGROUP_INET4_CONNECT,
	BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_INET6_CONNECT,
	BPF_CGROUP_UDP6_SENDMSG, BPF_CGROUP_INET_EGRESS,
};

static const char usage[] =
	"usage: jail-ai-ebpf-loader --cgroup PATH --deny RULE [--deny RULE | --allow RULE]...\n"
	"       jail-ai-ebpf-loader --help | --version\n"
	"RULE: CIDR, CIDR4:PORTS[/PROTO] or [CIDR6]:PORTS[/PROTO]; PORTS: N or N-M;\n"
	"PROTO: tcp or udp. The longest prefix wins. See jail-ai-ebpf-loader(8).\n";

static int say(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		_exit(EX_OSERR);
	return 0;
}

__attribute__((noreturn, format(printf, 2, 3))) static void
die(int code, const char *fmt, ...)
{
	char msg[PATH_MAX + 512] = PROG ": ";
	va_list ap;

	va_start(ap, fmt);
	/* Cut to fit on purpose, keeping the last byte '\0' for the newline. */
	(void)vsnprintf(msg + strlen(msg), sizeof(msg) - strlen(msg) - 1, fmt,
			ap);
	va_end(ap);
	msg[strlen(msg)] = '\n';
	say(STDERR_FILENO, msg);
	_exit(code);
}

/* EPERM from the kernel means "not permitted" (77); anything else is 71. */
__attribute__((noreturn)) static void die_errno(const char *what)
{
	die(errno == EPERM || errno == EACCES ? EX_NOPERM : EX_OSERR, "%s: %s",
	    what, strerror(errno));
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
			_exit(EX_OSERR);
	if (close_range(3, ~0U, 0) < 0 || chdir("/") < 0 ||
	    prctl(PR_SET_DUMPABLE, 0) < 0)
		_exit(EX_OSERR);
	umask(077);
	/* From here on malloc needs no brk or mmap (seccomp forbids both):
	 * the heap keeps 1 MiB of headroom, and free() never trims it. */
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	free(warm = malloc(64 << 10));
}

/* The whole allowlist (SECURITY.md justifies each entry); anything else
 * kills the process. The context is never released: that would free(). */
static void confine(void)
{
	static const int bpf_cmds[] = {
		BPF_MAP_CREATE,	       BPF_MAP_UPDATE_ELEM,    BPF_PROG_LOAD,
		BPF_PROG_RUN,	       BPF_MAP_UPDATE_BATCH,   BPF_PROG_QUERY,
		BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_ATTACH,
		BPF_PROG_DETACH
	};
	static const int any_args[] = { SCMP_SYS(close),     SCMP_SYS(fstat),
					SCMP_SYS(fstatfs),   SCMP_SYS(capget),
					SCMP_SYS(capset),    SCMP_SYS(exit),
					SCMP_SYS(exit_group) };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = ctx ? 0 : -1;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bpf_cmds); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
				       SCMP_A0_32(SCMP_CMP_EQ, bpf_cmds[i]));
	for (i = 0; i < ARRAY_SIZE(any_args); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, any_args[i], 0);
	for (i = STDOUT_FILENO; i <= STDERR_FILENO; i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
				       SCMP_A0_32(SCMP_CMP_EQ, i));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
			       SCMP_A2_32(SCMP_CMP_EQ, OPEN_FLAGS));
	if (rc || seccomp_load(ctx) < 0)
		die(EX_OSERR, "installing the seccomp filter failed");
}

static void parse(int argc, char **argv, struct request *req)
{
	struct parse_error err;
	int code = parse_args(argc, argv, req, &err);

	if (code)
		die(code, "%s", err.message);
	if (req->action != ACT_LOAD)
		_exit(say(STDOUT_FILENO,
			  req->action == ACT_HELP ? usage : PROG " 0.2.0\n"));
}

/* Walk from "/" with O_NOFOLLOW, so a symlink anywhere is refused, then
 * judge the descriptor: a cgroup2 directory, not the root of a hierarchy,
 * owned by the caller unless the caller is root. Caller: getuid() if
 * non-zero (file-capability install), else SUDO_UID if set, else root.
 * Only sudo sets SUDO_UID and the sudoers rule forbids SETENV, so it
 * cannot be forged. */
static int open_cgroup(const char *path, uid_t caller, const char *sudo_uid)
{
	char buf[PATH_MAX], *name, *save = NULL;
	int parent, fd = openat(AT_FDCWD, "/", OPEN_FLAGS);
	unsigned long long uid = caller;
	struct statfs sfs;
	struct stat st;

	if (caller == 0 && sudo_uid && parse_decimal(sudo_uid, (uid_t)-2, &uid))
		die(EX_NOPERM, "SUDO_UID: not a plain decimal user id");
	snprintf(buf, sizeof(buf), "%s", path); /* < PATH_MAX: validated */
	for (name = strtok_r(buf, "/", &save); fd >= 0 && name;
	     name = strtok_r(NULL, "/", &save)) {
		parent = fd;
		fd = openat(parent, name, OPEN_FLAGS);
		close(parent); /* succeeds, so errno stays openat's */
	}
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
		die(EX_NOINPUT, "--cgroup %s: %s", path,
		    errno == ENOENT ? "no such directory" :
				      "not a directory, or a symbolic link");
	/* glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH), whose path
	 * seccomp cannot see: the fstat syscall takes only a descriptor. */
	if (fd < 0 || fstatfs(fd, &sfs) < 0 || syscall(SYS_fstat, fd, &st) < 0)
		die_errno(path);
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		die(EX_NOINPUT, "--cgroup %s: not a cgroup v2 directory", path);
	/* Every cgroup but a hierarchy's root has the file cgroup.type, however
	 * and wherever the hierarchy is mounted (O_DIRECTORY gives ENOTDIR). */
	// cppcheck-suppress leakReturnValNotUsed ; we exit at once if it opens
	if (openat(fd, "cgroup.type", OPEN_FLAGS) >= 0 || errno != ENOTDIR)
		die(EX_NOPERM, "--cgroup %s: a hierarchy root is refused",
		    path);
	if (uid != 0 && st.st_uid != uid)
		die(EX_NOPERM, "--cgroup %s: owned by uid %u, not by uid %llu",
		    path, st.st_uid, uid);
	return fd;
}

/* After a failed load: name the missing kernel feature, if one is. All
 * else the filter needs (LPM tries, cgroup sock_addr, sock_ops and skb
 * programs, socket storage, BPF_F_REPLACE) is older than the syscall
 * program type of Linux 5.14. EPERM: a capability is missing. */
__attribute__((noreturn)) static void explain_load_failure(int err)
{
	static const __u64 ret1[] = { 0x1000000b7, 0x95 }; /* r0 = 1; exit */
	union bpf_attr attr = { .prog_type = BPF_PROG_TYPE_SYSCALL,
				.prog_flags = BPF_F_SLEEPABLE, /* else EINVAL */
				.insn_cnt = ARRAY_SIZE(ret1),
				.insns = PTR(ret1),
				.license = PTR("GPL") };

	if (sys_bpf(BPF_PROG_LOAD, &attr) < 0 &&
	    (errno == EINVAL || errno == ENOSYS))
		die(EX_UNAVAILABLE,
		    "kernel lacks BPF_PROG_TYPE_SYSCALL (Linux 5.14), which loads the embedded filter");
	errno = err;
	die_errno(err == EPERM ? NEEDS_CAPS : "loading the embedded filter");
}

/* Keys [first, first + count), in one batch: in order, so a later key
 * replaces an earlier equal one. */
static void fill(int map_fd, const struct request *req, size_t first,
		 size_t count)
{
	union bpf_attr attr = { .batch.keys = PTR(&req->keys[first]),
				.batch.values = PTR(&req->values[first]),
				.batch.count = (__u32)count,
				.batch.map_fd = (__u32)map_fd };

	if (count && sys_bpf(BPF_MAP_UPDATE_BATCH, &attr) < 0)
		die_errno("filling the rule trie");
}

static struct bpf_prog_info prog_info(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	union bpf_attr attr = { .info.bpf_fd = (__u32)prog_fd,
				.info.info_len = sizeof(info),
				.info.info = PTR(&info) };

	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
		die_errno("reading program info");
	return info;
}

/* Puts in_fd in out_fd's place on a hook: with BPF_F_REPLACE if both are
 * given, a plain attach without out_fd, a detach without in_fd. Returns 0
 * or the errno (a detach's ENOENT is 0: a racer detached it first). */
static int swap(int cgroup_fd, int hook, int in_fd, int out_fd)
{
	union bpf_attr attr = {
		.target_fd = (__u32)cgroup_fd,
		.attach_bpf_fd = (__u32)(in_fd < 0 ? out_fd : in_fd),
		.attach_type = hooks[hook],
		.attach_flags = in_fd < 0  ? 0 :
				out_fd < 0 ? BPF_F_ALLOW_MULTI :
					     BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
		.replace_bpf_fd = (__u32)(in_fd < 0 || out_fd < 0 ? 0 : out_fd)
	};

	if (sys_bpf(in_fd < 0 ? BPF_PROG_DETACH : BPF_PROG_ATTACH, &attr) < 0 &&
	    (in_fd >= 0 || errno != ENOENT))
		return errno;
	return 0;
}

/* Our programs (name prefix "jailai_") attached directly to a hook: how
 * many, and in *fd and *run (else -1 and 0) the one of the latest run. A
 * run is known by its BTF object's id, which the light skeleton loads anew
 * for every run and shares among its programs; ids only grow. With prune,
 * every other one is detached. */
static int find_ours(int cgroup_fd, int hook, int prune, int *fd, __u32 *run)
{
	__u32 ids[64], i;
	union bpf_attr attr = { .query.target_fd = (__u32)cgroup_fd,
				.query.attach_type = hooks[hook],
				.query.prog_ids = PTR(ids),
				.query.prog_cnt = 64 };
	int found = 0, next, older;

	*fd = -1, *run = 0;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		die_errno("querying the cgroup's programs");
	for (i = 0; i < attr.query.prog_cnt; i++) {
		union bpf_attr get = { .prog_id = ids[i] };
		struct bpf_prog_info info;

		next = sys_bpf(BPF_PROG_GET_FD_BY_ID, &get);
		if (next < 0 && errno == ENOENT) /* freed meanwhile */
			continue;
		if (next < 0)
			die_errno("querying the cgroup's programs");
		if (strncmp((info = prog_info(next)).name, "jailai_", 7) != 0) {
			close(next);
			continue;
		}
		older = found++ && info.btf_id < *run ? next : *fd;
		if (older != next)
			*fd = next, *run = info.btf_id;
		if (prune && older >= 0 && swap(cgroup_fd, hook, -1, older))
			die_errno("detaching a replaced program");
	}
	return found;
}

/* On each hook, swap the latest run's program of ours for this run's with
 * BPF_F_REPLACE: atomic, so the cgroup is never unfiltered, and ENOENT if
 * a racing loader swapped it out first (look again). A hook that carries a
 * later run's program means a later loader is at work: leave every hook to
 * it, as if this run had finished first. If an attach fails, put back what
 * this run changed; EPERM then means a program attached without
 * BPF_F_ALLOW_MULTI holds the hook. Last, keep only the latest run's program on each hook
 * (racers may both attach where none of ours was): racing loaders all end
 * with the latest run's whole filter, one program per hook. */
static void attach_all(int cgroup_fd, const struct bpf_prog_desc *progs)
{
	int old[HOOKS], h, i, n, err = 0, tries = 0;
	__u32 run, mine = prog_info(progs[0].prog_fd).btf_id;

	for (h = 0; h < HOOKS && !err; h++) {
		if (find_ours(cgroup_fd, h, 0, &old[h], &run) && run > mine)
			goto settle;
		/* The sockops program goes beside the old one, which settle
		 * removes: sockets accepted meanwhile are marked for the old
		 * run's egress program and for this run's. */
		if (h == 0)
			old[0] = -1;
		err = swap(cgroup_fd, h, progs[h].prog_fd, old[h]);
		if (err == ENOENT && old[h] >= 0 && ++tries < 64)
			err = 0, h--; /* a racer swapped old[h] out: again */
	}
	for (i = h - 2; err && i >= 0; i--) /* h - 1 failed */
		if ((n = swap(cgroup_fd, i, old[i], progs[i].prog_fd)) &&
		    n != ENOENT) /* ENOENT: a later run took the hook */
			die_errno("putting the previous filter back");
	if (err)
		die(err == EPERM ? EX_NOPERM : EX_OSERR,
		    "attaching to the %s hook: %s%s; the cgroup is left as it was",
		    prog_info(progs[h - 1].prog_fd).name + 7, strerror(err),
		    err == EPERM ?
			    ": another program holds the hook exclusively (attached without BPF_F_ALLOW_MULTI) on this cgroup or an ancestor" :
			    "");
settle:
	for (h = 0; h < HOOKS; h++)
		find_ours(cgroup_fd, h, 1, &i, &run);
}

static void drop_capabilities(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3,
						   0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capset, &header, data) < 0 ||
	    syscall(SYS_capget, &header, data) < 0)
		die_errno("dropping capabilities");
	if (memcmp(data, (struct __user_cap_data_struct[2]){ 0 }, sizeof(data)))
		die(EX_OSERR, "dropping capabilities: some remain");
}

static void report(const struct request *req, const struct bpf_prog_desc *progs)
{
	char out[PATH_MAX * 2 + 256], path[PATH_MAX * 2];
	int used, h;

	escape(req->cgroup, path, sizeof(path), 1); /* always fits */
	used = snprintf(
		out, sizeof(out),
		"{\"success\":true,\"cgroup\":\"%s\",\"ipv4\":%zu,\"ipv6\":%zu,\"deny\":%zu,\"allow\":%zu,\"programs\":[",
		path, req->n_v4, req->n_v6, req->n_deny, req->n_allow);
	for (h = 0; h < HOOKS; h++) /* the ids, in the order of hooks[] */
		used += snprintf(out + used, sizeof(out) - (size_t)used, "%u%s",
				 prog_info(progs[h].prog_fd).id,
				 h < HOOKS - 1 ? "," : "]}\n");
	say(STDOUT_FILENO, out);
}

int main(int argc, char **argv)
{
	uid_t real_uid = getuid(); /* before confine(): getuid is not allowed */
	struct filter *skel;
	static struct request req; /* static: its arrays are large */
	int cgroup_fd;

	hygiene();
	confine();
	parse(argc, argv, &req);
	cgroup_fd = open_cgroup(req.cgroup, real_uid, getenv("SUDO_UID"));

	if (!(skel = filter__open_and_load()))
		explain_load_failure(errno);
	/* The deny rules' keys last: a deny replaces an equal allow key. */
	fill(skel->maps.rules.map_fd, &req, 0, req.n_first);
	fill(skel->maps.rules.map_fd, &req, KEYS_MAX - req.n_last, req.n_last);
	/* The skeleton lists the programs in the order of hooks[]. */
	attach_all(cgroup_fd, &skel->progs.jailai_sockops);
	drop_capabilities();
	report(&req, &skel->progs.jailai_sockops);
	return 0;
}

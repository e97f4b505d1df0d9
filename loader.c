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
#include <bpf/bpf.h>
#include <fcntl.h>
#include <limits.h>
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
#define OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define QUERY_MAX 64 /* programs on one hook, ours and others', per query */
#define RACE_RETRIES 64 /* a hook tried again after racing loaders */
#define HEAP_HEADROOM (1 << 20) /* grown on the first malloc, kept */
#define HEAP_WARM (64 << 10) /* the first malloc: below M_MMAP_THRESHOLD, so from the heap */

static const char usage[] =
	"usage: jail-ai-ebpf-loader --cgroup PATH --deny RULE [--deny RULE | --allow RULE]...\n"
	"       jail-ai-ebpf-loader --help | --version\n"
	"RULE: CIDR, CIDR4:PORTS[/PROTO] or [CIDR6]:PORTS[/PROTO]; PORTS: N or N-M;\n"
	"PROTO: tcp or udp. The longest prefix wins. See jail-ai-ebpf-loader(8).\n";

/* Why an attach fails with EPERM. */
static const char exclusive[] =
	": another program holds the hook exclusively (attached without BPF_F_ALLOW_MULTI) on this cgroup or an ancestor";

static void say(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		_exit(EX_OSERR);
}

__attribute__((noreturn, format(printf, 2, 3))) static void die(int code, const char *fmt, ...)
{
	char msg[PATH_MAX + 512] = PROG ": ";
	va_list ap;

	va_start(ap, fmt);
	/* Cut to fit on purpose, keeping the last byte '\0' for the newline. */
	(void)vsnprintf(msg + strlen(msg), sizeof(msg) - strlen(msg) - 1, fmt, ap);
	va_end(ap);
	msg[strlen(msg)] = '\n';
	say(STDERR_FILENO, msg);
	_exit(code);
}

/* EPERM from the kernel means "not permitted" (77); anything else is 71. */
__attribute__((noreturn)) static void die_errno(const char *what)
{
	die(errno == EPERM || errno == EACCES ? EX_NOPERM : EX_OSERR, "%s: %s", what,
	    strerror(errno));
}

static void hygiene(void)
{
	void *volatile warm; /* volatile: the compiler may not elide it */
	int fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(EX_OSERR);
	if (close_range(STDERR_FILENO + 1, ~0U, 0) < 0 || chdir("/") < 0 ||
	    prctl(PR_SET_DUMPABLE, 0) < 0)
		_exit(EX_OSERR);
	umask(077);
	/* From here on malloc needs no brk or mmap (seccomp forbids both):
	 * the heap keeps its headroom, and free() never trims it. */
	mallopt(M_TRIM_THRESHOLD, -1); /* -1: never trim (mallopt(3)) */
	mallopt(M_TOP_PAD, HEAP_HEADROOM);
	warm = malloc(HEAP_WARM);
	free(warm);
}

/* The whole allowlist (DESIGN.md section 5, SECURITY.md justify each
 * entry); anything else kills the process. The context is never released:
 * that would free(). */
static void confine(void)
{
	static const int bpf_cmds[] = { BPF_MAP_CREATE,	       BPF_MAP_UPDATE_ELEM,
					BPF_PROG_LOAD,	       BPF_PROG_RUN,
					BPF_MAP_UPDATE_BATCH,  BPF_PROG_QUERY,
					BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD,
					BPF_PROG_ATTACH,       BPF_PROG_DETACH };
	static const int any_args[] = { SCMP_SYS(close),     SCMP_SYS(fstat),  SCMP_SYS(fstatfs),
					SCMP_SYS(capget),    SCMP_SYS(capset), SCMP_SYS(exit),
					SCMP_SYS(exit_group) };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = ctx ? 0 : -1;
	size_t i;

	for (i = 0; i < sizeof(bpf_cmds) / sizeof(bpf_cmds[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
				       SCMP_A0_32(SCMP_CMP_EQ, bpf_cmds[i]));
	for (i = 0; i < sizeof(any_args) / sizeof(any_args[0]); i++)
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
	if (req->action == ACT_LOAD)
		return;
	say(STDOUT_FILENO, req->action == ACT_HELP ? usage : PROG " " VERSION "\n");
	_exit(EX_OK);
}

/* Walk from "/" with O_NOFOLLOW, so a symlink anywhere is refused, then
 * judge the descriptor: a cgroup2 directory, not the root of a hierarchy,
 * owned by the caller unless the caller is root. The caller: getuid() if
 * non-zero (file-capability install), else SUDO_UID if set, else root.
 * Only sudo sets SUDO_UID and the sudoers rule forbids SETENV, so it
 * cannot be forged. */
static int open_cgroup(const char *path, uid_t real_uid, const char *sudo_uid)
{
	char buf[PATH_MAX], *name, *save = NULL;
	int parent, fd = openat(AT_FDCWD, "/", OPEN_FLAGS);
	unsigned long long caller = real_uid;
	struct statfs sfs;
	struct stat st;

	if (real_uid == 0 && sudo_uid && parse_decimal(sudo_uid, (uid_t)-2, &caller))
		die(EX_NOPERM, "SUDO_UID: not a plain decimal user id");
	snprintf(buf, sizeof(buf), "%s", path); /* < PATH_MAX: validated */
	name = strtok_r(buf, "/", &save);
	while (fd >= 0 && name) {
		parent = fd;
		fd = openat(parent, name, OPEN_FLAGS);
		close(parent); /* succeeds, so errno stays openat's */
		name = strtok_r(NULL, "/", &save);
	}
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
		die(EX_NOINPUT, "--cgroup %s: %s", path,
		    errno == ENOENT ? "no such directory" : "not a directory, or a symbolic link");
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
		die(EX_NOPERM, "--cgroup %s: a hierarchy root is refused", path);
	if (caller != 0 && st.st_uid != caller)
		die(EX_NOPERM, "--cgroup %s: owned by uid %u, not by uid %llu", path, st.st_uid,
		    caller);
	return fd;
}

/* Keys [first, first + count), in one batch: in order, so a later key
 * replaces an earlier equal one. */
static void fill(int map_fd, const struct request *req, size_t first, size_t count)
{
	__u32 n = (__u32)count;

	if (count && bpf_map_update_batch(map_fd, &req->keys[first], &req->values[first], &n, NULL))
		die_errno("filling the rule trie");
}

static struct bpf_prog_info prog_info(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		die_errno("reading program info");
	return info;
}

/* Adds new_fd to the hook's programs: beside the others if old_fd < 0,
 * else in old_fd's place, atomically (the hook is never without one of
 * them). Returns 0 or the errno (libbpf returns -errno); ENOENT: old_fd is
 * no longer attached (a racing loader replaced it first). */
static int attach(int cgroup_fd, enum hook hook, int new_fd, int old_fd)
{
	struct bpf_prog_attach_opts opts = { .sz = sizeof(opts), .flags = BPF_F_ALLOW_MULTI };

	if (old_fd >= 0) {
		opts.flags |= BPF_F_REPLACE;
		opts.replace_prog_fd = old_fd;
	}
	return -bpf_prog_attach_opts(new_fd, cgroup_fd, hook_attach_type[hook], &opts);
}

/* Takes prog_fd off the hook. Returns 0 or the errno; ENOENT is 0: a
 * racing loader detached it first. */
static int detach(int cgroup_fd, enum hook hook, int prog_fd)
{
	if (bpf_prog_detach2(prog_fd, cgroup_fd, hook_attach_type[hook]) == 0 || errno == ENOENT)
		return 0;
	return errno;
}

/* Our programs on one hook are known by their name prefix, and their run
 * by the id of their BTF object, which the light skeleton loads anew for
 * every run and shares among the run's programs; ids only grow, so the
 * highest is the latest run. Detaches every program of ours on the hook but
 * the latest run's (racing loaders may both attach where none of ours was,
 * and a run attaches its sockops program beside the previous run's), and
 * returns that one, or -1; *latest_run: its run, or 0. */
static int keep_only_latest(int cgroup_fd, enum hook hook, __u32 *latest_run)
{
	__u32 ids[QUERY_MAX] = { 0 }, count = QUERY_MAX, i;
	int latest = -1, fd, older;
	struct bpf_prog_info info;

	*latest_run = 0;
	if (bpf_prog_query(cgroup_fd, hook_attach_type[hook], 0, NULL, ids, &count))
		die_errno("querying the cgroup's programs");
	for (i = 0; i < count; i++) {
		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0 && errno == ENOENT) /* freed meanwhile */
			continue;
		if (fd < 0)
			die_errno("querying the cgroup's programs");
		info = prog_info(fd);
		if (strncmp(info.name, PROG_NAME_PREFIX, strlen(PROG_NAME_PREFIX)) != 0) {
			close(fd);
			continue;
		}
		older = fd;
		if (info.btf_id > *latest_run) {
			older = latest;
			latest = fd;
			*latest_run = info.btf_id;
		}
		if (older >= 0 && detach(cgroup_fd, hook, older) != 0)
			die_errno("detaching a replaced program");
	}
	return latest;
}

/* Attaching to hook `failed` gave err: put back what this run changed on
 * the hooks before it (replaced[HOOKS]: the program it replaced, or -1 where
 * it attached beside; progs[HOOKS]: its own), and exit. */
static void roll_back(int cgroup_fd, const int progs[], const int replaced[], int failed, int err)
{
	const char *name = prog_info(progs[failed]).name + strlen(PROG_NAME_PREFIX);
	int hook, undo;

	for (hook = failed - 1; hook >= 0; hook--) {
		undo = replaced[hook] < 0 ? detach(cgroup_fd, hook, progs[hook]) :
					    attach(cgroup_fd, hook, replaced[hook], progs[hook]);
		if (undo != 0 && undo != ENOENT) /* ENOENT: a later run took the hook */
			die_errno("putting the previous filter back");
	}
	die(err == EPERM ? EX_NOPERM : EX_OSERR,
	    "attaching to the %s hook: %s%s; the cgroup is left as it was", name, strerror(err),
	    err == EPERM ? exclusive : "");
}

/* On each hook, replace the latest run's program of ours with this run's:
 * atomic, so the cgroup is never unfiltered. A hook that carries a later
 * run's program means a later loader is at work: leave every hook to it,
 * as if this run had finished first. If an attach fails, roll back. Last,
 * keep only the latest run's program on each hook: racing loaders all end
 * with the latest run's whole filter, one program per hook. */
static void attach_all(int cgroup_fd, const int progs[HOOKS])
{
	__u32 this_run = prog_info(progs[HOOK_SOCKOPS]).btf_id, run;
	int replaced[HOOKS], hook = HOOK_SOCKOPS, tries = 0, err, old;

	while (hook < HOOKS) {
		old = keep_only_latest(cgroup_fd, hook, &run);
		if (run > this_run)
			break;
		/* The sockops program goes beside the old one, which
		 * keep_only_latest() removes: sockets accepted meanwhile are
		 * marked for the old run's egress program and for this run's. */
		replaced[hook] = hook == HOOK_SOCKOPS ? -1 : old;
		err = attach(cgroup_fd, hook, progs[hook], replaced[hook]);
		if (err == ENOENT && replaced[hook] >= 0 && tries < RACE_RETRIES)
			tries++; /* a racer replaced it first: look again */
		else if (err != 0)
			roll_back(cgroup_fd, progs, replaced, hook, err);
		else
			hook++;
	}
	for (hook = 0; hook < HOOKS; hook++)
		keep_only_latest(cgroup_fd, hook, &run);
}

/* capget(2) and capset(2) on this process, 64-bit capability sets. */
static struct __user_cap_header_struct cap_header = { _LINUX_CAPABILITY_VERSION_3, 0 };

/* The light skeleton's loader program and BPF_PROG_GET_FD_BY_ID (to replace
 * ours) need CAP_SYS_ADMIN: without it nothing could be built, or a filter
 * attached and never replaced. */
static void require_cap_sys_admin(void)
{
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &cap_header, data) < 0)
		die_errno("reading capabilities");
	if (!(data[0].effective & 1U << CAP_SYS_ADMIN))
		die(EX_NOPERM,
		    "the loader needs CAP_SYS_ADMIN to load and replace the filter: run it as root, through sudo");
}

/* Gives up every capability, and checks that none remains. */
static void drop_all_capabilities(void)
{
	static const struct __user_cap_data_struct none[2];
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capset, &cap_header, data) < 0 ||
	    syscall(SYS_capget, &cap_header, data) < 0)
		die_errno("reading capabilities");
	if (memcmp(data, none, sizeof(data)) != 0)
		die(EX_OSERR, "dropping capabilities: some remain");
}

/* The reply: the request's counts, the programs' ids and the refusal
 * log's map id (DESIGN.md section 4). */
static void report(const struct request *req, const int progs[HOOKS], int log_fd)
{
	char out[PATH_MAX * 2 + 256], path[PATH_MAX * 2];
	struct bpf_map_info log = { 0 };
	__u32 len = sizeof(log);
	int used, hook;

	escape(req->cgroup, path, sizeof(path), 1); /* always fits */
	used = snprintf(
		out, sizeof(out),
		"{\"success\":true,\"cgroup\":\"%s\",\"ipv4\":%zu,\"ipv6\":%zu,\"deny\":%zu,\"allow\":%zu,\"programs\":[",
		path, req->n_v4, req->n_v6, req->n_deny, req->n_allow);
	for (hook = 0; hook < HOOKS; hook++)
		used += snprintf(out + used, sizeof(out) - (size_t)used, "%u%s",
				 prog_info(progs[hook]).id, hook < HOOKS - 1 ? "," : "]");
	if (bpf_obj_get_info_by_fd(log_fd, &log, &len))
		die_errno("reading the refusal log's info");
	snprintf(out + used, sizeof(out) - (size_t)used, ",\"refusal_log\":%u}\n", log.id);
	say(STDOUT_FILENO, out);
}

int main(int argc, char **argv)
{
	uid_t real_uid = getuid(); /* before confine(): getuid is not allowed */
	static struct request req; /* static: its arrays are large */
	struct filter *skel;
	int progs[HOOKS], cgroup_fd;

	hygiene();
	confine();
	parse(argc, argv, &req);
	cgroup_fd = open_cgroup(req.cgroup, real_uid, getenv("SUDO_UID"));

	require_cap_sys_admin();
	skel = filter__open_and_load();
	if (!skel)
		die_errno("loading the embedded filter (it needs Linux 6.1 or later)");
	/* The deny rules' keys last: a deny replaces an equal allow key. */
	fill(skel->maps.rules.map_fd, &req, 0, req.n_first);
	fill(skel->maps.rules.map_fd, &req, KEYS_MAX - req.n_last, req.n_last);
	progs[HOOK_SOCKOPS] = skel->progs.jailai_sockops.prog_fd;
	progs[HOOK_CONNECT4] = skel->progs.jailai_connect4.prog_fd;
	progs[HOOK_SENDMSG4] = skel->progs.jailai_sendmsg4.prog_fd;
	progs[HOOK_CONNECT6] = skel->progs.jailai_connect6.prog_fd;
	progs[HOOK_SENDMSG6] = skel->progs.jailai_sendmsg6.prog_fd;
	progs[HOOK_EGRESS] = skel->progs.jailai_egress.prog_fd;
	attach_all(cgroup_fd, progs);
	drop_all_capabilities();
	report(&req, progs, skel->maps.refusals.map_fd);
	return EX_OK;
}

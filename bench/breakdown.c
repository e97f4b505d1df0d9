// SPDX-License-Identifier: MIT
/*
 * breakdown ROUNDS CGPARENT OBJECT LISTFILE...: where the time of one load
 * goes. The whole-process load (latency.c) of one rule takes milliseconds,
 * for the loader and for the minimal floor (floor.c) alike; this says which
 * of the floor's steps take them, timed in one process with
 * CLOCK_MONOTONIC, and what the kernel reports of the six programs' cost.
 *
 * For each round and LISTFILE (one "--deny RULE" or "--allow RULE" a line,
 * as genlist writes them; its keys made by bench/rules.h and laid out as
 * floor.c does, before any clock starts), on a fresh cgroup CGPARENT/
 * breakdown (made before, removed after, which frees the filter; then 20
 * ms for the kernel to settle, as latency.c), each step of floor.c:
 *
 *   bd.open.LIST     filter__open(): of a light skeleton, only its calloc
 *   bd.load.LIST     filter__load(): four bpf() calls (bpf_load_and_run,
 *                    libbpf's skel_internal.h), each also timed on its own
 *                    (the skeleton's syscall() is routed through
 *                    timed_syscall below):
 *   bd.lmap.LIST       BPF_MAP_CREATE and BPF_MAP_UPDATE_ELEM of the
 *                      loader map (the skeleton's BTF and instructions)
 *   bd.lprog.LIST      BPF_PROG_LOAD of the loader program
 *                      (BPF_PROG_TYPE_SYSCALL), verified like any other
 *   bd.lrun.LIST       BPF_PROG_RUN of it: in the kernel, the BTF load,
 *                      the three maps and the six programs. Split by each
 *                      program's bpf_prog_info.load_time, the CLOCK_BOOTTIME
 *                      at which the kernel began loading it (before its
 *                      verification; the four calls are stamped with
 *                      CLOCK_BOOTTIME for this):
 *   bd.maps.LIST         from the run's start to the first program's load:
 *                        the BTF and the three maps
 *   bd.prog.PROG.LIST    from PROG's load to the next program's (or the
 *                        run's end): verification, JIT, fd of PROG
 *   bd.fill.LIST     the two BPF_MAP_UPDATE_BATCH calls filling the trie
 *   bd.attach.LIST   the six BPF_PROG_ATTACH calls, and each:
 *   bd.attach.PROG.LIST  far dearer when no other cgroup on the host has a
 *                        program on that hook (the first one switches the
 *                        hook on in the kernel): compare a run made while
 *                        some other cgroup holds a filter
 *   bd.close.LIST    filter__destroy() and the close of the cgroup's fd
 *   bd.total.LIST    from open to close
 *
 * and once a round, OBJECT (build/filter.bpf.o) loaded by libbpf with
 * BPF_LOG_STATS, neither pinned nor attached, closed again:
 *
 *   bd.verify.PROG     the kernel's "verification time N usec" of PROG
 *   bd.processed.PROG  its "processed N insns" (a count)
 *   bd.insns.PROG      bpf_prog_info.verified_insns (a count)
 *   bd.xlated.PROG     bytes of the translated program
 *   bd.jited.PROG      bytes of its JITed code
 *   bd.mapcreate.MAP   BPF_MAP_CREATE of a second map exactly like MAP
 *                      (bpf_map_info, the object's BTF), closed at once
 *
 * LIST is LISTFILE's name after its last '-' (list-16384: 16384), PROG the
 * program's name (jailai_sockops...). Prints "KEY ROUND VALUE" lines, the
 * bench's raw format (stats.c), times in microseconds; round -1, a warm-up,
 * is not printed. Any failure exits 1, naming what failed.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N_PROGS 6
#define LOG_SIZE 4096

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("breakdown: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	exit(1);
}

static __u64 now_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		die("clock_gettime: %s", strerror(errno));
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* The bpf() calls of filter__load(), by command; CLOCK_BOOTTIME, the
 * clock of bpf_prog_info.load_time. */
static struct {
	__u64 map_ns; /* the loader map: BPF_MAP_CREATE, BPF_MAP_UPDATE_ELEM */
	__u64 prog_ns; /* BPF_PROG_LOAD of the loader program */
	__u64 run_start, run_end; /* BPF_PROG_RUN of it */
} calls;

/* an int, as skel_sys_bpf() returns: bpf() returns an fd, 0 or -1 */
static int timed_syscall(long number, enum bpf_cmd cmd, union bpf_attr *attr, unsigned int size)
{
	__u64 start = now_ns(CLOCK_BOOTTIME), end;
	long ret = syscall(number, cmd, attr, size);
	int saved = errno;

	end = now_ns(CLOCK_BOOTTIME);
	if (cmd == BPF_PROG_LOAD) {
		calls.prog_ns += end - start;
	} else if (cmd == BPF_PROG_RUN) {
		calls.run_start = start;
		calls.run_end = end;
	} else {
		calls.map_ns += end - start;
	}
	errno = saved;
	return (int)ret;
}

/* skel_internal.h's skel_sys_bpf() is the skeleton's only syscall() */
#define syscall(...) timed_syscall(__VA_ARGS__)
#include "filter.lskel.h"
#undef syscall
#include "rules.h"

#define ROOM ((size_t)KEYS_MAX)

/* floor.c's layout: allow keys from the front, deny keys from the back */
static struct rule_key keys[ROOM];
static __u32 values[ROOM];

/* A rule list: its allow keys, then its deny keys, as floor.c fills them. */
struct list {
	const char *name;
	struct rule_key *keys;
	__u32 *values;
	size_t n_first, n_last;
};

static const struct {
	const char *name;
	enum bpf_attach_type type;
} hooks[N_PROGS] = {
	{ "jailai_sockops", BPF_CGROUP_SOCK_OPS },
	{ "jailai_connect4", BPF_CGROUP_INET4_CONNECT },
	{ "jailai_sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
	{ "jailai_connect6", BPF_CGROUP_INET6_CONNECT },
	{ "jailai_sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
	{ "jailai_egress", BPF_CGROUP_INET_EGRESS },
};

static void emit(const char *key, const char *name, int round, double value)
{
	if (round >= 0)
		printf("bd.%s.%s %d %.1f\n", key, name, round, value);
}

static void emit_count(const char *key, const char *name, int round, unsigned long long value)
{
	if (round >= 0)
		printf("bd.%s.%s %d %llu\n", key, name, round, value);
}

static double us(__u64 ns)
{
	return (double)ns / 1000.0;
}

static void read_list(const char *path, struct list *list)
{
	struct rule_key rule[KEYS_PER_RULE];
	__u32 rank[KEYS_PER_RULE];
	char line[256], *text;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	FILE *f = fopen(path, "r");
	int deny, n, j;

	if (!f)
		die("%s: %s", path, strerror(errno));
	list->name = strrchr(base, '-') ? strrchr(base, '-') + 1 : base;
	list->n_first = list->n_last = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		text = strchr(line, ' ');
		if (!text)
			die("%s: bad line %s", path, line);
		*text++ = '\0';
		deny = strcmp(line, "--deny") == 0;
		n = deny || strcmp(line, "--allow") == 0 ? rule_keys(text, deny, rule, rank) : -1;
		if (n < 0 || list->n_first + list->n_last + (size_t)n > ROOM)
			die("%s: bad rule %s %s", path, line, text);
		for (j = 0; j < n; j++) {
			size_t at = deny ? ROOM - ++list->n_last : list->n_first++;

			keys[at] = rule[j];
			values[at] = rank[j];
		}
	}
	if (ferror(f))
		die("%s: read failed", path);
	(void)fclose(f);
	if (list->n_first + list->n_last == 0)
		die("%s: no rules", path);
	list->keys = calloc(list->n_first + list->n_last, sizeof(*list->keys));
	list->values = calloc(list->n_first + list->n_last, sizeof(*list->values));
	if (!list->keys || !list->values)
		die("out of memory");
	memcpy(list->keys, keys, list->n_first * sizeof(*keys));
	memcpy(list->values, values, list->n_first * sizeof(*values));
	memcpy(list->keys + list->n_first, keys + ROOM - list->n_last,
	       list->n_last * sizeof(*keys));
	memcpy(list->values + list->n_first, values + ROOM - list->n_last,
	       list->n_last * sizeof(*values));
}

static void fill(int map_fd, struct rule_key *at, __u32 *value_at, size_t count)
{
	union bpf_attr attr;

	if (count == 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = (__u32)map_fd;
	attr.batch.keys = (__u64)(unsigned long)at;
	attr.batch.values = (__u64)(unsigned long)value_at;
	attr.batch.count = (__u32)count;
	if (syscall(__NR_bpf, BPF_MAP_UPDATE_BATCH, &attr, sizeof(attr)) < 0)
		die("BPF_MAP_UPDATE_BATCH: %s", strerror(errno));
}

static void attach(int cgroup_fd, int prog_fd, enum bpf_attach_type type)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgroup_fd;
	attr.attach_bpf_fd = (__u32)prog_fd;
	attr.attach_type = type;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(__NR_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
		die("BPF_PROG_ATTACH: %s", strerror(errno));
}

static void prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len) < 0)
		die("BPF_OBJ_GET_INFO_BY_FD of a program: %s", strerror(errno));
}

/* bd.maps and bd.prog.PROG: the run split at each program's load_time */
static void split_run(const int *progs, const char *name, int round)
{
	__u64 start[N_PROGS], next;
	char key[64];
	struct bpf_prog_info info;
	int i, j, first = 0;

	for (i = 0; i < N_PROGS; i++) {
		prog_info(progs[i], &info);
		start[i] = info.load_time;
		if (start[i] < calls.run_start || start[i] > calls.run_end)
			die("%s: load_time outside the loader program's run", hooks[i].name);
		if (start[i] < start[first])
			first = i;
	}
	emit("maps", name, round, us(start[first] - calls.run_start));
	for (i = 0; i < N_PROGS; i++) {
		next = calls.run_end;
		for (j = 0; j < N_PROGS; j++)
			if (start[j] > start[i] && start[j] < next)
				next = start[j];
		(void)snprintf(key, sizeof(key), "prog.%s", hooks[i].name);
		emit(key, name, round, us(next - start[i]));
	}
}

static void load_list(const char *cgparent, const struct list *list, int round)
{
	char cgroup[4096];
	struct filter *skel;
	int cgroup_fd, i, progs[N_PROGS];
	__u64 t_open, t_load, t_fill, t_attach, t_each[N_PROGS], t_close, t_destroy, t_end;
	char key[64];

	if ((size_t)snprintf(cgroup, sizeof(cgroup), "%s/breakdown", cgparent) >= sizeof(cgroup))
		die("%s: path too long", cgparent);
	if (mkdir(cgroup, 0755) < 0)
		die("mkdir %s: %s", cgroup, strerror(errno));
	cgroup_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0)
		die("%s: %s", cgroup, strerror(errno));
	memset(&calls, 0, sizeof(calls));

	t_open = now_ns(CLOCK_MONOTONIC);
	skel = filter__open();
	if (!skel)
		die("filter__open: %s", strerror(errno));
	t_load = now_ns(CLOCK_MONOTONIC);
	if (filter__load(skel) < 0)
		die("filter__load: %s", strerror(errno));
	t_fill = now_ns(CLOCK_MONOTONIC);
	fill(skel->maps.rules.map_fd, list->keys, list->values, list->n_first);
	fill(skel->maps.rules.map_fd, list->keys + list->n_first, list->values + list->n_first,
	     list->n_last);
	t_attach = now_ns(CLOCK_MONOTONIC);
	progs[0] = skel->progs.jailai_sockops.prog_fd;
	progs[1] = skel->progs.jailai_connect4.prog_fd;
	progs[2] = skel->progs.jailai_sendmsg4.prog_fd;
	progs[3] = skel->progs.jailai_connect6.prog_fd;
	progs[4] = skel->progs.jailai_sendmsg6.prog_fd;
	progs[5] = skel->progs.jailai_egress.prog_fd;
	for (i = 0; i < N_PROGS; i++) {
		t_each[i] = now_ns(CLOCK_MONOTONIC);
		attach(cgroup_fd, progs[i], hooks[i].type);
	}
	t_close = now_ns(CLOCK_MONOTONIC);
	split_run(progs, list->name, round); /* untimed */
	t_destroy = now_ns(CLOCK_MONOTONIC);
	filter__destroy(skel);
	if (close(cgroup_fd) < 0)
		die("close %s: %s", cgroup, strerror(errno));
	t_end = now_ns(CLOCK_MONOTONIC);

	emit("open", list->name, round, us(t_load - t_open));
	emit("load", list->name, round, us(t_fill - t_load));
	emit("lmap", list->name, round, us(calls.map_ns));
	emit("lprog", list->name, round, us(calls.prog_ns));
	emit("lrun", list->name, round, us(calls.run_end - calls.run_start));
	emit("fill", list->name, round, us(t_attach - t_fill));
	emit("attach", list->name, round, us(t_close - t_attach));
	for (i = 0; i < N_PROGS; i++) {
		(void)snprintf(key, sizeof(key), "attach.%s", hooks[i].name);
		emit(key, list->name, round,
		     us((i + 1 < N_PROGS ? t_each[i + 1] : t_close) - t_each[i]));
	}
	emit("close", list->name, round, us(t_end - t_destroy));
	emit("total", list->name, round, us(t_close - t_open + t_end - t_destroy));
	if (rmdir(cgroup) < 0)
		die("rmdir %s: %s", cgroup, strerror(errno));
	nanosleep(&(struct timespec){ .tv_nsec = 20000000L }, NULL);
}

/* The value after "WHAT" in a verifier log, or die. */
static unsigned long long log_value(const char *log, const char *what, const char *prog)
{
	const char *at = strstr(log, what);
	char *end;
	unsigned long long value;

	if (!at)
		die("%s: no \"%s\" in its verifier log", prog, what);
	errno = 0;
	value = strtoull(at + strlen(what), &end, 10);
	if (errno || end == at + strlen(what))
		die("%s: bad \"%s\" in its verifier log", prog, what);
	return value;
}

/* A second map like MAP, timed from BPF_MAP_CREATE to its fd. */
static double map_create_us(const struct bpf_map *map, int btf_fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	__u64 start;
	double took;
	int fd;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len) < 0)
		die("BPF_OBJ_GET_INFO_BY_FD of map %s: %s", bpf_map__name(map), strerror(errno));
	opts.map_flags = info.map_flags;
	opts.map_extra = info.map_extra;
	if (info.btf_key_type_id || info.btf_value_type_id) {
		opts.btf_fd = (__u32)btf_fd;
		opts.btf_key_type_id = info.btf_key_type_id;
		opts.btf_value_type_id = info.btf_value_type_id;
	}
	start = now_ns(CLOCK_MONOTONIC);
	fd = bpf_map_create(info.type, info.name, info.key_size, info.value_size, info.max_entries,
			    &opts);
	took = us(now_ns(CLOCK_MONOTONIC) - start);
	if (fd < 0)
		die("BPF_MAP_CREATE like map %s: %s", bpf_map__name(map), strerror(errno));
	(void)close(fd);
	return took;
}

static void inspect(const char *path, int round)
{
	static char logs[N_PROGS][LOG_SIZE];
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	struct bpf_prog_info info;
	const char *name;
	int n = 0, btf_fd;

	if (!obj)
		die("bpf_object__open_file %s: %s", path, strerror(errno));
	for (prog = bpf_object__next_program(obj, NULL); prog;
	     prog = bpf_object__next_program(obj, prog)) {
		if (n == N_PROGS)
			die("%s: more than %d programs", path, N_PROGS);
		logs[n][0] = '\0';
		if (bpf_program__set_log_level(prog, 4 /* BPF_LOG_STATS */) < 0 ||
		    bpf_program__set_log_buf(prog, logs[n], LOG_SIZE) < 0)
			die("%s: setting the verifier log", bpf_program__name(prog));
		n++;
	}
	if (bpf_object__load(obj) < 0)
		die("bpf_object__load %s: %s", path, strerror(errno));
	n = 0;
	for (prog = bpf_object__next_program(obj, NULL); prog;
	     prog = bpf_object__next_program(obj, prog)) {
		name = bpf_program__name(prog);
		prog_info(bpf_program__fd(prog), &info);
		emit_count("verify", name, round, log_value(logs[n], "verification time ", name));
		emit_count("processed", name, round, log_value(logs[n], "processed ", name));
		emit_count("insns", name, round, info.verified_insns);
		emit_count("xlated", name, round, info.xlated_prog_len);
		emit_count("jited", name, round, info.jited_prog_len);
		n++;
	}
	btf_fd = bpf_object__btf(obj) ? btf__fd(bpf_object__btf(obj)) : -1;
	for (map = bpf_object__next_map(obj, NULL); map; map = bpf_object__next_map(obj, map))
		emit("mapcreate", bpf_map__name(map), round, map_create_us(map, btf_fd));
	bpf_object__close(obj);
}

int main(int argc, char **argv)
{
	struct list *lists;
	char *end;
	long rounds;
	int round, i, n_lists = argc - 4;

	if (argc < 5) {
		fprintf(stderr, "usage: breakdown ROUNDS CGROUP_PARENT OBJECT LISTFILE...\n");
		return 2;
	}
	errno = 0;
	rounds = strtol(argv[1], &end, 10);
	if (errno || *end || rounds < 1 || rounds > 4096)
		die("bad ROUNDS %s", argv[1]);
	lists = calloc((size_t)n_lists, sizeof(*lists));
	if (!lists)
		die("out of memory");
	for (i = 0; i < n_lists; i++)
		read_list(argv[4 + i], &lists[i]);
	for (round = -1; round < (int)rounds; round++) {
		inspect(argv[3], round);
		for (i = 0; i < n_lists; i++)
			load_list(argv[2], &lists[i], round);
		if (fflush(stdout) != 0)
			die("stdout: %s", strerror(errno));
	}
	for (i = 0; i < n_lists; i++) {
		free(lists[i].keys);
		free(lists[i].values);
	}
	free(lists);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * latency ROUNDS CGPARENT RAWOUT LABEL=SPEC...: time whole processes, spawn
 * to exit, interleaved: each round runs every case once, so every case sees
 * the same drift of a busy machine, in an order shuffled afresh each round
 * (fixed seed, so reproducible), so no case always follows the same one:
 * the kernel frees the previous run's filter in the background. One
 * unrecorded warm-up round comes first.
 *
 * SPEC is a file holding one argv entry a line; "@CGROUP@" stands for the
 * run's cgroup. A run whose argv holds it gets a fresh cgroup CGPARENT/run,
 * made before the clock starts; after the run the driver checks that
 * exactly one program is attached to each of the six hooks, then removes
 * the cgroup (which releases the programs). A line "@AFTER@" ends the
 * timed argv: the lines after it are a second argv, run untimed after each
 * run, which must exit 0 (the firewalls' runs: it checks that their rules
 * went in, and removes them). Then the kernel gets 20 ms to settle.
 *
 * Appends "lat.LABEL ROUND MILLISECONDS" (wall clock) and "cpu.LABEL ROUND
 * MILLISECONDS" (user + system time of the process and all it waited for,
 * from wait4: the scheduler's exact runtime, so what the run would take on
 * an idle machine) to RAWOUT. Not wait4's ru_maxrss: it would include this
 * driver's own pages, which the child shares until exec. Any failed run
 * (exit status, signal, missing program) ends the driver with status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CASES 32

struct bench_case {
	char label[64];
	char *text; /* the spec file; argv points into it */
	char **argv;
	char **after; /* NULL, or the argv run after each run, untimed */
	size_t cgroup_slot[4]; /* argv indexes holding "@CGROUP@" */
	size_t n_slots;
};

static const struct {
	enum bpf_attach_type type;
	const char *name;
} hooks[] = {
	{ BPF_CGROUP_SOCK_OPS, "sockops" },	 { BPF_CGROUP_INET4_CONNECT, "connect4" },
	{ BPF_CGROUP_UDP4_SENDMSG, "sendmsg4" }, { BPF_CGROUP_INET6_CONNECT, "connect6" },
	{ BPF_CGROUP_UDP6_SENDMSG, "sendmsg6" }, { BPF_CGROUP_INET_EGRESS, "egress" },
};

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("latency: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	exit(1);
}

static char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		die("%s: %s", path, strerror(errno));
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
		die("%s: read failed", path);
	buf[len] = '\0';
	(void)fclose(f);
	*size = (size_t)len;
	return buf;
}

static struct bench_case *load_case(const char *arg)
{
	struct bench_case *c = calloc(1, sizeof(*c));
	const char *eq = strchr(arg, '=');
	size_t size, n = 0;
	char *text, *line, *save = NULL;

	if (!c)
		die("out of memory");
	if (!eq || (size_t)(eq - arg) >= sizeof(c->label))
		die("bad case %s (want LABEL=SPECFILE)", arg);
	memcpy(c->label, arg, (size_t)(eq - arg));
	c->label[eq - arg] = '\0';
	text = c->text = slurp(eq + 1, &size);
	c->argv = calloc(size / 2 + 2, sizeof(char *));
	if (!c->argv) {
		free(text);
		die("out of memory");
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "@AFTER@") == 0 && !c->after && n > 0) {
			c->argv[n++] = NULL;
			c->after = c->argv + n;
			continue;
		}
		if (strcmp(line, "@CGROUP@") == 0) {
			if (c->n_slots == 4)
				die("%s: too many @CGROUP@", arg);
			c->cgroup_slot[c->n_slots++] = n;
		}
		c->argv[n++] = line;
	}
	if (n == 0 || (c->after && !c->after[0]))
		die("%s: empty spec", arg);
	return c;
}

static double ms_of(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Exactly one program on each of our six hooks, or a message why not. */
static const char *check_attached(const char *cgroup)
{
	static char why[128];
	union bpf_attr attr;
	__u32 ids[8];
	size_t h;
	int fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return "cannot open the cgroup";
	for (h = 0; h < sizeof(hooks) / sizeof(hooks[0]); h++) {
		memset(&attr, 0, sizeof(attr));
		attr.query.target_fd = (__u32)fd;
		attr.query.attach_type = hooks[h].type;
		attr.query.prog_ids = (__u64)(unsigned long)ids;
		attr.query.prog_cnt = 8;
		if (syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) < 0 ||
		    attr.query.prog_cnt != 1) {
			snprintf(why, sizeof(why), "the %s hook has %u programs", hooks[h].name,
				 attr.query.prog_cnt);
			close(fd);
			return why;
		}
	}
	close(fd);
	return NULL;
}

static int spawn(char **argv, pid_t *pid)
{
	static char *const envp[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
		NULL
	};
	posix_spawn_file_actions_t actions;
	int err;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
	err = posix_spawn(pid, argv[0], &actions, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&actions);
	return err;
}

static void run_case(struct bench_case *c, const char *cgroup, int round, FILE *raw)
{
	struct rusage usage;
	const char *why = NULL;
	double start, end;
	size_t i;
	pid_t pid;
	int status, err;

	for (i = 0; i < c->n_slots; i++)
		c->argv[c->cgroup_slot[i]] = (char *)cgroup;
	if (c->n_slots && mkdir(cgroup, 0755) < 0)
		die("mkdir %s: %s", cgroup, strerror(errno));

	start = now_ms();
	err = spawn(c->argv, &pid);
	if (err == 0 && wait4(pid, &status, 0, &usage) != pid)
		err = errno;
	end = now_ms();

	if (err)
		die("%s: cannot run %s: %s", c->label, c->argv[0], strerror(err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (c->n_slots)
			rmdir(cgroup);
		die("%s, round %d: %s %s %d", c->label, round, c->argv[0],
		    WIFEXITED(status) ? "exited" : "killed by signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	if (c->n_slots) {
		why = check_attached(cgroup);
		if (rmdir(cgroup) < 0)
			die("rmdir %s: %s", cgroup, strerror(errno));
	}
	if (why)
		die("%s, round %d: after exit 0, %s", c->label, round, why);
	if (c->after) {
		err = spawn(c->after, &pid);
		if (err)
			die("%s: cannot run %s: %s", c->label, c->after[0], strerror(err));
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("%s, round %d: after exit 0, %s failed", c->label, round, c->after[0]);
	}
	if (round >= 0)
		fprintf(raw, "lat.%s %d %.4f\ncpu.%s %d %.4f\n", c->label, round, end - start,
			c->label, round, ms_of(&usage.ru_utime) + ms_of(&usage.ru_stime));
	/* removing the cgroup frees the programs and maps in the background */
	nanosleep(&(struct timespec){ .tv_nsec = 20000000L }, NULL);
}

/* xorshift64: a fixed, reproducible sequence; quality is beside the point */
static size_t next_random(size_t bound)
{
	static unsigned long long state = 0x9e3779b97f4a7c15ULL;

	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (size_t)(state % bound);
}

int main(int argc, char **argv)
{
	int order[MAX_CASES] = { 0 }, swap;
	char *end;
	long rounds_arg;
	size_t k;
	struct bench_case *cases[MAX_CASES];
	char cgroup[4096];
	int rounds, n, r, j;
	FILE *raw;

	if (argc < 5 || argc - 4 > MAX_CASES)
		die("usage: latency ROUNDS CGPARENT RAWOUT LABEL=SPEC...");
	rounds_arg = strtol(argv[1], &end, 10);
	if (*end || rounds_arg < 1 || rounds_arg > 10000)
		die("ROUNDS must be 1..10000");
	rounds = (int)rounds_arg;
	snprintf(cgroup, sizeof(cgroup), "%s/run", argv[2]);
	raw = fopen(argv[3], "a");
	if (!raw)
		die("%s: %s", argv[3], strerror(errno));
	n = argc - 4;
	for (j = 0; j < n; j++)
		cases[j] = load_case(argv[j + 4]);
	for (j = 0; j < n; j++)
		order[j] = j;
	for (r = -1; r < rounds; r++) {
		for (j = n - 1; j > 0; j--) {
			k = next_random((size_t)j + 1);
			swap = order[j];
			order[j] = order[k];
			order[k] = swap;
		}
		for (j = 0; j < n; j++)
			run_case(cases[order[j]], cgroup, r, raw);
		if (fflush(raw))
			die("%s: %s", argv[3], strerror(errno));
	}
	if (fclose(raw))
		die("%s: %s", argv[3], strerror(errno));
	return 0;
}

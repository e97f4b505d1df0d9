// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD shim for test/confinement.bats: makes one syscall that the
 * seccomp allowlist (DESIGN.md §5) forbids, from inside the real loader,
 * once the filter is live. The filter must kill the process with SIGSYS.
 *
 * It wraps inet_pton(), which the loader calls only while parsing --deny,
 * i.e. after confine(); SHIM_FORBID_AT=report wraps write() to fd 1 instead,
 * the JSON line at the very end (after attach and capset). At that point the
 * shim first says "shim: ACTION at WHERE" on fd 2 (an allowed write, which
 * proves the interposition took effect), then makes the syscall named by
 * SHIM_FORBID. Should the process survive, it says so and exits 98.
 *
 * SHIM_FORBID=none forwards untouched; =allowed makes only allowlisted calls
 * (the control showing that the kill comes from the syscall, not the shim).
 * Everything that may itself need a syscall (dlsym, getenv) happens in the
 * constructor, before main() and so before the filter.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#define EXACT_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define X32_SYSCALL_BIT 0x40000000L

typedef int (*inet_pton_fn)(int, const char *, void *);
typedef ssize_t (*write_fn)(int, const void *, size_t);

static inet_pton_fn real_inet_pton;
static write_fn real_write;
static char action[64] = "none";
static int at_report;
static int fired;

static void tell(const char *text)
{
	if (real_write(STDERR_FILENO, text, strlen(text)) < 0)
		_exit(97);
}

static long do_allowed(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct statfs sfs;
	struct stat st;
	int fd;

	/* Every kind of call on the list, with its argument constraints. */
	fd = openat(AT_FDCWD, "/", EXACT_FLAGS);
	if (fd < 0 || syscall(SYS_fstat, fd, &st) < 0 || fstatfs(fd, &sfs) < 0 || close(fd) < 0 ||
	    syscall(SYS_capget, &header, data) < 0)
		return -1;
	return real_write(STDOUT_FILENO, "", 0);
}

static long do_forbidden(const char *name)
{
	static char *const argv[] = { "true", NULL };
	union bpf_attr attr;
	struct utsname uts;
	struct stat st;
	struct iovec iov = { "x", 1 };

	memset(&attr, 0, sizeof(attr));
	if (strcmp(name, "getpid") == 0)
		return syscall(SYS_getpid);
	if (strcmp(name, "socket") == 0)
		return socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(name, "execve") == 0)
		return execve("/bin/true", argv, NULL);
	if (strcmp(name, "open-etc-passwd") == 0) /* openat, O_RDONLY only */
		return open("/etc/passwd", O_RDONLY);
	if (strcmp(name, "openat-no-cloexec") == 0)
		return openat(AT_FDCWD, "/", EXACT_FLAGS & ~O_CLOEXEC);
	if (strcmp(name, "openat-extra-flag") == 0)
		return openat(AT_FDCWD, "/", EXACT_FLAGS | O_PATH);
	if (strcmp(name, "open-legacy") == 0) /* right flags, wrong syscall */
		return syscall(SYS_open, "/", EXACT_FLAGS);
	if (strcmp(name, "write-fd3") == 0)
		return real_write(3, "x", 1);
	if (strcmp(name, "write-fd0") == 0)
		return real_write(STDIN_FILENO, "x", 1);
	if (strcmp(name, "writev-fd2") == 0)
		return writev(STDERR_FILENO, &iov, 1);
	/* An anonymous mapping takes fd -1 (cppcheck's posix model says no). */
	if (strcmp(name, "mmap") == 0)
		return (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  // cppcheck-suppress invalidFunctionArg
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (strcmp(name, "brk") == 0)
		return syscall(SYS_brk, 0);
	if (strcmp(name, "uname") == 0)
		return uname(&uts);
	if (strcmp(name, "newfstatat") == 0) /* what glibc's fstat() makes */
		return fstat(STDIN_FILENO, &st);
	if (strcmp(name, "bpf-obj-get") == 0) /* a bpf command not listed */
		return syscall(SYS_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
	if (strcmp(name, "bpf-link-create") == 0)
		return syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (strcmp(name, "x32-getpid") == 0) /* the x32 ABI's getpid */
		return syscall(X32_SYSCALL_BIT | SYS_getpid);
	tell("shim: unknown SHIM_FORBID\n");
	_exit(96);
}

static void fire(const char *where)
{
	char text[160];

	fired = 1;
	if (strcmp(action, "none") == 0)
		return;
	snprintf(text, sizeof(text), "shim: %s at %s\n", action, where);
	tell(text);
	if (strcmp(action, "allowed") == 0) {
		if (do_allowed() < 0) {
			tell("shim: an allowed call failed\n");
			_exit(95);
		}
		return;
	}
	do_forbidden(action);
	snprintf(text, sizeof(text), "shim: survived %s\n", action);
	tell(text);
	_exit(98);
}

__attribute__((constructor)) static void setup(void)
{
	const char *forbid = getenv("SHIM_FORBID");
	const char *where = getenv("SHIM_FORBID_AT");

	real_inet_pton = (inet_pton_fn)dlsym(RTLD_NEXT, "inet_pton");
	real_write = (write_fn)dlsym(RTLD_NEXT, "write");
	if (!real_inet_pton || !real_write)
		_exit(94);
	if (forbid)
		snprintf(action, sizeof(action), "%s", forbid);
	at_report = where && strcmp(where, "report") == 0;
}

int inet_pton(int af, const char *src, void *dst)
{
	if (!at_report && !fired)
		fire("parse");
	return real_inet_pton(af, src, dst);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	if (at_report && !fired && fd == STDOUT_FILENO)
		fire("report");
	return real_write(fd, buf, count);
}

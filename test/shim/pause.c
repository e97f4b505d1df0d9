// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD shim for test/confinement.bats: holds the real loader still at
 * one point, without a single syscall, so the test can read
 * /proc/PID/status from outside while the loader is confined.
 *
 * SHIM_PAUSE_AT=parse pauses in the first inet_pton() (while --deny is
 * parsed, right after confine()); =report pauses in the write() of the
 * JSON line to fd 1 (after attach, settle and the capability drop).
 * There the shim writes "shim: paused at WHERE" to fd 2 (allowed), then
 * spins on the first byte of the file SHIM_FLAG, mapped shared in the
 * constructor (before main, so before the filter), until the test writes a
 * 'G' into it; page-cache coherence makes that visible without a syscall.
 * The spin is bounded, so a forgotten loader still ends on its own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SPIN_MAX (1UL << 35)

typedef int (*inet_pton_fn)(int, const char *, void *);
typedef ssize_t (*write_fn)(int, const void *, size_t);

static inet_pton_fn real_inet_pton;
static write_fn real_write;
static const volatile char *flag;
static int at_report;
static int paused;

static void pause_here(const char *where)
{
	char text[64];
	unsigned long spins;

	paused = 1;
	snprintf(text, sizeof(text), "shim: paused at %s\n", where);
	if (real_write(STDERR_FILENO, text, strlen(text)) < 0)
		_exit(97);
	for (spins = 0; flag[0] != 'G' && spins < SPIN_MAX; spins++)
		;
}

__attribute__((constructor)) static void setup(void)
{
	const char *path = getenv("SHIM_FLAG");
	const char *where = getenv("SHIM_PAUSE_AT");
	void *map;
	int fd;

	real_inet_pton = (inet_pton_fn)dlsym(RTLD_NEXT, "inet_pton");
	real_write = (write_fn)dlsym(RTLD_NEXT, "write");
	if (!real_inet_pton || !real_write || !path || !where)
		_exit(94);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(94);
	map = mmap(NULL, 1, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		_exit(94);
	flag = map;
	at_report = strcmp(where, "report") == 0;
}

int inet_pton(int af, const char *src, void *dst)
{
	if (!at_report && !paused)
		pause_here("parse");
	return real_inet_pton(af, src, dst);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	if (at_report && !paused && fd == STDOUT_FILENO)
		pause_here("report");
	return real_write(fd, buf, count);
}

// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD shim for test/confinement.bats: makes chosen bpf() commands
 * fail, as an old or differently built kernel would, so the loader's
 * feature detection and error paths can be driven on a modern kernel.
 *
 * It wraps libc's syscall(), through which both loader.c (sys_bpf) and the
 * light skeleton (skel_sys_bpf) reach bpf(). SHIM_BPF_FAIL lists
 * injections "CMD:TYPE:ERRNO[,CMD:TYPE:ERRNO]...": a bpf() call with
 * command CMD fails with ERRNO, without reaching the kernel, when TYPE is
 * '*' or equals the attr's prog_type (BPF_PROG_LOAD), map_type
 * (BPF_MAP_CREATE) or attach_type (BPF_PROG_ATTACH). Every other call
 * goes to the real syscall(), looked up in the constructor: dlsym after the
 * filter could need mmap.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INJECTIONS 8

typedef long (*syscall_fn)(long, ...);

static struct injection {
	long cmd;
	long type; /* -1: any */
	int err;
} injections[MAX_INJECTIONS];
static int n_injections;
static syscall_fn real_syscall;

static void parse_injections(const char *spec)
{
	char *end;
	struct injection *inj;

	while (*spec && n_injections < MAX_INJECTIONS) {
		inj = &injections[n_injections++];
		inj->cmd = strtol(spec, &end, 10);
		if (*end != ':')
			_exit(93);
		if (end[1] == '*') {
			inj->type = -1;
			end += 2;
		} else {
			inj->type = strtol(end + 1, &end, 10);
		}
		if (*end != ':')
			_exit(93);
		inj->err = (int)strtol(end + 1, &end, 10);
		if (*end != ',' && *end != '\0')
			_exit(93);
		spec = *end ? end + 1 : end;
	}
}

__attribute__((constructor)) static void setup(void)
{
	const char *spec = getenv("SHIM_BPF_FAIL");

	real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	if (!real_syscall)
		_exit(94);
	if (spec)
		parse_injections(spec);
}

static long type_of(long cmd, const union bpf_attr *attr)
{
	switch (cmd) {
	case BPF_PROG_LOAD:
		return attr->prog_type;
	case BPF_MAP_CREATE:
		return attr->map_type;
	case BPF_PROG_ATTACH:
		return attr->attach_type;
	default:
		return -1;
	}
}

static int injected_error(long cmd, const union bpf_attr *attr)
{
	int i;

	for (i = 0; i < n_injections; i++)
		if (injections[i].cmd == cmd &&
		    (injections[i].type == -1 || injections[i].type == type_of(cmd, attr)))
			return injections[i].err;
	return 0;
}

long syscall(long number, ...)
{
	long arg[6];
	va_list ap;
	int i, err;

	/* The shim reads six: unused ones are garbage registers or the
	 * caller's stack on x86-64, never used, never a fault. */
	va_start(ap, number);
	for (i = 0; i < 6; i++)
		arg[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_bpf) {
		err = injected_error(arg[0], (const union bpf_attr *)arg[1]);
		if (err) {
			errno = err;
			return -1;
		}
	}
	return real_syscall(number, arg[0], arg[1], arg[2], arg[3], arg[4], arg[5]);
}

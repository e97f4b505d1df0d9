// SPDX-License-Identifier: MIT
/*
 * Linked only into build/valgrind/jail-ai-ebpf-loader (mk/assurance.mk), the
 * loader built from the very same loader.o and validate.o for
 * test/valgrind.bats. Valgrind cannot run a process confined by the
 * loader's seccomp filter: valgrind 3.19 does not know the seccomp syscall
 * (so libseccomp refuses SCMP_ACT_KILL_PROCESS), and once a filter is in
 * place valgrind's own mmap/mprotect/rt_sigprocmask calls would be killed.
 *
 * So, for this build only: libseccomp is told the kernel API level instead
 * of probing it, and seccomp_load is linked (-Wl,--wrap=seccomp_load) to a
 * function that leaves the built filter uninstalled. Everything else
 * (hygiene, building the filter with libseccomp, parsing, the cgroup walk,
 * authorization, BPF load and attach, capability drop, report) runs as in
 * the real binary. test/confinement.bats proves the real filter.
 */
#include <seccomp.h>

/* The linker's --wrap requires this reserved name. */
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
int __wrap_seccomp_load(const scmp_filter_ctx ctx);

// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
int __wrap_seccomp_load(const scmp_filter_ctx ctx)
{
	(void)ctx;
	return 0;
}

/* Level 3: the seccomp() syscall, TSYNC, LOG and KILL_PROCESS available
 * (Linux >= 4.14, far below the loader's minimum of 5.14). */
__attribute__((constructor)) static void assume_seccomp_api(void)
{
	if (seccomp_api_set(3) != 0)
		__builtin_trap();
}

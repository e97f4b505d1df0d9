// SPDX-License-Identifier: MIT
/*
 * sockfamily: which sockets a container may open, and datagrams it may send,
 * for test/podman.bats. Linked statically (mk/sockfamily.mk): it runs in the
 * suite's busybox image.
 *
 *   sockfamily families
 *       one socket() per address family, one line each: "NAME ok" or
 *       "NAME ENAME" (the errno's name). NAME is unix, inet, inet6, netlink,
 *       packet, vsock or xdp (the native x86-64 call), then through the
 *       32-bit x86 ABI (int $0x80; seccomp sees AUDIT_ARCH_I386 there):
 *       ia32-socket-inet and ia32-socket-vsock (socket, ia32 number 359),
 *       ia32-socketcall-inet and ia32-socketcall-vsock (socketcall, 102, with
 *       SYS_SOCKET and a pointer below 4 GiB to its three arguments). An ia32
 *       line reads "NAME unavailable" when int $0x80 kills its caller: a
 *       kernel that runs no ia32 syscalls (ia32 emulation off).
 *   sockfamily seccomp PID
 *       the seccomp filters of process PID (root: PTRACE_SECCOMP_GET_FILTER),
 *       run in this program for the same calls as "families", one line each:
 *       "NAME ok" (allowed), "NAME ENAME" (SECCOMP_RET_ERRNO), or "NAME kill",
 *       "trap", "notify", "trace", "log": what the kernel would decide for
 *       that syscall, also where this kernel cannot make it (ia32).
 *   sockfamily send-udp ADDR[%IFNAME] PORT TEXT
 *       one UDP datagram TEXT to ADDR PORT from a socket with SO_BROADCAST
 *       (a link-local IPv6 ADDR takes its interface after %); prints
 *       "send ADDR PORT ok" (exit 0) or "send ADDR PORT ENAME" (exit 1).
 *   sockfamily listen-udp PORT [GROUP%IFNAME]...
 *       bind 0.0.0.0:PORT and [::]:PORT, join each multicast GROUP on
 *       IFNAME, print "ready", then "TEXT to DST from SRC" for each datagram
 *       (DST: the address it was sent to) until killed (or LIFETIME, 30 min:
 *       a safety net only).
 *
 * Exit 64 on a usage error, 71 when the system refuses what it needs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

#define LIFETIME 1800 /* s */
/* The 32-bit x86 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
#define IA32_SOCKETCALL 102
#define IA32_SOCKET 359
/* What "seccomp" passes as socketcall's argument pointer. */
#define IA32_ARGS_ADDRESS 0x10000u
#define MAX_FILTERS 16

enum { EXIT_FAILED = 1, EXIT_USAGE = 64, EXIT_OSERR = 71 };

static const char usage[] = "usage: sockfamily families\n"
			    "       sockfamily seccomp PID\n"
			    "       sockfamily send-udp ADDR[%IFNAME] PORT TEXT\n"
			    "       sockfamily listen-udp PORT [GROUP%IFNAME]...\n";

/* One socket call: native x86-64 socket(), ia32 socket() or socketcall(). */
enum abi { NATIVE, IA32_SOCKET_CALL, IA32_SOCKETCALL_CALL };

struct attempt {
	const char *name;
	enum abi abi;
	unsigned int domain;
	unsigned int type;
	unsigned int protocol;
};

static const struct attempt attempts[] = {
	{ "unix", NATIVE, AF_UNIX, SOCK_STREAM, 0 },
	{ "inet", NATIVE, AF_INET, SOCK_STREAM, 0 },
	{ "inet6", NATIVE, AF_INET6, SOCK_STREAM, 0 },
	{ "netlink", NATIVE, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE },
	/* ETH_P_ALL in network byte order, as htons() gives it here. */
	{ "packet", NATIVE, AF_PACKET, SOCK_RAW, 0x0300 },
	{ "vsock", NATIVE, AF_VSOCK, SOCK_STREAM, 0 },
	{ "xdp", NATIVE, AF_XDP, SOCK_RAW, 0 },
	{ "ia32-socket-inet", IA32_SOCKET_CALL, AF_INET, SOCK_STREAM, 0 },
	{ "ia32-socket-vsock", IA32_SOCKET_CALL, AF_VSOCK, SOCK_STREAM, 0 },
	{ "ia32-socketcall-inet", IA32_SOCKETCALL_CALL, AF_INET, SOCK_STREAM, 0 },
	{ "ia32-socketcall-vsock", IA32_SOCKETCALL_CALL, AF_VSOCK, SOCK_STREAM, 0 },
};

#define ATTEMPTS (sizeof(attempts) / sizeof(attempts[0]))

/* "NAME ok" for a call that returned ret >= 0, else "NAME ENAME". */
static void report(const char *name, long ret, int err)
{
	const char *errname;

	if (ret >= 0) {
		printf("%s ok\n", name);
		return;
	}
	errname = strerrorname_np(err);
	if (errname)
		printf("%s %s\n", name, errname);
	else
		printf("%s errno %d\n", name, err);
}

/*
 * A 32-bit x86 system call from this 64-bit process: int $0x80 enters the
 * kernel's ia32 entry, which seccomp filters as AUDIT_ARCH_I386. Arguments
 * in ebx, ecx, edx; the result (or -errno) in eax. Older kernels clobber
 * r8-r11 on this path.
 */
static int ia32_syscall3(int nr, unsigned int arg1, unsigned int arg2, unsigned int arg3)
{
	int ret = nr;

	__asm__ volatile("int $0x80"
			 : "+a"(ret)
			 : "b"(arg1), "c"(arg2), "d"(arg3)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret;
}

/* The ia32 call of attempt, in a child: a kernel without ia32 syscalls
 * kills the caller of int $0x80 (SIGSEGV), which then reads "unavailable". */
static void try_ia32(const struct attempt *attempt, unsigned int *args)
{
	int ret, status;
	pid_t child;

	(void)fflush(stdout);
	child = fork();
	if (child < 0) {
		perror("sockfamily: fork");
		exit(EXIT_OSERR);
	}
	if (child == 0) {
		if (attempt->abi == IA32_SOCKET_CALL) {
			ret = ia32_syscall3(IA32_SOCKET, attempt->domain, attempt->type,
					    attempt->protocol);
		} else {
			args[0] = attempt->domain;
			args[1] = attempt->type;
			args[2] = attempt->protocol;
			ret = ia32_syscall3(IA32_SOCKETCALL, SYS_SOCKET,
					    (unsigned int)(uintptr_t)args, 0);
		}
		report(attempt->name, ret, -ret);
		(void)fflush(stdout);
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child) {
		perror("sockfamily: waitpid");
		exit(EXIT_OSERR);
	}
	if (WIFSIGNALED(status))
		printf("%s unavailable\n", attempt->name);
}

static int run_families(void)
{
	unsigned int *args;
	size_t i;
	int fd;

	/* socketcall reads its arguments through a 32-bit pointer. */
	args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		    // cppcheck-suppress invalidFunctionArg ; no file: fd -1
		    -1, 0);
	if (args == MAP_FAILED) {
		perror("sockfamily: mmap MAP_32BIT");
		return EXIT_OSERR;
	}
	for (i = 0; i < ATTEMPTS; i++) {
		if (attempts[i].abi != NATIVE) {
			try_ia32(&attempts[i], args);
			continue;
		}
		fd = socket((int)attempts[i].domain, (int)attempts[i].type,
			    (int)attempts[i].protocol);
		report(attempts[i].name, fd, errno);
		if (fd >= 0)
			close(fd);
	}
	munmap(args, 4096);
	return 0;
}

/*
 * Classic BPF as seccomp runs it (kernel/seccomp.c, seccomp_check_filter:
 * loads from struct seccomp_data, scratch memory, ALU, jumps, returns).
 * Returns 0 and the filter's verdict in *verdict, or -1 for an instruction
 * the kernel would not have accepted.
 */
static int run_bpf(const struct sock_filter *prog, size_t len, const struct seccomp_data *data,
		   uint32_t *verdict)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 }, operand;
	size_t pc = 0;

	while (pc < len) {
		const struct sock_filter *ins = &prog[pc++];
		uint32_t k = ins->k;

		switch (BPF_CLASS(ins->code)) {
		case BPF_LD:
		case BPF_LDX:
			if (ins->code == (BPF_LD | BPF_W | BPF_ABS)) {
				if (k % 4 || k > sizeof(*data) - 4)
					return -1;
				memcpy(&a, (const char *)data + k, 4);
			} else if (ins->code == (BPF_LD | BPF_W | BPF_LEN)) {
				a = sizeof(*data);
			} else if (ins->code == (BPF_LDX | BPF_W | BPF_LEN)) {
				x = sizeof(*data);
			} else if (ins->code == (BPF_LD | BPF_IMM)) {
				a = k;
			} else if (ins->code == (BPF_LDX | BPF_IMM)) {
				x = k;
			} else if (k < BPF_MEMWORDS && ins->code == (BPF_LD | BPF_MEM)) {
				a = mem[k];
			} else if (k < BPF_MEMWORDS && ins->code == (BPF_LDX | BPF_MEM)) {
				x = mem[k];
			} else {
				return -1;
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return -1;
			mem[k] = BPF_CLASS(ins->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			operand = BPF_SRC(ins->code) == BPF_X ? x : k;
			switch (BPF_OP(ins->code)) {
			case BPF_ADD:
				a += operand;
				break;
			case BPF_SUB:
				a -= operand;
				break;
			case BPF_MUL:
				a *= operand;
				break;
			case BPF_OR:
				a |= operand;
				break;
			case BPF_AND:
				a &= operand;
				break;
			case BPF_XOR:
				a ^= operand;
				break;
			case BPF_LSH:
				a = operand < 32 ? a << operand : 0;
				break;
			case BPF_RSH:
				a = operand < 32 ? a >> operand : 0;
				break;
			case BPF_NEG:
				a = 0u - a;
				break;
			case BPF_DIV:
			case BPF_MOD:
				if (!operand)
					return -1;
				a = BPF_OP(ins->code) == BPF_DIV ? a / operand : a % operand;
				break;
			default:
				return -1;
			}
			break;
		case BPF_JMP:
			operand = BPF_SRC(ins->code) == BPF_X ? x : k;
			switch (BPF_OP(ins->code)) {
			case BPF_JA:
				pc += k;
				break;
			case BPF_JEQ:
				pc += a == operand ? ins->jt : ins->jf;
				break;
			case BPF_JGT:
				pc += a > operand ? ins->jt : ins->jf;
				break;
			case BPF_JGE:
				pc += a >= operand ? ins->jt : ins->jf;
				break;
			case BPF_JSET:
				pc += a & operand ? ins->jt : ins->jf;
				break;
			default:
				return -1;
			}
			break;
		case BPF_RET:
			if (BPF_RVAL(ins->code) == BPF_A)
				*verdict = a;
			else if (BPF_RVAL(ins->code) == BPF_K)
				*verdict = k;
			else
				return -1;
			return 0;
		case BPF_MISC:
			if (BPF_MISCOP(ins->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

struct filter {
	struct sock_filter *prog;
	size_t len;
};

/* Every seccomp filter of pid, newest first; returns how many, or -1. */
static int get_filters(pid_t pid, struct filter *filters, int max)
{
	long len;
	int n, status, i;

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0 || waitpid(pid, &status, __WALL) != pid) {
		perror("sockfamily: ptrace");
		return -1;
	}
	for (n = 0; n < max; n++) {
		len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, NULL);
		/* ENOENT: no filter this old; EINVAL: no filter at all. */
		if (len < 0 && (errno == ENOENT || (n == 0 && errno == EINVAL)))
			break;
		if (len <= 0)
			goto fail;
		filters[n].len = (size_t)len;
		filters[n].prog = calloc(filters[n].len, sizeof(*filters->prog));
		if (!filters[n].prog)
			goto fail;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, filters[n].prog) !=
		    len) {
			n++;
			goto fail;
		}
	}
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0)
		goto fail;
	return n;
fail:
	perror("sockfamily: PTRACE_SECCOMP_GET_FILTER");
	for (i = 0; i < n; i++)
		free(filters[i].prog);
	return -1;
}

/* What the kernel decides with every filter: the most restrictive action
 * wins (kernel/seccomp.c, seccomp_run_filters), the newest on a tie. */
static int decide(const struct filter *filters, int n, const struct seccomp_data *data,
		  uint32_t *verdict)
{
	uint32_t ret = SECCOMP_RET_ALLOW, cur;
	int i;

	for (i = 0; i < n; i++) {
		if (run_bpf(filters[i].prog, filters[i].len, data, &cur) < 0)
			return -1;
		if ((int32_t)(cur & SECCOMP_RET_ACTION_FULL) <
		    (int32_t)(ret & SECCOMP_RET_ACTION_FULL))
			ret = cur;
	}
	*verdict = ret;
	return 0;
}

static void print_verdict(const char *name, uint32_t verdict)
{
	switch (verdict & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW:
		printf("%s ok\n", name);
		return;
	case SECCOMP_RET_ERRNO:
		report(name, -1, (int)(verdict & SECCOMP_RET_DATA));
		return;
	case SECCOMP_RET_KILL_PROCESS:
	case SECCOMP_RET_KILL_THREAD:
		printf("%s kill\n", name);
		return;
	case SECCOMP_RET_TRAP:
		printf("%s trap\n", name);
		return;
	case SECCOMP_RET_USER_NOTIF:
		printf("%s notify\n", name);
		return;
	case SECCOMP_RET_TRACE:
		printf("%s trace\n", name);
		return;
	case SECCOMP_RET_LOG:
		printf("%s log\n", name);
		return;
	default:
		printf("%s action 0x%x\n", name, verdict);
		return;
	}
}

static int run_seccomp(const char *pid_text)
{
	struct filter filters[MAX_FILTERS];
	struct seccomp_data data;
	unsigned long pid;
	uint32_t verdict;
	int n, status = 0;
	char *end;
	size_t i;

	errno = 0;
	pid = strtoul(pid_text, &end, 10);
	if (pid_text[0] < '1' || pid_text[0] > '9' || errno || *end || pid > INT32_MAX) {
		(void)fputs(usage, stderr);
		return EXIT_USAGE;
	}
	n = get_filters((pid_t)pid, filters, MAX_FILTERS);
	if (n < 0)
		return EXIT_OSERR;
	for (i = 0; i < ATTEMPTS; i++) {
		memset(&data, 0, sizeof(data));
		data.arch = attempts[i].abi == NATIVE ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_I386;
		if (attempts[i].abi == IA32_SOCKETCALL_CALL) {
			data.nr = IA32_SOCKETCALL;
			data.args[0] = SYS_SOCKET;
			data.args[1] = IA32_ARGS_ADDRESS;
		} else {
			data.nr = attempts[i].abi == NATIVE ? SYS_socket : IA32_SOCKET;
			data.args[0] = attempts[i].domain;
			data.args[1] = attempts[i].type;
			data.args[2] = attempts[i].protocol;
		}
		if (decide(filters, n, &data, &verdict) < 0) {
			fprintf(stderr,
				"sockfamily: a filter of %lu does not "
				"run here\n",
				pid);
			status = EXIT_OSERR;
			break;
		}
		print_verdict(attempts[i].name, verdict);
	}
	while (n > 0)
		free(filters[--n].prog);
	return status;
}

/* ADDR[%IFNAME] into ss; 0, or -1 when it is no address. */
static int parse_address(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	size_t len_text = strlen(text);
	char *scope;

	memset(ss, 0, sizeof(*ss));
	if (len_text >= sizeof(addr))
		return -1;
	memcpy(addr, text, len_text + 1);
	scope = strchr(addr, '%');
	if (scope)
		*scope++ = '\0';
	if (!scope && inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
		return -1;
	sin6->sin6_family = AF_INET6;
	if (scope) {
		sin6->sin6_scope_id = if_nametoindex(scope);
		if (!sin6->sin6_scope_id)
			return -1;
	}
	*len = sizeof(*sin6);
	return 0;
}

static int send_udp(const char *target, const char *port_text, const char *text)
{
	struct sockaddr_storage ss;
	char name[128];
	socklen_t len;
	unsigned int port;
	int fd, one = 1, err = 0;

	if (parse_address(target, &ss, &len) < 0 || parse_port(port_text, &port) < 0) {
		(void)fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    sendto(fd, text, strlen(text), 0, (struct sockaddr *)&ss, len) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	snprintf(name, sizeof(name), "send %s %s", target, port_text);
	report(name, err ? -1 : 0, err);
	return err ? EXIT_FAILED : 0;
}

/* Join GROUP%IFNAME: on fd4 for an IPv4 group, on fd6 for IPv6. */
static int join(int fd4, int fd6, const char *spec)
{
	const char *scope = strchr(spec, '%');
	struct sockaddr_storage ss;
	struct ip_mreqn mreq4;
	struct ipv6_mreq mreq6;
	char group[INET6_ADDRSTRLEN];
	unsigned int ifindex;
	socklen_t len;

	if (!scope || (size_t)(scope - spec) >= sizeof(group))
		return -1;
	ifindex = if_nametoindex(scope + 1);
	if (!ifindex)
		return -1;
	memcpy(group, spec, (size_t)(scope - spec));
	group[scope - spec] = '\0';
	if (parse_address(group, &ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		memset(&mreq4, 0, sizeof(mreq4));
		mreq4.imr_multiaddr = ((struct sockaddr_in *)&ss)->sin_addr;
		mreq4.imr_ifindex = (int)ifindex;
		return setsockopt(fd4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq4, sizeof(mreq4));
	}
	mreq6.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&ss)->sin6_addr;
	mreq6.ipv6mr_interface = ifindex;
	return setsockopt(fd6, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq6, sizeof(mreq6));
}

/* Print one received datagram as "TEXT to DST from SRC". */
static void receive(int fd)
{
	char text[512], control[256];
	char dst[INET6_ADDRSTRLEN] = "?", src[INET6_ADDRSTRLEN] = "?";
	struct sockaddr_storage from;
	struct iovec iov = { .iov_base = text, .iov_len = sizeof(text) - 1 };
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct in6_pktinfo info6;
	struct in_pktinfo info4;
	struct cmsghdr *cmsg;
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return;
	text[n] = '\0';
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO) {
			memcpy(&info4, CMSG_DATA(cmsg), sizeof(info4));
			inet_ntop(AF_INET, &info4.ipi_addr, dst, sizeof(dst));
		} else if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO) {
			memcpy(&info6, CMSG_DATA(cmsg), sizeof(info6));
			inet_ntop(AF_INET6, &info6.ipi6_addr, dst, sizeof(dst));
		}
	}
	if (from.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, src, sizeof(src));
	else if (from.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, src, sizeof(src));
	printf("%s to %s from %s\n", text, dst, src);
	(void)fflush(stdout);
}

static int listen_udp(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct pollfd fds[2];
	unsigned int port;
	time_t until;
	int one = 1, i;

	if (parse_port(argv[2], &port) < 0) {
		(void)fputs(usage, stderr);
		return EXIT_USAGE;
	}
	sin.sin_port = htons((uint16_t)port);
	sin6.sin6_port = htons((uint16_t)port);
	fds[0].fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fds[1].fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fds[0].fd < 0 || fds[1].fd < 0 ||
	    setsockopt(fds[0].fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    setsockopt(fds[1].fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(fds[1].fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) ||
	    bind(fds[0].fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    bind(fds[1].fd, (struct sockaddr *)&sin6, sizeof(sin6))) {
		perror("sockfamily: listen-udp");
		return EXIT_OSERR;
	}
	for (i = 3; i < argc; i++) {
		if (join(fds[0].fd, fds[1].fd, argv[i]) < 0) {
			fprintf(stderr, "sockfamily: join %s: %s\n", argv[i], strerror(errno));
			return EXIT_OSERR;
		}
	}
	fds[0].events = fds[1].events = POLLIN;
	printf("ready\n");
	(void)fflush(stdout);
	until = time(NULL) + LIFETIME;
	while (time(NULL) < until) {
		if (poll(fds, 2, 1000) <= 0)
			continue;
		for (i = 0; i < 2; i++)
			if (fds[i].revents & POLLIN)
				receive(fds[i].fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "families"))
		return run_families();
	if (argc == 3 && !strcmp(argv[1], "seccomp"))
		return run_seccomp(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "send-udp"))
		return send_udp(argv[2], argv[3], argv[4]);
	if (argc >= 3 && !strcmp(argv[1], "listen-udp"))
		return listen_udp(argc, argv);
	(void)fputs(usage, stderr);
	return EXIT_USAGE;
}

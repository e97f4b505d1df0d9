#!/usr/bin/env bats
# The loader's confinement, proved on the real binary (DESIGN.md §4 steps 1,
# 2 and 7, §5, and §6: a failed load names the minimum kernel):
#  - under strace, every syscall after the seccomp filter load is on the
#    allowlist, with its argument constraints, on success and on every class
#    of error; the filter is loaded before anything that depends on argv;
#  - a preloaded shim that makes a forbidden syscall once the filter is live
#    gets the loader killed by SIGSYS, with nothing attached;
#  - /proc/PID/status of the running loader: no_new_privs and seccomp from
#    parsing on, and no capability left when it reports;
#  - bpf() failures injected by a shim give 77 for EPERM, 71 otherwise (a
#    failed load naming the minimum kernel), and leave nothing attached.
# The shims are test/shim/*.c, built into build/test/shim-*.so by
# mk/confinement.mk. Syscall numbers and flag values are x86-64's.
#
# ShellCheck: bats runs each @test in a subshell of its own, and the helpers
# below read the status and output that the test calling them set with run:
# shellcheck disable=SC2030,SC2031 # not values lost in a subshell

bats_require_minimum_version 1.5.0
# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

# bpf() commands on the allowlist (linux/bpf.h): MAP_CREATE 0,
# MAP_UPDATE_ELEM 2, PROG_LOAD 5, PROG_ATTACH 8, PROG_DETACH 9, PROG_RUN 10,
# PROG_GET_FD_BY_ID 13, OBJ_GET_INFO_BY_FD 15, PROG_QUERY 16,
# MAP_UPDATE_BATCH 26.
ALLOWED_BPF=" 0 2 5 8 9 10 13 15 16 26 "
BPF_PROG_LOAD=5 BPF_PROG_ATTACH=8 BPF_MAP_UPDATE_BATCH=26
BPF_PROG_TYPE_SYSCALL=31
BPF_CGROUP_INET6_CONNECT=11
EPERM=1 ENOMEM=12 EINVAL=22
# O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, as strace -X raw prints it.
OPEN_FLAGS=0xb0000
# The successful seccomp(SECCOMP_SET_MODE_FILTER, ...) in strace -X raw.
FILTER_RE='^[0-9]+ +seccomp\(0x1, [^,]*, \{len=[0-9]+, filter=0x[0-9a-f]+\}\) += 0$'
NO_CAPS=0000000000000000

setup() {
	require_privileged
	command -v strace >/dev/null || { cannot_run "strace is not installed"; return; }
	local shim
	for shim in forbid pause bpffail; do
		[[ -f $TEST_BIN/shim-$shim.so ]] ||
			{ cannot_run "build/test/shim-$shim.so missing (make test-helpers)"; return; }
	done
	made CG make_cgroup
	TRACE=$BATS_TEST_TMPDIR/trace
}

teardown() {
	cleanup_made
}

# traced [VAR=VALUE]... -- ARGS...: run the loader under strace, the
# variables set for the loader only (strace -E). Sets $status, $output
# (stdout), $stderr (see run_loader); the trace is in $TRACE.
traced() {
	local env=()
	while [[ $1 != -- ]]; do
		env+=(-E "$1")
		shift
	done
	shift
	local -a LOADER_VIA=(strace -f -X raw -s 256 -e trace=all -o "$TRACE" "${env[@]}")
	run_loader "$@"
}

# Lines of trace $1 after the seccomp filter load that break the allowlist
# of DESIGN.md §5, in order; "no seccomp filter load" if there is none.
allowlist_violations() {
	local line name args flags confined=0
	local call_re='^[0-9]+ +([a-z0-9_]+)\((.*)$'
	local openat_re='^(-100|[0-9]+), "(([^"\\]|\\.)*)"(\.\.\.)?, ([0-9a-fx]+)\) += '
	local number_re='^(0x[0-9a-f]+|[0-9]+)$'

	while IFS= read -r line; do
		if ((!confined)); then
			[[ $line =~ $FILTER_RE ]] && confined=1
			continue
		fi
		[[ $line =~ ^[0-9]+\ +\+\+\+\ exited\ with\ [0-9]+\ \+\+\+$ ]] && continue
		if [[ ! $line =~ $call_re ]]; then
			echo "$line"
			continue
		fi
		name=${BASH_REMATCH[1]} args=${BASH_REMATCH[2]}
		case $name in
		close | fstat | fstatfs | capget | capset | exit | exit_group) ;;
		write)
			[[ $args =~ ^[12], ]] || echo "$line"
			;;
		openat)
			flags=
			[[ $args =~ $openat_re ]] && flags=${BASH_REMATCH[5]}
			[[ $flags =~ $number_re ]] && ((flags == OPEN_FLAGS)) ||
				echo "$line"
			;;
		bpf)
			flags=${args%%,*}
			[[ $flags =~ $number_re && $ALLOWED_BPF == *" $((flags)) "* ]] ||
				echo "$line"
			;;
		*)
			echo "$line"
			;;
		esac
	done <"$1"
	((confined)) || echo "no seccomp filter load"
}

# What trace $1 shows after the filter load: one word per kind of call
# (bpf and write with their first argument), in order of first use.
syscalls_after_filter() {
	sed -En "/$FILTER_RE/,\$ s/^[0-9]+ +([a-z0-9_]+)\(([^,)]*).*/\\1 \\2/p" "$1" |
		tail -n +2 |
		awk '{ k = ($1 == "bpf" || $1 == "write") ? $1 ":" $2 : $1 }
		     !seen[k]++ { printf "%s%s", sep, k; sep = " " } END { print "" }'
}

# The trace must stay inside the allowlist; show the offenders if not.
assert_confined() {
	local violations
	violations=$(allowlist_violations "$TRACE")
	if [[ -n $violations ]]; then
		echo "outside the allowlist after the filter load:" >&2
		echo "$violations" >&2
		return 1
	fi
	echo "# syscalls after the filter: $(syscalls_after_filter "$TRACE")" >&3
}

# Line number of the first line of $TRACE matching ERE $1 (0 if none).
first_line() {
	local n
	n=$(grep -nE -m 1 -- "$1" "$TRACE" | cut -d: -f1)
	echo "${n:-0}"
}

# The filter is loaded exactly once, before the cgroup walk starts at "/",
# before any bpf() or write(), and no syscall before it (but the execve)
# carries the test's unique tag, which is in argv.
assert_filter_first() {
	local at n
	[[ $(grep -cE "$FILTER_RE" "$TRACE") -eq 1 ]]
	at=$(first_line "$FILTER_RE")
	n=$(first_line '^[0-9]+ +openat\(-100, "/", ')
	((n == 0 || n > at))
	n=$(first_line '^[0-9]+ +bpf\(')
	((n == 0 || n > at))
	n=$(first_line '^[0-9]+ +write\(')
	((n == 0 || n > at))
	[[ $(head -n "$((at - 1))" "$TRACE" | tail -n +2 | grep -c -F -- "$TAG") -eq 0 ]]
}

# After the filter the trace has only write(2, ...) and exit_group: the
# refusal came before any open and any bpf().
assert_only_complaint() {
	[[ $(syscalls_after_filter "$TRACE") == "write:2 exit_group" ]]
}

@test "the allowlist check flags every kind of call it must flag" {
	cat >"$TRACE" <<-'EOF'
		100 execve("/x", ["/x"], 0x7ffd /* 1 var */) = 0
		100 uname({sysname="Linux", ...}) = 0
		100 seccomp(0x1, 0, {len=40, filter=0x55d5}) = 0
		100 openat(-100, "/", 0xb0000)        = 3
		100 openat(3, "a\", 0x0", 0xb0000) = 4
		100 openat(-100, "/etc/passwd", 0)    = 5
		100 openat(-100, "/", 0x30000)        = 5
		100 openat(-100, "/", 0x2b0000)       = 5
		100 write(1, "{}\n", 3) = 3
		100 write(2, "x", 1) = 1
		100 write(3, "x", 1) = 1
		100 write(12, "x", 1) = 1
		100 bpf(0, {map_type=0x2}, 72) = 3
		100 bpf(0x1a, {batch={}}, 144) = 0
		100 bpf(0x7, {pathname=NULL}, 144) = -1 EBADF
		100 bpf(0x1c, {link_create={}}, 144) = 5
		100 close(3) = 0
		100 fstat(3, {st_mode=040755, ...}) = 0
		100 fstatfs(3, {f_type=0x63677270, ...}) = 0
		100 newfstatat(3, "", {st_mode=040755, ...}, 0x1000) = 0
		100 open("/", 0xb0000) = 3
		100 mmap(NULL, 4096, 0x3, 0x22, -1, 0) = 0x7f00
		100 capset({version=0x20080522, pid=0}, {effective=0}) = 0
		100 capget({version=0x20080522, pid=0}, {effective=0}) = 0
		100 getpid()                          = 39
		100 +++ killed by SIGSYS +++
		100 exit_group(0)                     = ?
		100 +++ exited with 0 +++
	EOF
	run allowlist_violations "$TRACE"
	[[ $output == "$(
		cat <<-'EOF'
			100 openat(-100, "/etc/passwd", 0)    = 5
			100 openat(-100, "/", 0x30000)        = 5
			100 openat(-100, "/", 0x2b0000)       = 5
			100 write(3, "x", 1) = 1
			100 write(12, "x", 1) = 1
			100 bpf(0x7, {pathname=NULL}, 144) = -1 EBADF
			100 bpf(0x1c, {link_create={}}, 144) = 5
			100 newfstatat(3, "", {st_mode=040755, ...}, 0x1000) = 0
			100 open("/", 0xb0000) = 3
			100 mmap(NULL, 4096, 0x3, 0x22, -1, 0) = 0x7f00
			100 getpid()                          = 39
			100 +++ killed by SIGSYS +++
		EOF
	)" ]]
	# Without a successful filter load there is nothing to check against.
	sed -i 's/^100 seccomp(0x1, 0, \(.*\)) = 0$/100 seccomp(0x1, 0, \1) = -1 EINVAL/' "$TRACE"
	run allowlist_violations "$TRACE"
	[[ $output == "no seccomp filter load" ]]
}

@test "success: after the filter load only allowlisted calls, filter before argv" {
	traced -- --cgroup "$CG" --deny 192.0.2.1 --deny 2001:db8::/32
	[[ $status -eq 0 ]]
	assert_reply "$CG" 1 1
	[[ -z $stderr ]]
	[[ $(our_programs "$CG") -eq 6 ]]
	assert_confined
	assert_filter_first
	# The run did exercise every kind of call the checker judges.
	local used
	used=" $(syscalls_after_filter "$TRACE") "
	for call in openat fstatfs fstat close capset capget write:1 exit_group \
		bpf:0 bpf:0x5 bpf:0xa bpf:0x1a bpf:0x10 bpf:0xd bpf:0xf bpf:0x8; do
		[[ $used == *" $call "* ]] || { echo "no $call in: $used" >&2; false; }
	done
	# Step 7: capabilities are gone before the report is written.
	(($(first_line '^[0-9]+ +capset\(') < $(first_line '^[0-9]+ +write\(1, ')))
}

@test "success replacing a previous filter: only allowlisted calls" {
	load_filter "$CG" --deny 192.0.2.1
	traced -- --cgroup "$CG" --deny 198.51.100.0/24 --deny ::ffff:203.0.113.7
	[[ $status -eq 0 ]]
	assert_reply "$CG" 2 0
	[[ -z $stderr ]]
	[[ $(our_programs "$CG") -eq 6 ]]
	assert_confined
	assert_filter_first
	# Each filter hook swapped in place: BPF_F_REPLACE (0x4) with
	# BPF_F_ALLOW_MULTI; the sockops program goes beside the old one
	# (BPF_F_ALLOW_MULTI alone), which is then detached (BPF_PROG_DETACH, 0x9).
	[[ $(grep -cE '^[0-9]+ +bpf\(0x8, \{.*attach_flags=0x6, replace_bpf_fd=[1-9]' "$TRACE") -eq 5 ]]
	[[ $(grep -cE '^[0-9]+ +bpf\(0x8, \{.*attach_flags=0x2, replace_bpf_fd=0' "$TRACE") -eq 1 ]]
	[[ $(grep -cE '^[0-9]+ +bpf\(0x9, ' "$TRACE") -eq 1 ]]
}

@test "a full request (8192 IPv4 + 8192 IPv6 rules): only allowlisted calls" {
	local args=() i
	for ((i = 0; i < 8192; i++)); do
		args+=(--deny "198.18.$((i / 256)).$((i % 256))" --deny "2001:db8::$i")
	done
	traced -- --cgroup "$CG" "${args[@]}"
	[[ $status -eq 0 ]]
	assert_reply "$CG" 8192 8192
	[[ -z $stderr ]]
	[[ $(our_programs "$CG") -eq 6 ]]
	assert_confined
	assert_filter_first
	# The trie filled with one batch: the deny rules' 2 keys each
	# (KIND_DENY and KIND_ANY_PORT); no allow keys, so no second batch.
	[[ $(grep -cE '^[0-9]+ +bpf\(0x1a, ' "$TRACE") -eq 1 ]]
	[[ $(grep -cE '^[0-9]+ +bpf\(0x1a, \{batch=\{.*count=32768,' "$TRACE") -eq 1 ]]
}

@test "--help: after the filter only the write to stdout and the exit" {
	traced -- --help
	[[ $status -eq 0 ]]
	[[ ${lines[0]} == "usage: jail-ai-ebpf-loader --cgroup PATH --deny RULE [--deny RULE | --allow RULE]..." ]]
	[[ -z $stderr ]]
	assert_confined
	assert_filter_first
	[[ $(syscalls_after_filter "$TRACE") == "write:1 exit_group" ]]
}

@test "64 usage error: refused after the filter, before any open or bpf()" {
	traced -- --cgroup "$CG" --deny 192.0.2.1 --frobnicate
	assert_refused 64 "jail-ai-ebpf-loader: --frobnicate: unknown option" "$CG"
	assert_confined
	assert_filter_first
	assert_only_complaint
}

@test "65 bad address: refused after the filter, before any open or bpf()" {
	traced -- --cgroup "$CG" --deny 10.0.0.1/8
	assert_refused 65 "jail-ai-ebpf-loader: --deny 10.0.0.1/8: host bits set beyond the prefix length; the network is 10.0.0.0/8" "$CG"
	assert_confined
	assert_filter_first
	assert_only_complaint
}

@test "66 nonexistent cgroup: only allowlisted calls, no bpf()" {
	traced -- --cgroup "$CG/missing" --deny 192.0.2.1
	assert_refused 66 "jail-ai-ebpf-loader: --cgroup $CG/missing: no such directory" "$CG"
	assert_confined
	assert_filter_first
	[[ $(first_line '^[0-9]+ +bpf\(') -eq 0 ]]
}

@test "77 root of the cgroup2 hierarchy (65 where it is /sys/fs/cgroup): only allowlisted calls, no bpf()" {
	traced -- --cgroup "$CG2" --deny 192.0.2.1
	if [[ $CG2 == /sys/fs/cgroup/* ]]; then
		assert_refused 77 "jail-ai-ebpf-loader: --cgroup $CG2: a hierarchy root is refused" "$CG"
	else
		# cgroup2 alone (the kernel matrix's 6.12 guest): its root has
		# no path the grammar admits, so it is refused before it is opened.
		assert_refused 65 "jail-ai-ebpf-loader: --cgroup $CG2: not below /sys/fs/cgroup/" "$CG"
	fi
	assert_confined
	assert_filter_first
	[[ $(first_line '^[0-9]+ +bpf\(') -eq 0 ]]
}

@test "77 SUDO_UID caller on a cgroup it does not own: only allowlisted calls, no bpf()" {
	traced SUDO_UID=12345 -- --cgroup "$CG" --deny 192.0.2.1
	assert_refused 77 "jail-ai-ebpf-loader: --cgroup $CG: owned by uid 0, not by uid 12345" "$CG"
	assert_confined
	assert_filter_first
	[[ $(first_line '^[0-9]+ +bpf\(') -eq 0 ]]
}

# Runs with the bpf() fault-injection shim, under strace, on a fresh cgroup.
injected() {
	local spec=$1
	shift
	traced LD_PRELOAD="$TEST_BIN/shim-bpffail.so" SHIM_BPF_FAIL="$spec" -- "$@"
}

@test "71 a kernel that refuses the embedded filter (EINVAL, as before Linux 6.1's features): the minimum named, nothing attached, confined" {
	injected "$BPF_PROG_LOAD:$BPF_PROG_TYPE_SYSCALL:$EINVAL" \
		--cgroup "$CG" --deny 192.0.2.1
	assert_refused 71 "jail-ai-ebpf-loader: loading the embedded filter (it needs Linux 6.1 or later): Invalid argument" "$CG"
	assert_confined
	assert_filter_first
}

@test "77 EPERM from BPF_PROG_LOAD: not permitted, nothing attached, confined" {
	injected "$BPF_PROG_LOAD:*:$EPERM" --cgroup "$CG" --deny 192.0.2.1
	assert_refused 77 "jail-ai-ebpf-loader: loading the embedded filter (it needs Linux 6.1 or later): Operation not permitted" "$CG"
	assert_confined
	assert_filter_first
}

@test "71 ENOMEM filling the rule trie (deny-only request): nothing attached, confined" {
	injected "$BPF_MAP_UPDATE_BATCH:*:$ENOMEM" \
		--cgroup "$CG" --deny 192.0.2.1 --deny 2001:db8::1
	assert_refused 71 "jail-ai-ebpf-loader: filling the rule trie: Cannot allocate memory" "$CG"
	assert_confined
	assert_filter_first
}

@test "71 ENOMEM filling the rule trie (allows and ports): nothing attached, confined" {
	injected "$BPF_MAP_UPDATE_BATCH:*:$ENOMEM" --cgroup "$CG" --deny 2001:db8::/32 \
		--allow '[2001:db8::1]:443/tcp' --allow 192.0.2.1:53
	assert_refused 71 "jail-ai-ebpf-loader: filling the rule trie: Cannot allocate memory" "$CG"
	assert_confined
	assert_filter_first
}

@test "77 EPERM attaching the fourth hook: the first three are undone, confined" {
	injected "$BPF_PROG_ATTACH:$BPF_CGROUP_INET6_CONNECT:$EPERM" \
		--cgroup "$CG" --deny 192.0.2.1
	assert_refused 77 "jail-ai-ebpf-loader: attaching to the connect6 hook: Operation not permitted: another program holds the hook exclusively (attached without BPF_F_ALLOW_MULTI) on this cgroup or an ancestor; the cgroup is left as it was" "$CG"
	assert_confined
	assert_filter_first
	# Three attached for real (sockops, connect4, sendmsg4), then detached.
	[[ $(grep -cE '^[0-9]+ +bpf\(0x8, .*\) += 0$' "$TRACE") -eq 3 ]]
	[[ $(grep -cE '^[0-9]+ +bpf\(0x9, .*\) += 0$' "$TRACE") -eq 3 ]]
}

@test "77 EPERM attaching over a previous filter: the previous programs stay" {
	local before
	load_filter "$CG" --deny 192.0.2.1
	before=$(cgroup_snapshot "$CG")
	injected "$BPF_PROG_ATTACH:$BPF_CGROUP_INET6_CONNECT:$EPERM" \
		--cgroup "$CG" --deny 198.51.100.1
	assert_refused 77 "jail-ai-ebpf-loader: attaching to the connect6 hook: Operation not permitted: another program holds the hook exclusively (attached without BPF_F_ALLOW_MULTI) on this cgroup or an ancestor; the cgroup is left as it was" "$CG" "$before"
	assert_confined
	assert_filter_first
}

@test "control: the preloaded shim runs after the filter and allowlisted calls pass" {
	LOADER_VIA=(env LD_PRELOAD="$TEST_BIN/shim-forbid.so" SHIM_FORBID=allowed)
	run_loader --cgroup "$CG" --deny 192.0.2.1
	[[ $status -eq 0 ]]
	[[ $stderr == "shim: allowed at parse" ]]
	is_reply "$RUN_STDOUT" "$CG" 1 0
	[[ $(our_programs "$CG") -eq 6 ]]
	# The same under strace: the shim's own calls come after the filter.
	traced LD_PRELOAD="$TEST_BIN/shim-forbid.so" SHIM_FORBID=allowed -- \
		--cgroup "$CG" --deny 192.0.2.1
	[[ $status -eq 0 ]]
	assert_confined
	assert_filter_first
	(($(first_line '^[0-9]+ +write\(2, "shim: allowed at parse') > $(first_line "$FILTER_RE")))
}

# killed_for ACTION ERE [WHERE]: the shim makes the forbidden call ACTION
# at WHERE (parse, the default, or report); the loader dies of SIGSYS
# (bash status 128 + 31) right at that call, which strace shows matching
# ERE as the one call outside the allowlist.
killed_for() {
	local action=$1 call_re=$2 where=${3:-parse} attached=0
	[[ $where == report ]] && attached=6
	LOADER_VIA=(env LD_PRELOAD="$TEST_BIN/shim-forbid.so" SHIM_FORBID="$action" \
		SHIM_FORBID_AT="$where")
	run_loader --cgroup "$CG" --deny 192.0.2.1
	[[ $status -eq 159 ]]
	[[ $stderr == "shim: $action at $where" ]]
	[[ -z $output ]]
	[[ $(our_programs "$CG") -eq $attached ]]

	traced LD_PRELOAD="$TEST_BIN/shim-forbid.so" SHIM_FORBID="$action" \
		SHIM_FORBID_AT="$where" -- --cgroup "$CG" --deny 192.0.2.1
	[[ $status -eq 159 ]]
	[[ $stderr == "shim: $action at $where" ]]
	[[ -z $output ]]
	assert_filter_first
	run allowlist_violations "$TRACE"
	[[ ${#lines[@]} -eq 2 ]]
	[[ ${lines[0]} =~ ^[0-9]+\ +$call_re ]] || { echo "killed at: ${lines[0]}" >&2; false; }
	[[ ${lines[1]} =~ ^[0-9]+\ +\+\+\+\ killed\ by\ SIGSYS ]]
	[[ $(tail -n 1 "$TRACE") == "${lines[1]}" ]]
}

@test "SIGSYS: getpid" {
	killed_for getpid 'getpid\(\)'
}

@test "SIGSYS: socket" {
	killed_for socket 'socket\(0x2, 0x1, 0\)'
}

@test "SIGSYS: execve" {
	killed_for execve 'execve\("/bin/true", '
}

@test "SIGSYS: openat O_RDONLY of /etc/passwd" {
	killed_for open-etc-passwd 'openat\(-100, "/etc/passwd", 0\)'
}

@test "SIGSYS: openat without O_CLOEXEC" {
	killed_for openat-no-cloexec 'openat\(-100, "/", 0x30000\)'
}

@test "SIGSYS: openat with a flag more (O_PATH)" {
	killed_for openat-extra-flag 'openat\(-100, "/", 0x2b0000\)'
}

@test "SIGSYS: legacy open with the allowed flags" {
	killed_for open-legacy 'open\("/", 0xb0000\)'
}

@test "SIGSYS: write to fd 3" {
	killed_for write-fd3 'write\(3, "x", 1\)'
}

@test "SIGSYS: write to fd 0" {
	killed_for write-fd0 'write\(0, "x", 1\)'
}

@test "SIGSYS: writev to fd 2" {
	killed_for writev-fd2 'writev\(2, '
}

@test "SIGSYS: mmap" {
	killed_for mmap 'mmap\(NULL, 4096, '
}

@test "SIGSYS: brk" {
	killed_for brk 'brk\(NULL\)'
}

@test "SIGSYS: uname" {
	killed_for uname 'uname\('
}

@test "SIGSYS: newfstatat, glibc's fstat()" {
	killed_for newfstatat 'newfstatat\(0, "", '
}

@test "SIGSYS: bpf BPF_OBJ_GET, a command not on the list" {
	killed_for bpf-obj-get 'bpf\(0x7, '
}

@test "SIGSYS: bpf BPF_LINK_CREATE, a command not on the list" {
	killed_for bpf-link-create 'bpf\(0x1c, '
}

@test "SIGSYS: getpid through the x32 ABI" {
	killed_for x32-getpid 'getpid\(\)'
}

@test "SIGSYS: uname at the final report, after attach and the capability drop" {
	killed_for uname 'uname\(' report
}

# start_paused WHERE ARGS...: start the loader held still by the pause
# shim at WHERE (parse or report), with an extra fd 7 open; wait until it
# says so on stderr. Sets $pid.
start_paused() {
	local where=$1
	shift
	FLAG=$BATS_TEST_TMPDIR/flag OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
	printf W >"$FLAG"
	LD_PRELOAD=$TEST_BIN/shim-pause.so SHIM_FLAG=$FLAG SHIM_PAUSE_AT=$where \
		"$LOADER" "$@" >"$OUT" 2>"$ERR" 3>&- 7</dev/null &
	pid=$!
	remember_pid "$pid"
	eventually grep -qx "shim: paused at $where" "$ERR"
	cat "/proc/$pid/status" >"$BATS_TEST_TMPDIR/status"
}

# Let the paused loader go on (without truncating the mapped flag file);
# sets $status to its exit status.
release() {
	printf G 1<>"$FLAG"
	status=0
	wait "$pid" || status=$?
}

# Field $1 of the /proc/PID/status read while paused.
status_of() {
	awk -v key="$1:" '$1 == key { print $2 }' "$BATS_TEST_TMPDIR/status"
}

@test "while parsing argv the loader is already under seccomp and no_new_privs" {
	local own_caps fds
	own_caps=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$BASHPID/status")
	start_paused parse --cgroup "$CG" --deny 192.0.2.1
	fds=$(printf '%s\n' "/proc/$pid/fd/"* | sed 's|.*/||' | sort -n | tr '\n' ' ')
	release
	[[ $status -eq 0 ]]
	is_reply "$OUT" "$CG" 1 0
	[[ $(<"$ERR") == "shim: paused at parse" ]]
	[[ $(our_programs "$CG") -eq 6 ]]
	[[ $(status_of Seccomp) == 2 ]]
	[[ $(status_of Seccomp_filters) -ge 1 ]]
	[[ $(status_of NoNewPrivs) == 1 ]]
	# Hygiene came first: umask, and only fds 0-2 although 7 was passed.
	[[ $(status_of Umask) == 0077 ]]
	[[ $fds == "0 1 2 " ]]
	# Still privileged here, so the check at the report can tell.
	[[ $(status_of CapEff) == "$own_caps" && $own_caps != "$NO_CAPS" ]]
}

@test "when it reports, the loader holds no capabilities (CapEff, CapPrm empty)" {
	start_paused report --cgroup "$CG" --deny 192.0.2.1 --deny 2001:db8::1
	release
	[[ $status -eq 0 ]]
	is_reply "$OUT" "$CG" 1 1
	[[ $(<"$ERR") == "shim: paused at report" ]]
	[[ $(our_programs "$CG") -eq 6 ]]
	[[ $(status_of CapEff) == "$NO_CAPS" ]]
	[[ $(status_of CapPrm) == "$NO_CAPS" ]]
	[[ $(status_of CapInh) == "$NO_CAPS" ]]
	[[ $(status_of CapAmb) == "$NO_CAPS" ]]
	[[ $(status_of Seccomp) == 2 ]]
	[[ $(status_of Seccomp_filters) -ge 1 ]]
	[[ $(status_of NoNewPrivs) == 1 ]]
}

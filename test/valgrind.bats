#!/usr/bin/env bats
# The loader under valgrind (memcheck, full leak check): every exit path
# that can be reached here -- usage (64), data (65), no such cgroup (66),
# not permitted (77), --help/--version and a real attach (0) -- runs with
# zero memcheck errors and no leak but the one the design requires.
#
# Valgrind cannot run the real binary: valgrind 3.19 does not implement the
# seccomp syscall, so the loader stops with "installing the seccomp filter
# failed" (the first test shows it fails closed), and under a filter
# valgrind's own syscalls would be killed. So these tests run
# build/valgrind/jail-ai-ebpf-loader: the same loader.o and validate.o,
# linked with test/unit/valgrind_shim.c, which leaves the filter built but
# not installed. test/confinement.bats proves the filter on the real binary.
#
# ShellCheck: bats runs each @test in a subshell of its own, and the helpers
# below read the status and output that the test calling them set with run:
# shellcheck disable=SC2030,SC2031 # not values lost in a subshell

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

VG_LOADER="$PROJECT_ROOT/build/valgrind/jail-ai-ebpf-loader"
SUPP="$PROJECT_ROOT/test/unit/valgrind.supp"

setup() {
	command -v valgrind >/dev/null || cannot_run "valgrind missing"
	[[ -x $VG_LOADER ]] || cannot_run "valgrind build missing (make test-helpers)"
}

teardown() {
	cleanup_made
}

# vg ARGS...: run_loader of the valgrind build under memcheck; also sets
# vg_log (valgrind's report on the loader).
vg() {
	local log=$BATS_TEST_TMPDIR/valgrind.log LOADER=$VG_LOADER
	local -a LOADER_VIA=(valgrind -q --error-exitcode=99 --leak-check=full
		"--show-leak-kinds=definite,indirect,possible"
		"--errors-for-leak-kinds=definite,indirect,possible"
		--suppressions="$SUPP" --log-file="$log")
	run_loader "$@"
	# Valgrind's warnings about BPF commands it does not model (e.g. the
	# batched map update) are not memcheck errors.
	vg_log=$(grep -v 'WARNING: unhandled eBPF command' "$log" || true)
	echo "status $status; stdout: $output"
	echo "stderr: $stderr"
	echo "valgrind: $vg_log"
}

@test "valgrind: the real loader refuses to run where seccomp cannot be installed" {
	status=0
	valgrind -q "$LOADER" --cgroup /sys/fs/cgroup/x --deny 192.0.2.1 \
		>"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/stdout")
	# Without valgrind's own "--PID-- WARNING: unhandled syscall" lines.
	stderr=$(grep -v '^--[0-9]*--' "$BATS_TEST_TMPDIR/stderr" || true)
	echo "status $status; stdout: $output; stderr: $stderr"
	[[ $status -eq 71 ]]
	[[ $stderr == "jail-ai-ebpf-loader: installing the seccomp filter failed" ]]
	[[ -z $output ]]
}

@test "valgrind: usage error (64) is clean" {
	vg
	assert_refused 64 "jail-ai-ebpf-loader: no arguments (try --help)" -
	[[ -z $vg_log ]]
	vg --cgroup
	assert_refused 64 "jail-ai-ebpf-loader: --cgroup: missing value" -
	[[ -z $vg_log ]]
}

@test "valgrind: data errors (65) are clean, hostile bytes escaped" {
	vg --cgroup /sys/fs/cgroup/x --deny 10.0.0.1/8
	assert_refused 65 "jail-ai-ebpf-loader: --deny 10.0.0.1/8: host bits set beyond the prefix length; the network is 10.0.0.0/8" -
	[[ -z $vg_log ]]
	vg --cgroup $'/sys/fs/cgroup/a\x1b[2J\xff' --deny 192.0.2.1
	assert_refused 65 'jail-ai-ebpf-loader: --cgroup /sys/fs/cgroup/a\x1b[2J\xff: only printable ASCII without spaces is allowed' -
	[[ -z $vg_log ]]
	vg --cgroup /sys/fs/cgroup/x --deny "$(printf '1%.0s' {1..600})"
	assert_refused_like 65 '^jail-ai-ebpf-loader: --deny 1+\.\.\.: not an IPv4 or IPv6 address$' -
	[[ -z $vg_log ]]
	vg --cgroup /sys/fs/cgroup/x --deny 192.0.2.1 --allow '[2001:db8::1]:80-90/tcp/udp'
	assert_refused 65 "jail-ai-ebpf-loader: --allow [2001:db8::1]:80-90/tcp/udp: protocol must be tcp or udp" -
	[[ -z $vg_log ]]
}

@test "valgrind: missing cgroup (66) is clean" {
	require_privileged
	vg --cgroup "$CG2/$TAG-missing" --deny 192.0.2.1
	assert_refused 66 "jail-ai-ebpf-loader: --cgroup $CG2/$TAG-missing: no such directory" -
	[[ -z $vg_log ]]
}

@test "valgrind: not permitted (77) is clean" {
	require_privileged
	made cg make_cgroup
	SUDO_UID=65534 vg --cgroup "$cg" --deny 192.0.2.1
	assert_refused 77 "jail-ai-ebpf-loader: --cgroup $cg: owned by uid 0, not by uid 65534" "$cg"
	[[ -z $vg_log ]]
	SUDO_UID=-1 vg --cgroup "$cg" --deny 192.0.2.1
	assert_refused 77 "jail-ai-ebpf-loader: SUDO_UID: not a plain decimal user id" "$cg"
	[[ -z $vg_log ]]
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "valgrind: --help and --version (0) are clean" {
	vg --help
	[[ $status -eq 0 && -z $stderr && -z $vg_log ]]
	[[ ${lines[0]} == "usage: jail-ai-ebpf-loader --cgroup PATH --deny RULE [--deny RULE | --allow RULE]..." ]]
	vg --version
	[[ $status -eq 0 && -z $stderr && -z $vg_log ]]
	[[ $output =~ ^jail-ai-ebpf-loader\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "valgrind: a real load, attach and replace (0) is clean" {
	require_privileged
	made cg make_cgroup
	vg --cgroup "$cg" --deny 192.0.2.0/24 --deny 2001:db8::/32 --deny ::ffff:198.51.100.7
	assert_reply "$cg" 2 1
	[[ -z $vg_log ]]
	[[ $(our_programs "$cg") -eq 6 ]]
	# Again: the replace path (query, get fd by id, BPF_F_REPLACE).
	vg --cgroup "$cg" --deny 203.0.113.9
	assert_reply "$cg" 1 0
	[[ -z $vg_log ]]
	[[ $(our_programs "$cg") -eq 6 ]]
	# And with --allow, ports, ranges and protocols (both key segments).
	vg --cgroup "$cg" --deny 0.0.0.0/0 --deny ::/0 --allow 192.0.2.1:53 \
		--allow '[2001:db8::/32]:8000-8100/udp' --deny 203.0.113.0/24:1-1024/tcp
	assert_reply "$cg" 3 2 3 2
	[[ -z $vg_log ]]
	[[ $(our_programs "$cg") -eq 6 ]]
}

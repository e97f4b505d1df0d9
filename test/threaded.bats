#!/usr/bin/env bats
# Threaded cgroups (cgroup.type "threaded"): what the filter covers there.
#
# The loader accepts a threaded cgroup: nothing it may look at tells one
# apart (see SECURITY.md "Known limits"). The programs of a threaded cgroup
# apply to the sockets that threads *in that cgroup* create, so a process
# whose threads are spread over sibling threaded cgroups is filtered only in
# the threads that sit in a filtered one. Filtering the threaded domain (the
# parent whose cgroup.type is "domain threaded") covers every thread below
# it. These tests show exactly that, with real traffic: thread A of a
# process in t1 is refused, thread B of the same process in t2 connects.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=net-helpers.bash
source "$BATS_TEST_DIRNAME/net-helpers.bash"

setup() {
	require_privileged
	net_setup
	new_cgroup TD td
	new_cgroup T1 td/t1
	new_cgroup T2 td/t2
	echo threaded >"$T1/cgroup.type"
	echo threaded >"$T2/cgroup.type"
	[[ $(<"$TD/cgroup.type") == "domain threaded" ]]
}

teardown() {
	cleanup_made
}

# spread_threads ADDR: one netprobe "threads" process in TD, its thread A
# moved to T1 and thread B to T2; then each makes a TCP probe to ADDR.
# VERDICT_A and VERDICT_B hold the two outcomes ("ok in N ms", ...).
spread_threads() {
	local go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/threads.out" fd tid_a tid_b

	rm -f "$go"
	mkfifo "$go"
	jailed_bg "$TD" "$NET_NS" "$go" "$out" "$NETPROBE" threads "$1" "$NET_PORT"
	exec {fd}>"$go" # returns once the prober has opened the fifo
	eventually grep -q '^B [0-9]' "$out" || { exec {fd}>&-; cat "$out" >&2; return 1; }
	tid_a="$(sed -n 's/^A \([0-9]*\)$/\1/p' "$out")"
	tid_b="$(sed -n 's/^B \([0-9]*\)$/\1/p' "$out")"
	echo "$tid_a" >"$T1/cgroup.threads"
	echo "$tid_b" >"$T2/cgroup.threads"
	# the threads are where the test put them, the process stays in TD
	[[ $(grep '^0::' "/proc/$JAILED_PID/task/$tid_a/cgroup") == "0::${T1#"$CG2"}" ]]
	[[ $(grep '^0::' "/proc/$JAILED_PID/task/$tid_b/cgroup") == "0::${T2#"$CG2"}" ]]
	[[ $(grep '^0::' "/proc/$JAILED_PID/cgroup") == "0::${TD#"$CG2"}" ]]
	echo go >&"$fd"
	exec {fd}>&-
	wait "$JAILED_PID" || { cat "$out" >&2; return 1; }
	VERDICT_A="$(sed -n 's/^A \([a-z].*\)$/\1/p' "$out")"
	VERDICT_B="$(sed -n 's/^B \([a-z].*\)$/\1/p' "$out")"
}

# verdicts A B: thread A's and thread B's outcomes are A and B (EREs).
verdicts() {
	[[ $VERDICT_A =~ ^$1\ in\ [0-9]+\ ms$ && $VERDICT_B =~ ^$2\ in\ [0-9]+\ ms$ ]] ||
		{ echo "thread A: '$VERDICT_A', thread B: '$VERDICT_B'" >&2; return 1; }
}

@test "a threaded cgroup is accepted: its filter refuses thread A in it, thread B of the same process in a sibling connects" {
	expect_echo "$T1" tcp 192.0.2.1
	load_filter "$T1" "${NET_DENY_ARGS[@]}"
	[[ $(our_programs "$T2") -eq 0 && $(our_programs "$TD") -eq 0 ]]
	spread_threads 192.0.2.1
	verdicts "refused EPERM" ok
}

@test "filtering the threaded domain refuses every thread below it, in any threaded cgroup" {
	load_filter "$TD" "${NET_DENY_ARGS[@]}"
	spread_threads 192.0.2.1
	verdicts "refused EPERM" "refused EPERM"
	# and allowed addresses still get their echo from both threads
	spread_threads 198.51.100.1
	verdicts ok ok
}

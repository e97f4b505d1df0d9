#!/usr/bin/env bats
# Rollback (DESIGN.md §4 step 6): "a failure part-way through attaching
# leaves the cgroup exactly as before the run and exits non-zero with a
# message naming the hook".
#
# The failure is real: build/test/fillhook fills one hook of a test cgroup
# with other programs up to the kernel's limit of 64, so our attach there
# fails with E2BIG after the hooks before it were attached (or swapped), and
# those must be undone.

load helpers

ME="jail-ai-ebpf-loader"
PORT=9000

setup() {
	require_privileged
	command -v jq >/dev/null || cannot_run "needs jq"
	[[ -x $TEST_BIN/fillhook && -x $TEST_BIN/udpflood && -x $TEST_BIN/udpsink ]] ||
		cannot_run "test helpers not built (make test-helpers)"
	unset SUDO_UID # a developer's "sudo make check" sets it
}

teardown() {
	cleanup_made
}

# Everything attached directly to cgroup $1, hook by hook in kernel order.
snapshot() {
	bpftool -j cgroup show "$1" | jq -cs 'add // []'
}

# fill CG HOOK: attach other programs to HOOK of CG until the kernel's limit.
fill() {
	run_capture "$TEST_BIN/fillhook" "$1" "$2" full
	[[ $status -eq 0 ]] || { echo "fillhook: $stderr"; return 1; }
	[[ "$(jq --arg t "$3" '[.[] | select(.attach_type == $t)] | length' <<<"$(snapshot "$1")")" -eq 64 ]] ||
		{ echo "$2 of $1 does not carry 64 programs: $(snapshot "$1")"; return 1; }
}

# The failed run: its exit code, exactly its message, nothing on stdout,
# and the cgroup exactly as the snapshot $3 taken before.
assert_rolled_back() {
	local cg="$1" hook="$2" before="$3" after
	[[ $status -eq 71 ]] || { echo "exit $status: $stderr"; return 1; }
	[[ "$stderr" == "$ME: attaching to the $hook hook: Argument list too long; the cgroup is left as it was" ]] ||
		{ echo "stderr: $stderr"; return 1; }
	[[ -z "$output" ]] || { echo "stdout: $output"; return 1; }
	after="$(snapshot "$cg")"
	[[ "$after" == "$before" ]] || {
		echo "before: $before"
		echo "after:  $after"
		return 1
	}
}

# A failure on HOOK (attach type TYPE) of a cgroup with no filter of ours.
fails_on_fresh_cgroup() {
	local hook="$1" type="$2" cg before
	made cg make_cgroup
	fill "$cg" "$hook" "$type"
	before="$(snapshot "$cg")"
	run_capture "$LOADER" --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::1
	assert_rolled_back "$cg" "$hook" "$before"
	[[ "$(in_force "$cg")" == "[null,null,null,null,null,null]" ]]
}

# The loader attaches in the order sockops, connect4, sendmsg4, connect6,
# sendmsg6, egress.
@test "egress full: the five hooks attached before it are undone, the cgroup is as before" {
	fails_on_fresh_cgroup egress cgroup_inet_egress
}

@test "connect6 full: the three hooks attached before it are undone, the cgroup is as before" {
	fails_on_fresh_cgroup connect6 cgroup_inet6_connect
}

@test "connect4 full: the sockops hook attached before it is undone, the cgroup is as before" {
	fails_on_fresh_cgroup connect4 cgroup_inet4_connect
}

@test "sockops full: the first attach fails, nothing was attached" {
	fails_on_fresh_cgroup sockops cgroup_sock_ops
}

# jailed CG CMD...: CMD inside cgroup CG and the namespace $ns.
jailed() {
	local cg="$1"
	shift
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec nsenter --net="/run/netns/$ns" "$@")
}

refused() {
	run_capture jailed "$1" "$TEST_BIN/udpflood" send "$2" "$PORT"
	[[ $status -eq 77 && "$stderr" == "sendto: Operation not permitted" ]] ||
		{ echo "to $2: exit $status: $stderr (expected EPERM)"; return 1; }
}

delivered() {
	run_capture jailed "$1" "$TEST_BIN/udpflood" send "$2" "$PORT"
	[[ $status -eq 0 ]] || { echo "to $2: exit $status: $stderr (expected sent)"; return 1; }
}

# A run that fails on HOOK (attach type TYPE) of a cgroup carrying our
# previous filter: every hook before HOOK was swapped in place and must be
# swapped back, so the previous programs (same ids) stay in force and keep
# refusing the previous list, and the new list is not enforced.
#
# A swap never fails on a full hook (it does not add a program), so for
# the attach to fail HOOK must not carry ours: it is taken off that one
# hook and the hook filled, as a clumsy admin might.
fails_over_previous_filter() {
	local hook="$1" type="$2" cg ns id before previous sink sink_pid result
	made cg make_cgroup
	made ns make_netns
	ip -n "$ns" addr add 192.0.2.1/32 dev lo
	ip -n "$ns" addr add 198.51.100.1/32 dev lo
	ip -n "$ns" addr add 2001:db8::1/128 dev lo nodad
	sink="$BATS_TEST_TMPDIR/sink"
	nsenter --net="/run/netns/$ns" "$TEST_BIN/udpsink" 198.51.100.1 "$PORT" \
		</dev/null >"$sink" 2>&1 3>&- &
	sink_pid=$!
	remember_pid "$sink_pid"
	eventually grep -qsx ready "$sink"

	run_capture "$LOADER" --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::1
	[[ $status -eq 0 ]] || { echo "first run: exit $status: $stderr"; return 1; }
	id="$(bpftool -j cgroup show "$cg" | jq --arg t "$type" '.[] | select(.attach_type == $t) | .id')"
	bpftool cgroup detach "$cg" "$hook" id "$id"
	fill "$cg" "$hook" "$type"
	before="$(snapshot "$cg")"
	previous="$(in_force "$cg")"
	refused "$cg" 192.0.2.1

	run_capture "$LOADER" --cgroup "$cg" --deny 198.51.100.1 --deny 2001:db8::2
	assert_rolled_back "$cg" "$hook" "$before"
	[[ "$(in_force "$cg")" == "$previous" ]]
	refused "$cg" 192.0.2.1
	refused "$cg" 2001:db8::1
	delivered "$cg" 198.51.100.1

	kill -TERM "$sink_pid"
	wait "$sink_pid" || true
	result="$(tail -n 1 "$sink")"
	[[ "$result" == "received 1" ]] || { echo "sink: $result"; return 1; }
}

@test "a failed rerun leaves the previous filter in force: egress full, five swaps undone" {
	fails_over_previous_filter egress cgroup_inet_egress
}

@test "a failed rerun leaves the previous filter in force: connect6 full, three swaps undone" {
	fails_over_previous_filter connect6 cgroup_inet6_connect
}

@test "a failed rerun leaves the previous filter in force: connect4 full, the sockops swap undone" {
	fails_over_previous_filter connect4 cgroup_inet4_connect
}

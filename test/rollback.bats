#!/usr/bin/env bats
# Rollback (DESIGN.md §4 step 6): "a failure part-way through attaching
# leaves the cgroup exactly as before the run and exits non-zero with a
# message naming the hook".
#
# The failures are real: build/test/fillhook fills one hook of a test cgroup
# with other programs up to the kernel's limit of 64, so our attach there
# fails with E2BIG, or attaches one program without BPF_F_ALLOW_MULTI to the
# cgroup or its parent, so our attach there fails with EPERM, after the hooks
# before it were attached (or swapped), and those must be undone.
#
# ShellCheck: bats runs each @test in a subshell of its own, and the helpers
# below read the status and output that the test calling them set with run:
# shellcheck disable=SC2030,SC2031 # not values lost in a subshell

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

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

# fill CG HOOK: attach other programs to HOOK of CG until the kernel's limit.
fill() {
	run_capture "$TEST_BIN/fillhook" "$1" "$2" full
	[[ $status -eq 0 ]] || { echo "fillhook: $stderr"; return 1; }
	[[ "$(jq --arg t "$3" '[.[] | select(.attach_type == $t)] | length' <<<"$(cgroup_snapshot "$1")")" -eq 64 ]] ||
		{ echo "$2 of $1 does not carry 64 programs: $(cgroup_snapshot "$1")"; return 1; }
}

# The failed run: exit 71, exactly its message naming HOOK $2, nothing on
# stdout, and cgroup $1 exactly as the snapshot $3 taken before.
assert_rolled_back() {
	assert_refused 71 \
		"$ME: attaching to the $2 hook: Argument list too long; the cgroup is left as it was" \
		"$1" "$3"
}

# A failure on HOOK (attach type TYPE) of a cgroup with no filter of ours.
fails_on_fresh_cgroup() {
	local hook="$1" type="$2" cg before
	made cg make_cgroup
	fill "$cg" "$hook" "$type"
	before="$(cgroup_snapshot "$cg")"
	run_loader --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::1
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

# Another tool's program attached without BPF_F_ALLOW_MULTI (older systemd,
# some container tools) holds its hook exclusively: the kernel refuses every
# other program on that hook of the cgroup and of all its descendants with
# EPERM. The loader names that cause, and undoes the hooks before it.
exclusive_message() {
	echo "$ME: attaching to the $1 hook: Operation not permitted: another program holds the hook exclusively (attached without BPF_F_ALLOW_MULTI) on this cgroup or an ancestor; the cgroup is left as it was"
}

# held_exclusively WHERE HOOK TYPE: the exclusive program on the test
# cgroup itself (WHERE=self) or on its parent (WHERE=parent); the loader
# exits 77 naming the cause, and both cgroups are exactly as before: the
# other program still attached, none of ours.
held_exclusively() {
	local where="$1" hook="$2" type="$3" parent cg holder before_parent before
	made parent make_cgroup
	made cg make_cgroup jail
	holder="$cg"
	[[ $where == self ]] || holder="$parent"
	run_capture "$TEST_BIN/fillhook" "$holder" "$hook" exclusive
	[[ $status -eq 0 ]] || { echo "fillhook: $stderr"; return 1; }
	[[ "$(jq --arg t "$type" '[.[] | select(.attach_type == $t and .name == "jt_other")] | length' \
		<<<"$(cgroup_snapshot "$holder")")" -eq 1 ]] || { echo "not held: $(cgroup_snapshot "$holder")"; return 1; }
	before_parent="$(cgroup_snapshot "$parent")"
	before="$(cgroup_snapshot "$cg")"

	run_loader --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::1
	assert_refused 77 "$(exclusive_message "$hook")" "$cg" "$before"
	[[ "$(cgroup_snapshot "$parent")" == "$before_parent" ]] ||
		{ echo "parent changed: $(cgroup_snapshot "$parent")"; return 1; }
	[[ "$(in_force "$cg")" == "[null,null,null,null,null,null]" ]]
}

@test "a program held exclusively on the cgroup's egress hook: 77 naming the cause, the hooks before it undone" {
	held_exclusively self egress cgroup_inet_egress
}

@test "a program held exclusively on the cgroup's connect4 hook: 77 naming the cause, the hooks before it undone" {
	held_exclusively self connect4 cgroup_inet4_connect
}

@test "a program held exclusively on the parent's connect6 hook: 77 naming the cause, the hooks before it undone" {
	held_exclusively parent connect6 cgroup_inet6_connect
}

@test "a program held exclusively on the parent's egress hook: 77 naming the cause, the hooks before it undone" {
	held_exclusively parent egress cgroup_inet_egress
}

refused() {
	run_capture jailed "$1" "$ns" "$TEST_BIN/udpflood" send "$2" "$PORT"
	[[ $status -eq 77 && "$stderr" == "sendto: Operation not permitted" ]] ||
		{ echo "to $2: exit $status: $stderr (expected EPERM)"; return 1; }
}

delivered() {
	run_capture jailed "$1" "$ns" "$TEST_BIN/udpflood" send "$2" "$PORT"
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
	jailed_bg - "$ns" /dev/null "$sink" "$TEST_BIN/udpsink" 198.51.100.1 "$PORT"
	sink_pid=$JAILED_PID
	eventually grep -qsx ready "$sink"

	load_filter "$cg" --deny 192.0.2.1 --deny 2001:db8::1
	id="$(bpftool -j cgroup show "$cg" | jq --arg t "$type" '.[] | select(.attach_type == $t) | .id')"
	bpftool cgroup detach "$cg" "$hook" id "$id"
	fill "$cg" "$hook" "$type"
	before="$(cgroup_snapshot "$cg")"
	previous="$(in_force "$cg")"
	refused "$cg" 192.0.2.1

	run_loader --cgroup "$cg" --deny 198.51.100.1 --deny 2001:db8::2
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

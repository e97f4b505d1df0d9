#!/usr/bin/env bats
# Enforcement with real traffic: after the loader attached the filter, every
# path from the cgroup to a denied address fails (EPERM at once for the
# socket hooks, no reply for ICMP and for connections older than the filter),
# and every path to an allowed address still gets its echo. Each test first
# shows that its denied addresses answer without the filter, so a refusal is
# the filter's doing and not the setup's.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=net-helpers.bash
source "$BATS_TEST_DIRNAME/net-helpers.bash"

setup() {
	require_privileged
	net_setup
	new_cgroup CG
}

teardown() {
	cleanup_made
}

require_mptcp() {
	[[ $NET_HAVE_MPTCP -eq 1 ]] || cannot_run "the kernel has no MPTCP (/proc/sys/net/mptcp/enabled)"
}

# refused_at_once MODE ADDR...: reachable before the filter, EPERM at once after.
refused_at_once() {
	local mode="$1"
	shift
	expect_echo "$CG" "$mode" "$@"
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	expect_refused "$CG" "$mode" "$@"
}

@test "TCP connect to denied IPv4 and IPv6 addresses and prefixes: EPERM at once" {
	refused_at_once tcp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
}

@test "TCP Fast Open (sendto MSG_FASTOPEN) to denied addresses and prefixes: EPERM at once" {
	refused_at_once tfo "${DENIED_V4[@]}" "${DENIED_V6[@]}"
}

@test "MPTCP connect to denied addresses and prefixes: EPERM at once" {
	require_mptcp
	refused_at_once mptcp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
}

@test "UDP sendto to denied addresses and prefixes: EPERM at once" {
	refused_at_once udp-sendto "${DENIED_V4[@]}" "${DENIED_V6[@]}"
}

@test "UDP connect to denied addresses and prefixes: EPERM at once" {
	refused_at_once udp-connect "${DENIED_V4[@]}" "${DENIED_V6[@]}"
}

@test "IPv4-mapped denied destinations through AF_INET6 sockets: EPERM at once" {
	local mode

	for mode in tcp tfo udp-sendto udp-connect; do
		expect_echo "$CG" "$mode" "${DENIED_MAPPED[@]}"
	done
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	for mode in tcp tfo udp-sendto udp-connect; do
		expect_refused "$CG" "$mode" "${DENIED_MAPPED[@]}"
	done
}

@test "raw ICMP echo requests to denied addresses get no reply" {
	expect_echo "$CG" raw-icmp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	expect_no_reply "$CG" raw-icmp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
}

@test "ping-socket echo requests to denied addresses get no reply" {
	expect_echo "$CG" ping-icmp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	expect_no_reply "$CG" ping-icmp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
}

# hold_across_load ADDR: connect from the cgroup, attach the filter, then
# send on the old connection; the probe's one-line verdict is in $output.
hold_across_load() {
	local go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/hold.out" fd

	mkfifo "$go"
	jailed_bg "$CG" "$NET_NS" "$go" "$out" "$NETPROBE" hold "$1" "$NET_PORT"
	exec {fd}>"$go" # returns once the holder has opened the fifo
	eventually grep -qx connected "$out" || { exec {fd}>&-; cat "$out" >&2; return 1; }
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	echo go >&"$fd"
	exec {fd}>&-
	status=0
	wait "$JAILED_PID" || status=$?
	output="$(tail -n +2 "$out")"
	[[ $(head -n 1 "$out") == connected ]]
}

@test "a TCP connection opened before the filter was attached can no longer deliver data" {
	hold_across_load 192.0.2.1
	[[ $status -eq 3 && $output =~ ^timeout\ in\ [0-9]+\ ms$ ]] ||
		_probe_failed hold 192.0.2.1 "$CG" timeout
}

@test "a TCP connection to an allowed address opened before the filter still echoes" {
	hold_across_load 198.51.100.1
	[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
		_probe_failed hold 198.51.100.1 "$CG" ok
}

@test "a process in a child cgroup of the filtered cgroup is filtered too" {
	local child mode

	new_cgroup child child
	for mode in tcp udp-sendto; do
		expect_echo "$child" "$mode" "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	done
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	# attached to the parent only: the child inherits, it carries nothing
	[[ $(our_programs "$child") -eq 0 ]]
	for mode in tcp tfo udp-sendto udp-connect; do
		expect_refused "$child" "$mode" "${DENIED_V4[@]}" "${DENIED_V6[@]}" "${DENIED_MAPPED[@]}"
	done
	expect_no_reply "$child" raw-icmp "${DENIED_V4[@]}"
	expect_echo "$child" tcp "${ALLOWED_V4[@]}" "${ALLOWED_V6[@]}"
}

@test "no false blocks: every path to allowed addresses still gets its echo" {
	local mode

	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	for mode in tcp tfo udp-sendto udp-connect; do
		expect_echo "$CG" "$mode" "${ALLOWED_V4[@]}" "${ALLOWED_V6[@]}" "${ALLOWED_MAPPED[@]}"
	done
	for mode in raw-icmp ping-icmp; do
		expect_echo "$CG" "$mode" "${ALLOWED_V4[@]}" "${ALLOWED_V6[@]}"
	done
	# and the denied ones are refused in the same cgroup meanwhile
	expect_refused "$CG" tcp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	require_mptcp
	expect_echo "$CG" mptcp "${ALLOWED_V4[@]}" "${ALLOWED_V6[@]}" "${ALLOWED_MAPPED[@]}"
}

@test "the mptcp probe tells real MPTCP from a fallback to plain TCP" {
	require_mptcp
	# the TCP-only echo port makes an MPTCP client fall back
	run jailed "$CG" "$NET_NS" "$NETPROBE" mptcp "${ALLOWED_V4[0]}" "$NET_PORT"
	[[ $status -eq 4 && $output =~ ^error\ FALLBACK\ in\ [0-9]+\ ms$ ]]
	expect_echo "$CG" mptcp "${ALLOWED_V4[0]}"
}

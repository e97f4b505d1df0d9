#!/usr/bin/env bats
# Where the filter surprises, shown with real traffic (README.md "Usage",
# SECURITY.md "Known limits", jail-ai-ebpf-loader(8) CAVEATS):
#  - an IPv4-mapped destination (::ffff:a.b.c.d) on an AF_INET6 socket is
#    IPv4 traffic, judged by the IPv4 rules: --deny ::/0 denies IPv6 only,
#    and a rule in the mapped form (::ffff:0:0/96) is an IPv4 rule;
#  - an ICMPv6 echo through an unprivileged ping socket to a denied address
#    is dropped, but sendto() succeeds; IPv4 ping sockets and raw sockets of
#    either family get EPERM from sendto();
#  - a socket created outside the filtered cgroup is not filtered, even when
#    used from inside it, and neither is a process that joins the jail's
#    network namespace from outside the cgroup.

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

@test "--deny ::/0 denies IPv6 only: IPv4-mapped destinations on IPv6 sockets still connect" {
	local mode

	run_loader --cgroup "$CG" --deny ::/0
	assert_reply "$CG" 0 1
	for mode in tcp udp-sendto udp-connect; do
		expect_refused "$CG" "$mode" "${DENIED_V6[@]}" "${ALLOWED_V6[@]}"
		expect_echo "$CG" "$mode" "${DENIED_MAPPED[@]}" "${DENIED_V4[@]}"
	done
}

@test "--deny ::ffff:0:0/96 is the IPv4 rule 0.0.0.0/0: every IPv4 and IPv4-mapped destination, no IPv6" {
	local mode

	run_loader --cgroup "$CG" --deny ::ffff:0:0/96
	assert_reply "$CG" 1 0
	for mode in tcp udp-sendto udp-connect; do
		expect_refused "$CG" "$mode" "${DENIED_MAPPED[@]}" "${ALLOWED_MAPPED[@]}" \
			"${DENIED_V4[@]}" "${ALLOWED_V4[@]}"
		expect_echo "$CG" "$mode" "${DENIED_V6[@]}"
	done
}

@test "ICMP echo to denied addresses: sendto() gets EPERM but for IPv6 ping sockets, whose request is dropped silently" {
	local addr

	expect_echo "$CG" ping-icmp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	expect_echo "$CG" raw-icmp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	expect_refused "$CG" raw-icmp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	expect_refused "$CG" ping-icmp "${DENIED_V4[@]}"
	# sendto() succeeded (no EPERM, no other error) and no reply came
	for addr in "${DENIED_V6[@]}"; do
		probe "$CG" ping-icmp "$addr"
		[[ $status -eq 3 && $output =~ ^timeout\ in\ [0-9]+\ ms$ ]] ||
			_probe_failed ping-icmp "$addr" "$CG" "timeout"
	done
}

# late_join FROM TO: a TCP socket created in cgroup FROM, then its process
# moved into cgroup TO (filtered) before it connects to a denied address;
# $status and $output are the probe's verdict.
late_join() {
	local go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/late.out" fd

	rm -f "$go"
	mkfifo "$go"
	jailed_bg "$1" "$NET_NS" "$go" "$out" "$NETPROBE" late "${DENIED_V4[0]}" "$NET_PORT"
	exec {fd}>"$go" # returns once the prober has opened the fifo
	eventually grep -qx created "$out" || { exec {fd}>&-; cat "$out" >&2; return 1; }
	echo "$JAILED_PID" >"$2/cgroup.procs"
	[[ $(grep '^0::' "/proc/$JAILED_PID/cgroup") == "0::${2#"$CG2"}" ]]
	echo go >&"$fd"
	exec {fd}>&-
	status=0
	wait "$JAILED_PID" || status=$?
	output="$(tail -n +2 "$out")"
}

@test "a socket created outside the filtered cgroup connects to a denied address from inside it" {
	local jail outside

	# siblings: a filter on CG itself would cover both
	new_cgroup jail jail
	new_cgroup outside outside
	load_filter "$jail" "${NET_DENY_ARGS[@]}"
	late_join "$outside" "$jail"
	[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
		_probe_failed late "${DENIED_V4[0]}" "$outside then $jail" "ok (not filtered)"
	# the same with the socket created inside: refused
	late_join "$jail" "$jail"
	[[ $status -eq 2 && $output =~ ^refused\ EPERM\ in\ [0-9]+\ ms$ ]] ||
		_probe_failed late "${DENIED_V4[0]}" "$jail" "refused EPERM"
}

@test "a process that joins the jail's network namespace from outside the cgroup is not filtered" {
	local addr

	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	expect_refused "$CG" tcp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	# nsenter from the test's own cgroup, not from CG
	for addr in "${DENIED_V4[@]}" "${DENIED_V6[@]}"; do
		run in_netns "$NETPROBE" tcp "$addr" "$NET_PORT"
		[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
			_probe_failed tcp "$addr" "(nsenter from outside)" "ok (not filtered)"
	done
}

# Real traffic for the suites: source after helpers.bash (see there) and
# call net_setup in setup(); cleanup_made in teardown() then ends the
# servers and removes the namespace.
#
# Layout: one network namespace made by the test, lo up, documentation
# addresses on lo, and build/test/netprobe serving TCP (Fast Open) and UDP
# echo on NET_PORT and MPTCP echo on NET_MPTCP_PORT. The servers run in the
# namespace but in the test's own cgroup, never in a filtered one, so their
# replies are not filtered. Probes run "jailed": in a cgroup AND the
# namespace (join the cgroup first: `ip netns exec` would hide /sys/fs/cgroup).

# shellcheck shell=bash disable=SC2034,SC2154
# (the suites read the variables set here; bats' run sets status and output)

bats_require_minimum_version 1.5.0 # run --separate-stderr

NETPROBE="$TEST_BIN/netprobe"
NET_PORT=7777
NET_MPTCP_PORT=7778

# The deny list every traffic test loads, and addresses on either side of it.
NET_DENY_ARGS=(--deny 192.0.2.1 --deny 203.0.113.0/24
	--deny 2001:db8::1 --deny 2001:db8:1::/48)
DENIED_V4=(192.0.2.1 203.0.113.7)
DENIED_V6=(2001:db8::1 2001:db8:1::7)
DENIED_MAPPED=(::ffff:192.0.2.1 ::ffff:203.0.113.7)
ALLOWED_V4=(198.51.100.1)
ALLOWED_V6=(2001:db8:ffff::1)
ALLOWED_MAPPED=(::ffff:198.51.100.1)

# make_cgroup prints its path, but registers it for cleanup only when run in
# this shell, not in a $(...) subshell: new_cgroup VAR [SUB] does both.
new_cgroup() {
	local made="$BATS_TEST_TMPDIR/made-cgroup"

	make_cgroup "${2:-}" >"$made"
	printf -v "$1" '%s' "$(<"$made")"
}

# net_setup: NET_NS with the addresses above, the sysctls the probes need,
# and the echo servers running; NET_HAVE_MPTCP=1 when the kernel has MPTCP.
net_setup() {
	local made="$BATS_TEST_TMPDIR/made-netns" log="$BATS_TEST_TMPDIR/serve.log"
	local addr

	[[ -x "$NETPROBE" ]] || { cannot_run "netprobe not built (make test-helpers)"; return; }
	make_netns >"$made"
	NET_NS="$(<"$made")"
	for addr in "${DENIED_V4[@]}" "${ALLOWED_V4[@]}"; do
		ip -n "$NET_NS" addr add "$addr/32" dev lo
	done
	for addr in "${DENIED_V6[@]}" "${ALLOWED_V6[@]}"; do
		ip -n "$NET_NS" addr add "$addr/128" dev lo nodad
	done
	in_netns sysctl -qw net.ipv4.tcp_fastopen=3 \
		net.ipv4.ping_group_range="0 2147483647"
	NET_HAVE_MPTCP=0
	if [[ -e /proc/sys/net/mptcp/enabled ]]; then
		in_netns sysctl -qw net.mptcp.enabled=1
		NET_HAVE_MPTCP=1
	fi
	jailed_bg - "$NET_NS" /dev/null "$log" "$NETPROBE" serve "$NET_PORT"
	eventually grep -q '^ready' "$log" || { cat "$log" >&2; return 1; }
	if [[ $NET_HAVE_MPTCP -eq 1 ]] &&
		! grep -qx "ready tcp $NET_PORT udp $NET_PORT mptcp $NET_MPTCP_PORT" "$log"; then
		echo "MPTCP is enabled but the MPTCP echo server did not start" >&2
		return 1
	fi
}

# in_netns CMD...: CMD in the test's namespace, in the caller's cgroup.
in_netns() { jailed - "$NET_NS" "$@"; }

# probe CG MODE ADDR: one netprobe run from CG; sets $status and $output.
probe() {
	local port="$NET_PORT"

	[[ $2 != mptcp ]] || port="$NET_MPTCP_PORT"
	run jailed "$1" "$NET_NS" "$NETPROBE" "$2" "$3" "$port"
}

_probe_failed() {
	echo "netprobe $1 $2 from $3: expected $4, got status $status: '$output'" >&2
	return 1
}

# expect_echo CG MODE ADDR...: every probe gets its whole echo back.
expect_echo() {
	local cg="$1" mode="$2" addr
	shift 2
	for addr in "$@"; do
		probe "$cg" "$mode" "$addr"
		[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
			_probe_failed "$mode" "$addr" "$cg" "ok"
	done
}

# expect_refused CG MODE ADDR...: every probe fails with EPERM. That is "at
# once" by its nature (the syscall itself fails), so no duration is asserted:
# on a loaded machine any duration may stretch.
expect_refused() {
	local cg="$1" mode="$2" addr
	shift 2
	for addr in "$@"; do
		probe "$cg" "$mode" "$addr"
		[[ $status -eq 2 && $output =~ ^refused\ EPERM\ in\ [0-9]+\ ms$ ]] ||
			_probe_failed "$mode" "$addr" "$cg" "refused EPERM"
	done
}

# expect_no_reply CG MODE ADDR...: no echo comes back, whether the send
# itself is refused or the request is dropped on its way out.
expect_no_reply() {
	local cg="$1" mode="$2" addr
	shift 2
	for addr in "$@"; do
		probe "$cg" "$mode" "$addr"
		[[ ($status -eq 2 && $output =~ ^refused\ EPERM\ in\ [0-9]+\ ms$) ||
			($status -eq 3 && $output =~ ^timeout\ in\ [0-9]+\ ms$) ]] ||
			_probe_failed "$mode" "$addr" "$cg" "no reply"
	done
}

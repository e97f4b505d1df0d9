# For test/oracle.bats and test/verdict.bats: source after helpers.bash (see
# there); cleanup_made in teardown() removes what is made here.
#
# The namespace made here has only lo, and every IPv4 and IPv6 address is
# local in it (a "local" route for 0.0.0.0/0 and ::/0 on lo), so a test can
# reach any destination a rule set names without adding a single address or
# route outside it. Servers run in the namespace but in the test's own
# cgroup; probes run "jailed": in a filtered cgroup AND the namespace (join
# the cgroup first: `ip netns exec` would hide /sys/fs/cgroup).

# shellcheck shell=bash disable=SC2034,SC2154
# (the suites read the variables set here; bats' run sets status and output)

ORACLE_DIR="$BATS_TEST_DIRNAME"
NETPROBE="$TEST_BIN/netprobe"

require_python() {
	[[ -n $PYTHON ]] || { cannot_run "python3 is not installed"; return; }
}

# anyip_netns: NS, a namespace of this test in which every address is
# local, ping sockets are allowed, TCP Fast Open is on for clients and
# servers, and MPTCP is on when the kernel has it (HAVE_MPTCP=1).
anyip_netns() {
	made NS make_netns
	ip -n "$NS" route add local 0.0.0.0/0 dev lo
	ip -n "$NS" -6 route add local ::/0 dev lo
	in_ns sysctl -qw net.ipv4.ping_group_range="0 2147483647" \
		net.ipv4.tcp_fastopen=3
	HAVE_MPTCP=0
	if [[ -e /proc/sys/net/mptcp/enabled ]]; then
		in_ns sysctl -qw net.mptcp.enabled=1
		HAVE_MPTCP=1
	fi
}

# in_ns CMD...: CMD in the test's namespace, in the caller's cgroup.
in_ns() { jailed - "$NS" "$@"; }

# serve PORT: netprobe's echo servers (TCP with Fast Open and UDP on PORT,
# MPTCP on PORT+1) in the namespace, outside every filtered cgroup.
serve() {
	local log="$BATS_TEST_TMPDIR/serve-$1.log"

	[[ -x "$NETPROBE" ]] || { cannot_run "netprobe not built (make test-helpers)"; return; }
	jailed_bg - "$NS" /dev/null "$log" "$NETPROBE" serve "$1"
	eventually grep -q '^ready' "$log" || { cat "$log" >&2; return 1; }
	if [[ $HAVE_MPTCP -eq 1 ]] && ! grep -q " mptcp $(($1 + 1))\$" "$log"; then
		echo "MPTCP is enabled but its echo server on $(($1 + 1)) did not start" >&2
		return 1
	fi
}

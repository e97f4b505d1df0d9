# Real traffic for the suites: load after helpers (`load helpers`,
# `load net-helpers`) and call net_setup in setup(); cleanup_made in
# teardown() then ends the servers and removes the namespace.
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

# Refused "at once": far below netprobe's 1500 ms wait.
NET_AT_ONCE_MS=500

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
	# not through in_netns: $! must be the server itself (nsenter execs it),
	# not a subshell whose kill would orphan it
	nsenter --net="/run/netns/$NET_NS" "$NETPROBE" serve "$NET_PORT" \
		>"$log" 2>&1 3>&- &
	remember_pid $!
	eventually grep -q '^ready' "$log" || { cat "$log" >&2; return 1; }
	if [[ $NET_HAVE_MPTCP -eq 1 ]] &&
		! grep -qx "ready tcp $NET_PORT udp $NET_PORT mptcp $NET_MPTCP_PORT" "$log"; then
		echo "MPTCP is enabled but the MPTCP echo server did not start" >&2
		return 1
	fi
}

# in_netns CMD...: CMD in the test's namespace, in the caller's cgroup.
in_netns() { nsenter --net="/run/netns/$NET_NS" "$@"; }

# jailed CG CMD...: CMD in cgroup CG and in the test's namespace.
jailed() {
	local cg="$1"
	shift
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec nsenter --net="/run/netns/$NET_NS" "$@")
}

# jailed_bg CG IN OUT CMD...: jailed in the background, stdin from IN
# (e.g. a fifo), stdout and stderr to OUT; JAILED_PID is CMD's own PID (the
# subshell execs nsenter, which execs CMD), so teardown ends CMD itself.
jailed_bg() {
	local cg="$1" in="$2" out="$3"
	shift 3
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec nsenter --net="/run/netns/$NET_NS" "$@") \
		<"$in" >"$out" 2>&1 3>&- &
	JAILED_PID=$!
	remember_pid "$JAILED_PID"
}

# probe CG MODE ADDR: one netprobe run from CG; sets $status and $output.
probe() {
	local port="$NET_PORT"

	[[ $2 != mptcp ]] || port="$NET_MPTCP_PORT"
	run jailed "$1" "$NETPROBE" "$2" "$3" "$port"
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

# expect_refused CG MODE ADDR...: every probe fails with EPERM, at once.
expect_refused() {
	local cg="$1" mode="$2" addr
	shift 2
	for addr in "$@"; do
		probe "$cg" "$mode" "$addr"
		if [[ $status -eq 2 && $output =~ ^refused\ EPERM\ in\ ([0-9]+)\ ms$ ]] &&
			((BASH_REMATCH[1] < NET_AT_ONCE_MS)); then
			continue
		fi
		_probe_failed "$mode" "$addr" "$cg" "refused EPERM in < $NET_AT_ONCE_MS ms"
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

# load_filter CG: attach NET_DENY_ARGS (--deny and --allow rules) to CG and
# check the reply (counts per family and per action);
# PROGRAM_IDS holds the six program ids it reports (sockops first).
load_filter() {
	local cg="$1" ids='([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+),([0-9]+)'
	local entry v4=0 v6=0 deny=0 allow=0

	for entry in "${NET_DENY_ARGS[@]}"; do
		[[ $entry == --deny ]] && deny=$((deny + 1)) && continue
		[[ $entry == --allow ]] && allow=$((allow + 1)) && continue
		# the loader stores ::ffff:a.b.c.d (bracketed or not) as IPv4;
		# an unbracketed value with ':' is IPv4 only if a '.' comes first
		if [[ $entry == \[::ffff:*.* || $entry == ::ffff:*.* ]]; then
			v4=$((v4 + 1))
		elif [[ $entry == \[* || ($entry == *:* && ${entry%%:*} != *.*) ]]; then
			v6=$((v6 + 1))
		else
			v4=$((v4 + 1))
		fi
	done
	# not run_loader: plain `run` folds stderr into $output (bats 1.8)
	run --separate-stderr "$LOADER" --cgroup "$cg" "${NET_DENY_ARGS[@]}"
	[[ $status -eq 0 && -z $stderr ]] ||
		{ echo "loader: status $status, stderr '$stderr'" >&2; return 1; }
	[[ $output == "{\"success\":true,\"cgroup\":\"$cg\",\"ipv4\":$v4,\"ipv6\":$v6,\"deny\":$deny,\"allow\":$allow,\"programs\":["* &&
		$output =~ \"programs\":\[$ids\]\}$ ]] ||
		{ echo "loader: unexpected reply '$output'" >&2; return 1; }
	PROGRAM_IDS=("${BASH_REMATCH[@]:1:6}")
	[[ $(our_programs "$cg") -eq 6 ]] ||
		{ echo "loader: $(our_programs "$cg") of our programs on $cg, not 6" >&2; return 1; }
}

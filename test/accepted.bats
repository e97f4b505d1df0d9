#!/usr/bin/env bats
# Connections the jail accepts (DESIGN.md §6 "Stateful", issue 10): a TCP
# connection that a process in the filtered cgroup accepted works whatever
# its peer's address, also across reruns of the loader; everything else to
# that peer stays refused: the jail's own connections and datagrams, UDP
# "replies", older outbound connections, sockets that only share a
# listener's port, raw packets that look like a listener's SYN-ACK, and an
# accepted socket's own packets sent elsewhere than to its peer (a source
# route through a denied address). A flood of inbound connections across
# 100 reruns loses none.
#
# Waits are on conditions (a line of output); "not sent" is read from the
# kernel (EPERM from a syscall, or data left unsent in the socket's queue,
# SIOCOUTQNSD), never from the absence of an answer within some time.
#
# One network namespace made here, with lo up: the jail serves on
# 127.0.0.1 and 2001:db8::1; the denied peer is 127.0.0.2 / 2001:db8::2,
# in the same namespace but outside the filtered cgroup; 127.0.0.3 /
# 2001:db8::3 are allowed. build/test/peer plays both ends.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

PEER="$TEST_BIN/peer"
NETPROBE="$TEST_BIN/netprobe"
PORT=7000
PEER_PORT=7001
JAIL4=127.0.0.1
DENIED4=127.0.0.2
OTHER4=127.0.0.3
JAIL6=2001:db8::1
DENIED6=2001:db8::2
OTHER6=2001:db8::3

setup() {
	require_privileged
	[[ -x $PEER && -x $NETPROBE ]] ||
		cannot_run "test helpers not built (make test-helpers)"
	unset SUDO_UID # a developer's "sudo make check" sets it
	made NS make_netns
	local addr
	for addr in "$JAIL6" "$DENIED6" "$OTHER6"; do
		ip -n "$NS" addr add "$addr/128" dev lo nodad
	done
	made CG make_cgroup
}

teardown() {
	cleanup_made
}

# in_ns CMD...: CMD in the test's namespace, outside the filtered cgroup.
in_ns() { jailed - "$NS" "$@"; }

# wait_line FILE LINE: wait until FILE has the line LINE.
wait_line() {
	eventually grep -qxF -- "$2" "$1" ||
		{ echo "no line '$2' in $1:" >&2; cat "$1" >&2; return 1; }
}

# serve CG|- ADDR [PORT]: a greeting echo listener; waits until it listens.
serve() {
	local out="$BATS_TEST_TMPDIR/serve-$2-${3:-$PORT}"
	jailed_bg "$1" "$NS" /dev/null "$out" "$PEER" listen "$2" "${3:-$PORT}"
	wait_line "$out" ready
}

# more_lines FILE N: FILE has more than N lines.
more_lines() {
	(($(wc -l <"$1") > $2))
}

# flood_moved OUT N: the flood writing OUT is past connection N, or failed.
flood_moved() {
	grep -q '^failed' "$1" || (($(grep -c '^ok ' "$1" || true) > $2))
}

# talk_ok SRC DST: from SRC (outside the jail), connect to DST:PORT; the
# greeting and two lines come back whole.
talk_ok() {
	run in_ns "$PEER" talk "$1" 0 "$2" "$PORT" <<<$'one\ntwo'
	[[ $status -eq 0 && $output == $'connected\nechoed one\nechoed two' ]] ||
		{ echo "talk $1 -> $2: status $status: '$output'" >&2; return 1; }
}

# open_talk NAME CG|- SRC SPORT DST DPORT: a talk kept open; lines go in
# through fd TALK_FD_<NAME>, the output is in $BATS_TEST_TMPDIR/NAME.out.
open_talk() {
	local name="$1" cg="$2" in="$BATS_TEST_TMPDIR/$1.in" fd
	shift 2
	mkfifo "$in"
	jailed_bg "$cg" "$NS" "$in" "$BATS_TEST_TMPDIR/$name.out" "$PEER" talk "$@"
	exec {fd}>"$in" # returns once talk has opened the fifo
	printf -v "TALK_FD_$name" '%s' "$fd"
	printf -v "TALK_PID_$name" '%s' "$JAILED_PID"
	wait_line "$BATS_TEST_TMPDIR/$name.out" connected
}

# send NAME LINE: send LINE on talk NAME.
send() {
	local fd="TALK_FD_$1"
	echo "$2" >&"${!fd}"
}

# say NAME LINE: send LINE on talk NAME and wait for its echo.
say() {
	send "$1" "$2"
	wait_line "$BATS_TEST_TMPDIR/$1.out" "echoed $2"
}

# A talk whose second line the kernel could not send (close_talk output).
CUT_AFTER_ONE=$'^connected\nechoed one\nheld [0-9]+$'

# close_talk NAME: end talk NAME; its exit status in $status, output in $output.
close_talk() {
	local fd="TALK_FD_$1" pid="TALK_PID_$1"
	fd="${!fd}"
	exec {fd}>&-
	status=0
	wait "${!pid}" || status=$?
	output="$(<"$BATS_TEST_TMPDIR/$1.out")"
}

@test "the reproduction: a listener in the jail accepts a denied IPv4 peer, both ways" {
	serve "$CG" "$JAIL4"
	load_filter "$CG" --deny "$DENIED4"
	talk_ok "$DENIED4" "$JAIL4"
}

@test "IPv6: a listener in the jail accepts a denied IPv6 peer, both ways" {
	serve "$CG" "$JAIL6"
	load_filter "$CG" --deny "$DENIED6"
	talk_ok "$DENIED6" "$JAIL6"
}

@test "IPv4-mapped: a dual-stack IPv6 listener accepts a denied IPv4 peer, both ways" {
	serve "$CG" ::
	load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
	talk_ok "$DENIED4" "$JAIL4"
	talk_ok "$DENIED6" "$JAIL6"
}

@test "a listener in a child cgroup of the filtered one accepts a denied peer" {
	local child

	made child make_cgroup child
	serve "$child" ::
	load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
	[[ $(our_programs "$child") -eq 0 ]] # inherited, not attached there
	talk_ok "$DENIED4" "$JAIL4"
	talk_ok "$DENIED6" "$JAIL6"
}

@test "with SYN cookies (the kernel sends the SYN-ACK without a socket) a denied peer connects" {
	in_ns sysctl -qw net.ipv4.tcp_syncookies=2 # always, not only when flooded
	serve "$CG" ::
	load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
	talk_ok "$DENIED4" "$JAIL4"
	talk_ok "$DENIED6" "$JAIL6"
}

# tcp_ext NAME: the TcpExt counter NAME of the test's namespace.
tcp_ext() {
	# shellcheck disable=SC2016 # awk's program: awk expands $i and $col
	in_ns awk -v name="$1" '/^TcpExt:/ {
		if (!col) { for (i = 1; i <= NF; i++) if ($i == name) col = i }
		else print $col }' /proc/net/netstat
}

@test "Fast Open and MPTCP connections the jail accepts from a denied peer (the host itself) work" {
	local out="$BATS_TEST_TMPDIR/netprobe.out" addr mode

	in_ns sysctl -qw net.ipv4.tcp_fastopen=3
	[[ ! -e /proc/sys/net/mptcp/enabled ]] || in_ns sysctl -qw net.mptcp.enabled=1
	jailed_bg "$CG" "$NS" /dev/null "$out" "$NETPROBE" serve "$PORT"
	eventually grep -q '^ready' "$out"
	# the peer is the loopback address itself, as a host's own address is
	load_filter "$CG" --deny 127.0.0.1 --deny ::1
	[[ $(tcp_ext TCPFastOpenPassive) -eq 0 ]]
	for addr in 127.0.0.1 ::1; do
		# the first asks for a cookie, the second sends data in its SYN
		for mode in tcp tfo tfo; do
			run in_ns "$NETPROBE" "$mode" "$addr" "$PORT"
			[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
				{ echo "$mode $addr: status $status: $output" >&2; false; }
		done
	done
	[[ $(tcp_ext TCPFastOpenPassive) -ge 2 ]] # so the listener did accept by Fast Open
	grep -q mptcp "$out" || cannot_run "the kernel has no MPTCP"
	for addr in 127.0.0.1 ::1; do
		run in_ns "$NETPROBE" mptcp "$addr" $((PORT + 1))
		[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
			{ echo "mptcp $addr: status $status: $output" >&2; false; }
	done
}

@test "a filter covering the peer's whole prefix, with ports, still lets accepted connections through" {
	serve "$CG" ::
	load_filter "$CG" --deny 127.0.0.0/8 --deny 2001:db8::/32 \
		--allow "$JAIL4:$PORT/tcp" --deny "$DENIED4:1-65535/tcp" --deny "[$DENIED6]:1-65535"
	talk_ok "$DENIED4" "$JAIL4"
	talk_ok "$DENIED6" "$JAIL6"
}

@test "reruns with other rules in the middle of an exchange do not break it" {
	local first

	serve "$CG" ::
	load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
	first="${PROGRAM_IDS[*]}"
	open_talk v4 - "$DENIED4" 0 "$JAIL4" "$PORT"
	open_talk v6 - "$DENIED6" 0 "$JAIL6" "$PORT"
	say v4 one
	say v6 one
	# still denying the peers, with other rules: new programs and maps
	load_filter "$CG" --deny 127.0.0.0/30 --deny 2001:db8::/64 --allow "$OTHER4:80/tcp"
	[[ "${PROGRAM_IDS[*]}" != "$first" ]]
	say v4 two
	say v6 two
	load_filter "$CG" --deny "$DENIED4:1-65535" --deny "[$DENIED6]:1-65535" --deny 10.0.0.0/8
	say v4 three
	say v6 three
	# the peers are still denied for the jail's own connections
	run jailed "$CG" "$NS" "$NETPROBE" tcp "$DENIED4" "$PORT"
	[[ $status -eq 2 && $output =~ ^refused\ EPERM\ in\ [0-9]+\ ms$ ]]
	close_talk v4
	[[ $status -eq 0 && $output == $'connected\nechoed one\nechoed two\nechoed three' ]]
	close_talk v6
	[[ $status -eq 0 && $output == $'connected\nechoed one\nechoed two\nechoed three' ]]
}

@test "the jail's own connections and datagrams to a peer it accepted from: EPERM at once" {
	local mode addr out="$BATS_TEST_TMPDIR/netprobe.out"

	jailed_bg - "$NS" /dev/null "$out" "$NETPROBE" serve "$PEER_PORT"
	eventually grep -q '^ready' "$out"
	serve "$CG" ::
	# reachable without the filter: the refusals below are the filter's
	for mode in tcp udp-sendto; do
		for addr in "$DENIED4" "$DENIED6"; do
			run jailed "$CG" "$NS" "$NETPROBE" "$mode" "$addr" "$PEER_PORT"
			[[ $status -eq 0 ]] || { echo "$mode $addr: $output" >&2; false; }
		done
	done
	load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
	open_talk v4 - "$DENIED4" 0 "$JAIL4" "$PORT"
	open_talk v6 - "$DENIED6" 0 "$JAIL6" "$PORT"
	say v4 one
	say v6 one
	for mode in tcp tfo udp-sendto udp-connect; do
		for addr in "$DENIED4" "$DENIED6" "::ffff:$DENIED4"; do
			run jailed "$CG" "$NS" "$NETPROBE" "$mode" "$addr" "$PEER_PORT"
			[[ $status -eq 2 && $output =~ ^refused\ EPERM\ in\ [0-9]+\ ms$ ]] ||
				{ echo "$mode $addr: status $status: $output" >&2; false; }
		done
	done
	say v4 two
	say v6 two
}

@test "a connection the jail opened before the filter to a now-denied peer is cut" {
	local addr

	for addr in "$DENIED4" "$DENIED6"; do
		serve - "$addr" "$PEER_PORT"
	done
	serve "$CG" :: # a listener of the jail's own does not help
	open_talk v4 "$CG" "$JAIL4" 0 "$DENIED4" "$PEER_PORT"
	open_talk v6 "$CG" "$JAIL6" 0 "$DENIED6" "$PEER_PORT"
	say v4 one
	say v6 one
	load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
	send v4 two
	send v6 two
	close_talk v4
	[[ $status -eq 3 && $output =~ $CUT_AFTER_ONE ]]
	close_talk v6
	[[ $status -eq 3 && $output =~ $CUT_AFTER_ONE ]]
}

@test "UDP has no accept: a UDP server in the jail cannot answer a denied peer (EPERM)" {
	local addr jail out n

	for addr in "$JAIL4" "$JAIL6"; do
		out="$BATS_TEST_TMPDIR/udp-$addr"
		jailed_bg "$CG" "$NS" /dev/null "$out" "$PEER" udp-echo "$addr" "$PORT"
		wait_line "$out" ready
	done
	for n in 1 2; do
		[[ $n -eq 2 ]] && load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
		for addr in "$DENIED4" "$DENIED6"; do
			jail="$JAIL4"
			[[ $addr == *:* ]] && jail="$JAIL6"
			run in_ns "$PEER" udp-send "$addr" "$jail" "$PORT"
			[[ $status -eq 0 && $output == sent ]]
			eventually more_lines "$BATS_TEST_TMPDIR/udp-$jail" "$n" ||
				{ echo "round $n, $addr:" >&2; cat "$BATS_TEST_TMPDIR/udp-$jail" >&2; false; }
		done
	done
	for jail in "$JAIL4" "$JAIL6"; do
		[[ "$(<"$BATS_TEST_TMPDIR/udp-$jail")" == $'ready\nreplied\nrefused EPERM' ]]
	done
}

@test "a socket sharing a jail listener's port (SO_REUSEPORT) gains nothing: connect EPERM, an older one is cut" {
	serve "$CG" "$JAIL4"
	serve - "$DENIED4" "$PEER_PORT"
	serve - "$DENIED4" $((PEER_PORT + 1))
	load_filter "$CG" --deny 192.0.2.1 # some filter before, none for the peer
	# an accepted connection from the peer on the listener's port
	open_talk in - "$DENIED4" 0 "$JAIL4" "$PORT"
	say in one
	# a client socket bound to the listener's own address and port
	open_talk out "$CG" "$JAIL4" "$PORT" "$DENIED4" "$PEER_PORT"
	say out one
	load_filter "$CG" --deny "$DENIED4"
	say in two
	run jailed "$CG" "$NS" "$PEER" talk "$JAIL4" "$PORT" "$DENIED4" $((PEER_PORT + 1)) </dev/null
	[[ $status -eq 2 && $output == "refused EPERM" ]]
	send out two
	close_talk out
	[[ $status -eq 3 && $output =~ $CUT_AFTER_ONE ]]
	say in three
	close_talk in
	[[ $status -eq 0 ]]
}

@test "a raw socket's SYN-ACK-shaped packet to a denied peer is dropped (IPv4 and IPv6)" {
	local jail denied other out

	serve "$CG" ::
	for jail in "$JAIL4" "$JAIL6"; do
		denied="$DENIED4" other="$OTHER4"
		[[ $jail == *:* ]] && denied="$DENIED6" other="$OTHER6"
		out="$BATS_TEST_TMPDIR/capture-$jail"
		# every outgoing SYN-ACK from the listener's port, until one to
		# $other (the marker)
		jailed_bg - "$NS" /dev/null "$out" "$PEER" capture "$PORT" "$other"
		wait_line "$out" ready
		run jailed "$CG" "$NS" "$PEER" raw-synack "$jail" "$PORT" "$denied" 40000
		[[ $status -eq 0 && $output == sent ]] # without the filter: sent
		load_filter "$CG" --deny "$denied"
		run jailed "$CG" "$NS" "$PEER" raw-synack "$jail" "$PORT" "$denied" 40001
		[[ $status -eq 2 && $output == "refused EPERM" ]] # egress dropped it
		run jailed "$CG" "$NS" "$PEER" raw-synack "$jail" "$PORT" "$other" 40002
		[[ $status -eq 0 && $output == sent ]]
		wait "$JAILED_PID"
		# in send order: the one before the filter, then the marker
		[[ "$(<"$out")" == $'ready\nsynack '"$denied"$'\nsynack '"$other" ]] ||
			{ cat "$out" >&2; false; }
		load_filter "$CG" --deny 192.0.2.1 # the next family starts with its peer allowed
	done
}

@test "an accepted connection cannot be source-routed through a denied address (IPv4 option, IPv6 routing header)" {
	local jail denied other port=$PORT

	load_filter "$CG" --deny "$DENIED4" --deny "$DENIED6"
	for jail in "$JAIL4" "$JAIL6"; do
		denied="$DENIED4" other="$OTHER4"
		[[ $jail == *:* ]] && denied="$DENIED6" other="$OTHER6"
		# the jail accepts a connection from itself, so its own socket
		# is an accepted one; through an allowed hop the line leaves
		run jailed "$CG" "$NS" "$PEER" reroute "$jail" $((port++)) "$other"
		[[ $status -eq 0 && $output == sent ]] ||
			{ echo "via $other: status $status: $output" >&2; false; }
		# through the denied address the egress hook keeps it back
		run jailed "$CG" "$NS" "$PEER" reroute "$jail" $((port++)) "$denied"
		[[ $status -eq 3 && $output =~ ^held\ [0-9]+$ ]] ||
			{ echo "via $denied: status $status: $output" >&2; false; }
	done
}

@test "a flood of connections from a denied peer during 100 reruns loses none" {
	local in="$BATS_TEST_TMPDIR/flood.in" out="$BATS_TEST_TMPDIR/flood.out"
	local fd round before last

	serve "$CG" ::
	load_filter "$CG" --deny "$DENIED4"
	mkfifo "$in"
	jailed_bg - "$NS" "$in" "$out" "$PEER" flood "$DENIED4" "$JAIL4" "$PORT"
	exec {fd}>"$in"
	for ((round = 1; round <= 100; round++)); do
		before="$(grep -c '^ok ' "$out" || true)"
		if ((round % 2)); then
			load_filter "$CG" --deny 127.0.0.0/30 --deny 10.0.0.0/8
		else
			load_filter "$CG" --deny "$DENIED4:1-65535/tcp" --deny "$DENIED4"
		fi
		# at least one whole connection after this rerun
		eventually flood_moved "$out" "$before"
		! grep -q '^failed' "$out" || break
	done
	exec {fd}>&-
	wait "$JAILED_PID" || { tail -n 3 "$out" >&2; false; }
	last="$(tail -n 1 "$out")"
	[[ $last =~ ^ok\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 100))
	# and none completed late: no SYN had to be sent again
	[[ $(tcp_ext TCPSynRetrans) -eq 0 ]]
}

#!/usr/bin/env bats
# The verdict of DESIGN.md section 6, case by case, with real traffic: the
# design's own examples, NAT64 and unspecified destinations (EPERM at once,
# not a hang), connected UDP with the control messages QUIC sends, sendto
# with a family that is not the socket's, and MPTCP and TCP Fast Open
# against port rules. Every destination is an address of a namespace made
# here in which every address is local (test/oracle-helpers.bash), so the
# design's literal addresses are used and nothing leaves the namespace. Each
# test first shows that what it expects refused answers without the filter.

# shellcheck disable=SC2154 # run_capture (helpers.bash) sets stderr
# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=oracle-helpers.bash
source "$BATS_TEST_DIRNAME/oracle-helpers.bash"

# Refused "at once": far below netprobe's 1500 ms wait.
AT_ONCE_MS=500

setup() {
	require_privileged
	require_python
	anyip_netns
	made CG make_cgroup
}

teardown() {
	cleanup_made
}

require_mptcp() {
	[[ $HAVE_MPTCP -eq 1 ]] || cannot_run "the kernel has no MPTCP (/proc/sys/net/mptcp/enabled)"
}

# expect WANT PROBE ARGS...: every run of the probe (netprobe MODE, or
# verdict_probe.py MODE) from CG ends as WANT: echo (the whole echo came
# back), refused (EPERM, in < AT_ONCE_MS), no-reply (refused or timed
# out). ARGS are "ADDR PORT [EXTRA]" groups separated by ",".
expect() {
	local want="$1" mode="$2" args=() ok
	local -a cmd
	shift 2
	case $mode in
	cmsg | cmsg-hold | unspec | inet-on-inet6 | exthdr-ping | fragment | tcp-connect | udp-send | lsrr | again)
		cmd=("$PYTHON" "$ORACLE_DIR/verdict_probe.py" "$mode") ;;
	*) cmd=("$NETPROBE" "$mode") ;;
	esac
	while (($# > 0)); do
		args=()
		while (($# > 0)) && [[ $1 != , ]]; do
			args+=("$1")
			shift
		done
		(($# > 0)) && shift
		run_capture jailed "$CG" "$NS" "${cmd[@]}" "${args[@]}"
		ok=0
		case $want in
		echo) [[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] && ok=1 ;;
		refused)
			[[ $status -eq 2 && $output =~ ^refused\ EPERM(\ at\ [a-z]+)?\ in\ ([0-9]+)\ ms$ ]] &&
				((BASH_REMATCH[2] < AT_ONCE_MS)) && ok=1
			;;
		reached) # connected, or refused by the host (nothing listens)
			[[ ($status -eq 0 && $output =~ ^ok\ in) ||
				($status -eq 4 && $output =~ ^error\ ECONNREFUSED\ at\ connect) ]] && ok=1
			;;
		no-reply)
			[[ ($status -eq 2 && $output =~ ^refused\ EPERM) ||
				($status -eq 3 && $output =~ ^timeout\ in) ]] && ok=1
			;;
		esac
		[[ $ok -eq 1 ]] || {
			echo "$mode ${args[*]}: expected $want, got status $status: '$output' '$stderr'" >&2
			return 1
		}
	done
}

@test "DESIGN §6: --deny 10.88.0.1 --allow 10.88.0.1:11434/tcp opens one port of the gateway" {
	serve 11434
	serve 7777
	expect echo tcp 10.88.0.1 7777 , 10.88.0.1 11434
	expect echo udp-sendto 10.88.0.1 11434
	expect echo ping-icmp 10.88.0.1
	load_filter "$CG" --deny 10.88.0.1 --allow 10.88.0.1:11434/tcp
	expect echo tcp 10.88.0.1 11434 , ::ffff:10.88.0.1 11434 , 10.88.0.2 7777
	expect echo tfo 10.88.0.1 11434
	expect refused tcp 10.88.0.1 7777 , ::ffff:10.88.0.1 7777 , 10.88.0.1 11435
	expect refused udp-sendto 10.88.0.1 11434
	expect refused udp-connect 10.88.0.1 11434
	# ICMP has no port: only the portless deny can match it
	expect no-reply ping-icmp 10.88.0.1
	expect echo ping-icmp 10.88.0.2
}

@test "DESIGN §1: rootless podman's DNS at 169.254.1.1:53 answers while the rest of 169.254.0.0/16 is refused" {
	serve 53
	serve 11434
	expect echo udp-sendto 169.254.1.1 53 , 169.254.1.2 53 , 169.254.169.254 53
	load_filter "$CG" --deny 10.88.0.1 --deny 192.168.1.23 --deny 169.254.0.0/16 \
		--deny fe80::/10 --deny fd00:ec2::254 \
		--allow 10.88.0.1:11434/tcp --allow 169.254.1.1:53
	expect echo udp-sendto 169.254.1.1 53
	expect echo udp-connect 169.254.1.1 53
	expect echo tcp 169.254.1.1 53 , 10.88.0.1 11434
	expect refused udp-sendto 169.254.1.2 53 , 169.254.169.254 53 , 192.168.1.23 53 , fd00:ec2::254 53
	expect refused tcp 169.254.1.1 54 , 10.88.0.1 53 , 192.168.1.23 11434
	expect no-reply ping-icmp 169.254.1.1
	expect echo udp-sendto 192.0.2.1 53 , fd00:ec2::253 53
}

@test "port 0 is in no port range: a rule without ports covers it, a rule with ports does not" {
	serve 7777
	expect reached tcp-connect 192.0.2.1 0 , 2001:db8::1 0
	expect reached udp-send 192.0.2.1 0 , 2001:db8::1 0
	load_filter "$CG" --deny 192.0.2.1 --allow 192.0.2.1:1-65535 \
		--deny 2001:db8::1 --allow '[2001:db8::1]:1-65535'
	expect refused tcp-connect 192.0.2.1 0 , 2001:db8::1 0
	expect refused udp-send 192.0.2.1 0 , 2001:db8::1 0
	expect echo tcp 192.0.2.1 7777 , 2001:db8::1 7777
	load_filter "$CG" --deny 192.0.2.0/24:1-65535 --deny '[2001:db8::/64]:1-65535'
	expect refused tcp-connect 192.0.2.1 7777 , 2001:db8::1 7777
	expect reached tcp-connect 192.0.2.1 0 , 2001:db8::1 0
	expect reached udp-send 192.0.2.1 0 , 2001:db8::1 0
}

@test "DESIGN §6: the allow-list posture reaches only what it lists" {
	serve 443
	serve 7777
	expect echo tcp 140.82.128.1 443 , 192.0.2.1 443 , 2001:db8:1::1 443 , 0.0.0.0 443
	load_filter "$CG" --deny 0.0.0.0/0 --deny ::/0 \
		--allow 140.82.112.0/20:443/tcp --allow '[2001:db8::/64]:443/tcp'
	expect echo tcp 140.82.112.1 443 , 140.82.127.254 443 , ::ffff:140.82.112.1 443 , 2001:db8::1 443
	expect echo tfo 140.82.112.1 443 , 2001:db8::ffff 443
	expect refused tcp 140.82.128.1 443 , 140.82.111.255 443 , 140.82.112.1 7777 , \
		192.0.2.1 443 , 127.0.0.1 443 , 0.0.0.0 443 , 2001:db8:1::1 443 , ::1 443 , :: 443
	expect refused udp-sendto 140.82.112.1 443 , 2001:db8::1 443 , 192.0.2.1 7777
	expect no-reply ping-icmp 140.82.112.1
	expect no-reply ping-icmp 2001:db8::1
}

@test "DESIGN §6: --allow 0.0.0.0/0:443 --deny 169.254.169.254 keeps the metadata service closed" {
	serve 443
	serve 7777
	expect echo tcp 169.254.169.254 443 , 169.254.169.254 7777
	load_filter "$CG" --allow 0.0.0.0/0:443 --deny 169.254.169.254
	expect refused tcp 169.254.169.254 443 , ::ffff:169.254.169.254 443 , 169.254.169.254 7777
	expect refused udp-sendto 169.254.169.254 443
	expect no-reply ping-icmp 169.254.169.254
	expect echo tcp 169.254.169.253 443 , 192.0.2.1 443 , 192.0.2.1 7777
	expect echo udp-sendto 192.0.2.1 443
	expect echo ping-icmp 169.254.169.253
}

@test "NAT64: 64:ff9b::a.b.c.d is refused at once if a.b.c.d or it is denied" {
	serve 7777
	expect echo tcp 64:ff9b::192.0.2.7 7777 , 64:ff9b::198.51.100.9 7777
	expect echo ping-icmp 64:ff9b::192.0.2.7
	load_filter "$CG" --deny 192.0.2.0/24 --deny 64:ff9b::198.51.100.9 --allow 64:ff9b::/96
	local mode
	for mode in tcp tfo udp-sendto udp-connect; do
		expect refused "$mode" 64:ff9b::192.0.2.7 7777 , 64:ff9b::198.51.100.9 7777
	done
	expect no-reply ping-icmp 64:ff9b::192.0.2.7
	# neither the IPv6 nor the IPv4 verdict denies these
	expect echo tcp 64:ff9b::198.51.100.7 7777 , 198.51.100.9 7777
	expect echo ping-icmp 64:ff9b::198.51.100.7
}

@test "unspecified destinations: 0.0.0.0 and :: with the loopback denied get EPERM at once, not a hang" {
	serve 7777
	local mode
	for mode in tcp udp-sendto; do
		expect echo "$mode" 0.0.0.0 7777 , :: 7777
	done
	load_filter "$CG" --deny 127.0.0.0/8 --deny ::1
	for mode in tcp tfo udp-sendto udp-connect; do
		expect refused "$mode" 0.0.0.0 7777 , :: 7777 , ::ffff:0.0.0.0 7777
	done
	# an all-zero AF_UNSPEC address with a port is a destination too
	expect refused unspec 0.0.0.0 7777
	expect echo tcp 192.0.2.1 7777
	require_mptcp
	expect refused mptcp 0.0.0.0 7778 , :: 7778
}

@test "connected UDP + IP_TOS, IPV6_TCLASS or UDP_SEGMENT to allowed 127.0.0.1:7001 and ::1 is delivered" {
	serve 7001
	load_filter "$CG" --deny 0.0.0.0/8 --deny ::/128
	expect echo cmsg 127.0.0.1 7001 none , 127.0.0.1 7001 IP_TOS , 127.0.0.1 7001 UDP_SEGMENT
	expect echo cmsg ::1 7001 none , ::1 7001 IPV6_TCLASS , ::1 7001 UDP_SEGMENT
	expect echo cmsg ::ffff:127.0.0.1 7001 IP_TOS , ::ffff:127.0.0.1 7001 IPV6_TCLASS
	# connected to 0.0.0.0 means the loopback, which is allowed
	expect echo cmsg 0.0.0.0 7001 IP_TOS , :: 7001 IPV6_TCLASS
}

@test "connected UDP with control messages under the allow-list posture: allowed delivered, denied refused" {
	serve 7001
	expect echo cmsg 192.0.2.1 7001 IP_TOS
	load_filter "$CG" --deny 0.0.0.0/0 --deny ::/0 \
		--allow 127.0.0.1:7001/udp --allow '[::1]:7001/udp'
	expect echo cmsg 127.0.0.1 7001 IP_TOS , 127.0.0.1 7001 UDP_SEGMENT
	expect echo cmsg ::1 7001 IPV6_TCLASS , ::1 7001 UDP_SEGMENT , ::ffff:127.0.0.1 7001 IP_TOS
	expect refused cmsg 127.0.0.2 7001 IP_TOS , 127.0.0.1 7002 IP_TOS , ::1 7002 IPV6_TCLASS , 192.0.2.1 7001 none
}

@test "a UDP socket connected before the filter cannot reach a denied peer through sendmsg with a control message" {
	local go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/hold.out" fd pid

	serve 7001
	mkfifo "$go"
	jailed_bg "$CG" "$NS" "$go" "$out" \
		"$PYTHON" "$ORACLE_DIR/verdict_probe.py" cmsg-hold 192.0.2.1 7001 IP_TOS
	pid=$JAILED_PID
	exec {fd}>"$go"
	eventually grep -qx connected "$out" || { exec {fd}>&-; cat "$out" >&2; return 1; }
	load_filter "$CG" --deny 192.0.2.1
	echo go >&"$fd"
	exec {fd}>&-
	status=0
	wait "$pid" || status=$?
	output="$(tail -n 1 "$out")"
	# the backstop drops it (and tells the sender EPERM)
	[[ ($status -eq 2 && $output =~ ^refused\ EPERM\ at\ sendmsg) ||
		($status -eq 3 && $output =~ ^timeout) ]] ||
		{ echo "cmsg-hold: status $status, '$(cat "$out")'" >&2; return 1; }
}

@test "sendto with AF_UNSPEC, or AF_INET on an AF_INET6 socket, to a denied address: EPERM, not a bypass" {
	serve 7001
	expect echo unspec 192.0.2.1 7001 , 127.0.0.1 7001
	expect echo inet-on-inet6 192.0.2.1 7001
	load_filter "$CG" --deny 192.0.2.1 --deny 127.0.0.0/8
	expect refused unspec 192.0.2.1 7001 , 127.0.0.1 7001 , 0.0.0.0 7001
	expect refused inet-on-inet6 192.0.2.1 7001 , 127.0.0.1 7001
	expect echo unspec 192.0.2.2 7001
	expect echo inet-on-inet6 192.0.2.2 7001
}

@test "the backstop: a packet whose ports cannot be read is dropped if a deny rule's prefix contains its destination" {
	expect echo exthdr-ping 2001:db8::1 0 , 2001:db8:1::1 0
	expect echo fragment 192.0.2.1 0 , 198.51.100.1 0
	load_filter "$CG" --deny '[2001:db8::/64]:80/tcp' --allow 2001:db8::1 \
		--deny 192.0.2.0/24 --allow 192.0.2.1
	# fail closed: any deny rule, even a port rule or one a longer allow
	# overrides, since the ports (even the protocol) are unknown
	expect refused exthdr-ping 2001:db8::1 0 , 2001:db8::2 0
	expect refused fragment 192.0.2.1 0 , 192.0.2.2 0
	expect echo exthdr-ping 2001:db8:1::1 0
	expect echo fragment 198.51.100.1 0
}

@test "the backstop: 64:ff9b::a.b.c.d behind an IPv6 extension header is dropped when a deny rule covers a.b.c.d" {
	expect echo exthdr-ping 64:ff9b::192.0.2.7 0
	load_filter "$CG" --deny 192.0.2.0/24
	# without the header the backstop judges it as a.b.c.d too
	expect no-reply ping-icmp 64:ff9b::192.0.2.7
	expect refused exthdr-ping 64:ff9b::192.0.2.7 0
	expect echo exthdr-ping 64:ff9b::198.51.100.7 0
}

@test "IPv4 source routing cannot carry a connected UDP socket's datagrams to a denied first hop" {
	expect reached lsrr 198.51.100.1 7001 192.0.2.1 , 198.51.100.1 7001 203.0.113.9
	# the socket's peer is allowed: only the backstop sees the first hop
	load_filter "$CG" --deny 192.0.2.1 --deny 203.0.113.0/24:7001/udp
	expect refused lsrr 198.51.100.1 7001 192.0.2.1 , 198.51.100.1 7001 203.0.113.9
	expect reached lsrr 198.51.100.1 7001 192.0.2.2 , 198.51.100.1 7002 203.0.113.9
}

# A verdict is about one destination, not about the socket that sent it:
# after a port rule inside a denied prefix let a socket through, anything
# else the same socket sends is judged afresh, by the socket hooks and by
# the backstop (a guard for any per-socket shortcut in filter.bpf.c).
@test "a socket allowed through a port rule inside a denied prefix gets nothing more from it: its next destination is judged afresh" {
	serve 7001
	serve 7777
	# unfiltered, the same sockets reach every second destination
	expect echo again 192.0.2.1 7001 sendto 192.0.2.1 7777 , \
		192.0.2.1 7001 sendto 192.0.2.2 7001 , 192.0.2.1 7001 connect 192.0.2.1 7777 , \
		192.0.2.1 7001 hdrincl 192.0.2.1 7777 , 192.0.2.1 7001 hdrincl 192.0.2.2 7001 , \
		2001:db8::1 7001 sendto 2001:db8::1 7777
	load_filter "$CG" --deny 192.0.2.0/24 --allow 192.0.2.1:7001/udp \
		--deny 2001:db8::/64 --allow '[2001:db8::1]:7001/udp'
	expect echo again 192.0.2.1 7001 sendto 192.0.2.1 7001 , \
		192.0.2.1 7001 connect 192.0.2.1 7001 , 192.0.2.1 7001 hdrincl 192.0.2.1 7001 , \
		2001:db8::1 7001 sendto 2001:db8::1 7001
	expect refused again 192.0.2.1 7001 sendto 192.0.2.1 7777 , \
		192.0.2.1 7001 sendto 192.0.2.2 7001 , 192.0.2.1 7001 connect 192.0.2.1 7777 , \
		192.0.2.1 7001 connect 192.0.2.2 7001 , 2001:db8::1 7001 sendto 2001:db8::1 7777 , \
		2001:db8::1 7001 sendto 2001:db8::2 7001
	# the backstop alone: a raw socket's own datagrams
	expect no-reply again 192.0.2.1 7001 hdrincl 192.0.2.1 7777 , \
		192.0.2.1 7001 hdrincl 192.0.2.2 7001
}

# against_port_rules MODE OPEN CLOSED: netprobe MODE (tfo or mptcp) to a
# port a /tcp rule opens echoes; to a port only a /udp rule opens, to a port
# no rule opens and to a neighbour of the allowed address: EPERM at once.
against_port_rules() {
	local mode="$1" open="$2" closed="$3"

	serve 7777
	serve 7001
	expect echo "$mode" 192.0.2.1 "$closed" , 2001:db8::1 "$closed"
	load_filter "$CG" --deny 192.0.2.0/24 --deny 2001:db8::/64 \
		--allow 192.0.2.1:7777-7778/tcp --allow '[2001:db8::1]:7777-7778/tcp' \
		--allow 192.0.2.1:"$closed"/udp
	expect echo "$mode" 192.0.2.1 "$open" , 2001:db8::1 "$open" , ::ffff:192.0.2.1 "$open"
	# MPTCP and Fast Open are TCP: a /udp allow does not open them
	expect refused "$mode" 192.0.2.1 "$closed" , 2001:db8::1 "$closed" , \
		192.0.2.2 "$open" , 2001:db8::2 "$open"
}

@test "TCP Fast Open against port rules: a denied port gets EPERM at once, an allowed one echoes" {
	against_port_rules tfo 7777 7001
}

@test "MPTCP against port rules: a denied port gets EPERM at once, an allowed one echoes" {
	require_mptcp
	against_port_rules mptcp 7778 7002
}

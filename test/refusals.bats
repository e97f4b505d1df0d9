#!/usr/bin/env bats
# The refusal log (filter.h): every hook's refusals land in it, one entry
# per destination and hook, with the rule that decided; allowed traffic
# leaves nothing; counts add up when processes race; the LRU bound holds;
# the log outlives the loader, dies with the cgroup, and a rerun starts a
# new one. Real traffic from a cgroup made here into a namespace made here
# (test/net-helpers.bash); the log is read with refusal_log (helpers.bash).

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=net-helpers.bash
source "$BATS_TEST_DIRNAME/net-helpers.bash"

REFUSER="$TEST_BIN/refuser"
PROBE_PY="$BATS_TEST_DIRNAME/verdict_probe.py"

setup() {
	require_privileged
	[[ -n $PYTHON ]] || { cannot_run "python3 is not installed"; return; }
	[[ -x $REFUSER ]] || { cannot_run "refuser not built (make test-helpers)"; return; }
	net_setup
	new_cgroup CG
}

teardown() {
	cleanup_made
}

# The rules of the first tests: a TCP port rule, a prefix rule without
# ports, an allow with ports beaten by a longer deny, an IPv6 prefix rule
# and an IPv6 UDP port rule.
LOG_RULES=(--deny 192.0.2.0/24:7776-7779/tcp --deny 203.0.113.0/24
	--deny 198.51.100.0/24 --allow 198.51.100.0/25:7777/tcp --deny 198.51.100.1
	--deny 2001:db8:1::/48 --deny '[2001:db8::/64]:7777/udp')

# logged HOOK ADDR PROTOCOL PORT RULE KIND BLOCK RANK [UNREADABLE [COUNT]]:
# the entry refusal_log prints for these, without its two times. The
# families follow from the addresses (a ':' is IPv6); UNREADABLE defaults
# to 0 and COUNT to 1.
logged() {
	jq -cn --arg hook "$1" --arg addr "$2" --argjson protocol "$3" --argjson port "$4" \
		--arg rule "$5" --argjson kind "$6" --argjson block "$7" --argjson rank "$8" \
		--argjson unreadable "${9:-0}" --argjson count "${10:-1}" '
		def family: if test(":") then 10 else 2 end;
		{hook: $hook, family: ($addr | family), addr: $addr, protocol: $protocol,
		 port: $port, unreadable: $unreadable, count: $count,
		 rule_family: ($rule | family), rule: $rule, kind: $kind, block: $block,
		 rank: $rank, zero: [0, 0]}'
}

# log_is ID ENTRY...: the log with map id ID holds exactly the ENTRYs
# (logged's lines), and each entry's times are set and in order
# (0 < first_ns <= last_ns). Prints both sides when they differ.
log_is() {
	local id="$1" got want
	shift
	got="$(refusal_log "$id")" || return 1
	if ! jq -se 'all(.[]; .first_ns > 0 and .first_ns <= .last_ns)' <<<"$got" >/dev/null; then
		echo "times out of order in: $got" >&2
		return 1
	fi
	got="$(jq -c 'del(.first_ns, .last_ns)' <<<"$got" | sort)"
	want="$( (($# == 0)) || printf '%s\n' "$@" | sort)"
	[[ $got == "$want" ]] && return 0
	echo "refusal log $id:" >&2
	echo "${got:-(empty)}" >&2
	echo "expected:" >&2
	echo "${want:-(empty)}" >&2
	return 1
}

# backstop_refused MODE ADDR...: verdict_probe.py MODE (fragment or
# exthdr-ping, packets no socket hook judges) from CG: the egress hook
# drops each, and the sender is told EPERM.
backstop_refused() {
	local mode="$1" addr
	shift
	for addr in "$@"; do
		run_capture jailed "$CG" "$NET_NS" "$PYTHON" "$PROBE_PY" "$mode" "$addr" 0
		[[ $status -eq 2 && $output =~ ^refused\ EPERM\ at\ sendto\ in\ [0-9]+\ ms$ &&
			-z $stderr ]] ||
			{ echo "$mode $addr: status $status, '$output' '$stderr'" >&2; return 1; }
	done
}

# refuse_many CG MODE ADDR COUNT: refuser MODE from CG, all COUNT refused.
refuse_many() {
	run_capture jailed "$1" "$NET_NS" "$REFUSER" "$2" "$3" "$NET_PORT" "$4"
	[[ $status -eq 0 && $output == "refused $4" && -z $stderr ]] ||
		{ echo "refuser $2 $3 $4: status $status, '$output' '$stderr'" >&2; return 1; }
}

# gone KIND ID: bpftool no longer finds the map or program ID.
gone() { ! bpftool "$1" show id "$2" >/dev/null 2>&1; }

@test "each hook logs its refusals with the deciding rule: port and prefix rules, a longer deny, unreadable ports" {
	expect_echo "$CG" tcp 192.0.2.1 198.51.100.1 2001:db8:1::7
	expect_echo "$CG" udp-sendto 203.0.113.7 2001:db8::1
	load_filter "$CG" "${LOG_RULES[@]}"
	log_is "$REFUSAL_LOG"
	# connect4: a port rule (7776-7779 is one block of 2^2: kind TCP | 2,
	# rank 24 << 2 | RANK_PORTS | RANK_DENY), a prefix rule without ports,
	# and an allow with ports beaten by a longer deny
	expect_refused "$CG" tcp 192.0.2.1 203.0.113.7 198.51.100.1
	# connect6: a prefix rule
	expect_refused "$CG" tcp 2001:db8:1::7
	# sendmsg4 and sendmsg6: UDP sendto; a /udp rule of one port (kind UDP | 0)
	expect_refused "$CG" udp-sendto 203.0.113.7 2001:db8::1
	# egress: an ICMP echo (no socket hook judges it) ...
	expect_refused "$CG" ping-icmp 203.0.113.7
	# ... and packets whose ports cannot be read: an IPv4 later fragment and
	# ICMPv6 behind a hop-by-hop header (protocol 0): port 0, kind KIND_DENY
	# and the rank of the deny rule that contains the destination
	backstop_refused fragment 192.0.2.1
	backstop_refused exthdr-ping 2001:db8::1
	log_is "$REFUSAL_LOG" \
		"$(logged connect4 192.0.2.1 6 7777 192.0.2.1/24 $((0x22)) 7776 99)" \
		"$(logged connect4 203.0.113.7 6 7777 203.0.113.7/24 0 0 97)" \
		"$(logged connect4 198.51.100.1 6 7777 198.51.100.1/32 0 0 129)" \
		"$(logged connect6 2001:db8:1::7 6 7777 2001:db8:1::7/48 0 0 193)" \
		"$(logged sendmsg4 203.0.113.7 17 7777 203.0.113.7/24 0 0 97)" \
		"$(logged sendmsg6 2001:db8::1 17 7777 2001:db8::1/64 $((0x40)) 7777 259)" \
		"$(logged egress 203.0.113.7 1 0 203.0.113.7/24 0 0 97)" \
		"$(logged egress 192.0.2.1 17 0 192.0.2.1/24 $((0x80)) 0 99 1)" \
		"$(logged egress 2001:db8::1 0 0 2001:db8::1/64 $((0x80)) 0 259 1)"
	# a second refusal adds to its entry, and to no other
	expect_refused "$CG" tcp 192.0.2.1
	[[ $(refusal_log "$REFUSAL_LOG" |
		jq -c 'select(.hook == "connect4" and .addr == "192.0.2.1") | .count') == 2 ]]
	[[ $(refusal_log "$REFUSAL_LOG" | wc -l) -eq 9 ]]
}

@test "a ping socket's connect() is logged at connect4 and connect6 with port 0: one entry, whatever port it names" {
	load_filter "$CG" "${LOG_RULES[@]}"
	# shellcheck disable=SC2016 # Python, not shell
	run_capture jailed "$CG" "$NET_NS" "$PYTHON" -c '
import errno, socket
for family, proto, addr in ((socket.AF_INET, socket.IPPROTO_ICMP, "203.0.113.7"),
                            (socket.AF_INET6, socket.IPPROTO_ICMPV6, "2001:db8:1::7")):
    for port in (0, 1, 7777):
        s = socket.socket(family, socket.SOCK_DGRAM, proto)
        try:
            s.connect((addr, port))
            print("connected")
        except OSError as e:
            print(errno.errorcode[e.errno])'
	[[ $status -eq 0 && -z $stderr && $output == $'EPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM' ]]
	log_is "$REFUSAL_LOG" \
		"$(logged connect4 203.0.113.7 1 0 203.0.113.7/24 0 0 97 0 3)" \
		"$(logged connect6 2001:db8:1::7 58 0 2001:db8:1::7/48 0 0 193 0 3)"
}

@test "NAT64 and IPv4-mapped destinations: logged as asked, with the IPv4 rule that decided" {
	expect_echo "$CG" tcp ::ffff:192.0.2.1 ::ffff:203.0.113.7
	load_filter "$CG" "${LOG_RULES[@]}"
	# connect6 sees them as asked; the rule is the IPv4 one, addr[0] the
	# IPv4 address judged and nothing else (struct rule_key: "an IPv4
	# address fills addr[0] only"; refusal_log shows an IPv4 rule with
	# anything in addr[1..3] as hex)
	expect_refused "$CG" tcp 64:ff9b::203.0.113.7 ::ffff:192.0.2.1
	# UDP sendto to ::ffff:a.b.c.d on an AF_INET6 socket: the kernel
	# (udpv6_sendmsg) hands it to the IPv4 path before any hook, so it is
	# sendmsg4 that refuses a.b.c.d
	expect_refused "$CG" udp-sendto ::ffff:203.0.113.7
	log_is "$REFUSAL_LOG" \
		"$(logged connect6 64:ff9b::cb00:7107 6 7777 203.0.113.7/24 0 0 97)" \
		"$(logged connect6 ::ffff:192.0.2.1 6 7777 192.0.2.1/24 $((0x22)) 7776 99)" \
		"$(logged sendmsg4 203.0.113.7 17 7777 203.0.113.7/24 0 0 97)"
}

@test "allowed TCP and UDP, to allowed destinations and ports, leave no entry" {
	load_filter "$CG" --deny 192.0.2.0/24 --allow 192.0.2.1 --deny 203.0.113.0/24:1-7776 \
		--deny '[2001:db8::/32]:7000-7010/tcp' --deny 2001:db8:1::/48 \
		--allow '[2001:db8:1::/64]:7777'
	# allowed by a longer allow, by no rule at all, by a port rule whose
	# ports or protocol do not cover the packet (ICMP has no ports)
	expect_echo "$CG" tcp 192.0.2.1 203.0.113.7 198.51.100.1 2001:db8::1 2001:db8:1::7 \
		::ffff:192.0.2.1 2001:db8:ffff::1
	expect_echo "$CG" udp-sendto 192.0.2.1 203.0.113.7 198.51.100.1 2001:db8::1 2001:db8:1::7
	expect_echo "$CG" udp-connect 192.0.2.1 2001:db8:1::7 ::ffff:203.0.113.7
	expect_echo "$CG" tfo 192.0.2.1 2001:db8::1
	expect_echo "$CG" ping-icmp 203.0.113.7 2001:db8::1
	log_is "$REFUSAL_LOG"
	# ... while refused ones, to the neighbours, are logged (UDP to
	# ::ffff:a.b.c.d: at sendmsg4, see above)
	expect_refused "$CG" udp-sendto 192.0.2.7 ::ffff:192.0.2.7
	expect_refused "$CG" tcp 2001:db8:1:1::7
	log_is "$REFUSAL_LOG" \
		"$(logged sendmsg4 192.0.2.7 17 7777 192.0.2.7/24 0 0 97 0 2)" \
		"$(logged connect6 2001:db8:1:1::7 6 7777 2001:db8:1:1::7/48 0 0 193)"
}

# all_say TEXT FILE...: each FILE has a line TEXT.
all_say() {
	local text="$1" file
	shift
	for file in "$@"; do
		grep -qx "$text" "$file" || return 1
	done
}

@test "counts add up when eight processes refused the same destination race" {
	local go="$BATS_TEST_TMPDIR/go" procs=8 n=5000 i fd rc outs=() pids=()

	load_filter "$CG" --deny 192.0.2.0/24
	mkfifo "$go"
	for ((i = 0; i < procs; i++)); do
		outs+=("$BATS_TEST_TMPDIR/flood-$i")
		jailed_bg "$CG" "$NET_NS" "$go" "${outs[i]}" "$REFUSER" tcp 192.0.2.1 "$NET_PORT" "$n" gated
		pids+=("$JAILED_PID")
	done
	exec {fd}>"$go"
	# all of them have the fifo open and wait for its end: end it
	eventually all_say waiting "${outs[@]}" || { exec {fd}>&-; cat "${outs[@]}" >&2; return 1; }
	exec {fd}>&-
	for ((i = 0; i < procs; i++)); do
		rc=0
		wait "${pids[i]}" || rc=$?
		[[ $rc -eq 0 && $(<"${outs[i]}") == $'waiting\nrefused '"$n" ]] ||
			{ echo "refuser $i: status $rc, '$(<"${outs[i]}")'" >&2; return 1; }
	done
	# one entry, every refusal counted once (log_is: first_ns <= last_ns)
	log_is "$REFUSAL_LOG" \
		"$(logged connect4 192.0.2.1 6 7777 192.0.2.1/24 0 0 97 0 $((procs * n)))"
}

@test "the LRU bound holds when ten times REFUSALS_MAX destinations are refused" {
	local max=4096 entries newest first=10.0.0.1

	load_filter "$CG" --deny 10.0.0.0/8
	# 40960 addresses: 10.0.0.1 up to 10.0.160.0, the newest
	refuse_many "$CG" udp-sweep "$first" $((10 * max))
	newest=10.0.160.0
	refusal_log "$REFUSAL_LOG" >"$BATS_TEST_TMPDIR/log"
	entries=$(wc -l <"$BATS_TEST_TMPDIR/log")
	echo "# $entries entries" >&3
	((entries >= 1 && entries <= max))
	# the most recently refused destination is in it, an early one is not
	jq -c 'del(.first_ns, .last_ns) | select(.addr == "'"$newest"'")' "$BATS_TEST_TMPDIR/log" |
		grep -qxF "$(logged sendmsg4 "$newest" 17 7777 "$newest/8" 0 0 33)"
	[[ $(grep -cF "\"addr\":\"$first\"" "$BATS_TEST_TMPDIR/log") -eq 0 ]]
	# every entry is one refusal of one destination of the sweep
	[[ $(jq -c 'select(.count != 1 or .hook != "sendmsg4" or (.addr | startswith("10.0.") | not))' \
		"$BATS_TEST_TMPDIR/log") == "" ]]
}

@test "the log outlives the loader: refusals after its exit are readable; it is freed with the cgroup" {
	load_filter "$CG" --deny 192.0.2.0/24 --deny 2001:db8::/32
	# run_loader waited for the loader: it has exited, the log is empty
	log_is "$REFUSAL_LOG"
	expect_refused "$CG" tcp 192.0.2.1
	expect_refused "$CG" udp-sendto 2001:db8::1
	log_is "$REFUSAL_LOG" \
		"$(logged connect4 192.0.2.1 6 7777 192.0.2.1/24 0 0 97)" \
		"$(logged sendmsg6 2001:db8::1 17 7777 2001:db8::1/32 0 0 129)"
	# the probes have exited: the cgroup is empty and can go, the log with it
	[[ ! -s $CG/cgroup.procs ]]
	rmdir "$CG"
	eventually gone map "$REFUSAL_LOG"
	run_capture bpftool map show id "$REFUSAL_LOG"
	[[ $status -ne 0 && $stderr == "Error: get map by id ($REFUSAL_LOG): No such file or directory" ]]
}

@test "a rerun starts a new, empty log; the previous one is freed once its programs are detached" {
	local old old_programs id

	load_filter "$CG" --deny 192.0.2.0/24
	old=$REFUSAL_LOG
	old_programs=("${PROGRAM_IDS[@]}")
	expect_refused "$CG" tcp 192.0.2.1
	# the previous log can be read until the rerun replaces its programs
	log_is "$old" "$(logged connect4 192.0.2.1 6 7777 192.0.2.1/24 0 0 97)"
	load_filter "$CG" --deny 192.0.2.0/24 --deny 2001:db8::/32
	[[ $REFUSAL_LOG != "$old" ]]
	[[ $(in_force "$CG") == "$PROGRAM_IDS_JSON" ]]
	log_is "$REFUSAL_LOG"
	expect_refused "$CG" tcp 192.0.2.1 2001:db8::1
	log_is "$REFUSAL_LOG" \
		"$(logged connect4 192.0.2.1 6 7777 192.0.2.1/24 0 0 97)" \
		"$(logged connect6 2001:db8::1 6 7777 2001:db8::1/32 0 0 129)"
	# then the kernel frees the old programs, and the old log with them
	for id in "${old_programs[@]}"; do
		eventually gone prog "$id"
	done
	eventually gone map "$old"
	run_capture bpftool map show id "$old"
	[[ $status -ne 0 && $stderr == "Error: get map by id ($old): No such file or directory" ]]
}

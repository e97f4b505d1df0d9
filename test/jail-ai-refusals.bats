#!/usr/bin/env bats
# scripts/jail-ai-refusals, the refusal log's reader, against real filters
# and real refusals: it finds the log of the filter in force on a cgroup,
# shows each refused destination with its hook and deciding rule in the
# loader's own rule syntax, matches the kernel's entries one for one, follows
# the log, and refuses clearly what it cannot do. (test/refusals.bats tests
# the log itself, in the kernel.)

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=net-helpers.bash
source "$BATS_TEST_DIRNAME/net-helpers.bash"

READER="$PROJECT_ROOT/scripts/jail-ai-refusals"
HEADER_RE='^DESTINATION +PORT/PROTO +HOOK +RULE +COUNT +FIRST SEEN +LAST SEEN$'
USAGE="(usage: jail-ai-refusals --cgroup PATH [--json] [--follow])"

setup() {
	require_privileged
	net_setup
	new_cgroup CG
}

teardown() {
	cleanup_made
}

# refuse CG MODE ADDR PORT [TIMES]: TIMES (1) netprobe runs from CG, each
# refused with EPERM.
refuse() {
	local i
	for ((i = 0; i < ${5:-1}; i++)); do
		run jailed "$1" "$NET_NS" "$NETPROBE" "$2" "$3" "$4"
		[[ $status -eq 2 && $output =~ ^refused\ EPERM ]] || _probe_failed "$2" "$3" "$1" "refused EPERM"
	done
}

# row JSON-LINE: the fields a person reads, tab-separated: destination,
# port/protocol as the table shows it, hook, rule, count.
row() {
	jq -r '[.destination, (if .port then "\(.port)/\(.protocol)" else .protocol end),
		.hook, .rule, .count] | @tsv' <<<"$1"
}

@test "allowed traffic leaves the log empty: a header and no row, no JSON line, exit 0" {
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	expect_echo "$CG" tcp "${ALLOWED_V4[@]}" "${ALLOWED_V6[@]}" "${ALLOWED_MAPPED[@]}"
	expect_echo "$CG" udp-sendto "${ALLOWED_V4[@]}" "${ALLOWED_V6[@]}"
	run_capture "$READER" --cgroup "$CG"
	[[ $status -eq 0 && -z $stderr && ${#lines[@]} -eq 1 && ${lines[0]} =~ $HEADER_RE ]]
	run_capture "$READER" --cgroup "$CG" --json
	[[ $status -eq 0 && -z $stderr && -z $output ]]
	[[ $(bpftool -j map dump id "$REFUSAL_LOG") == "[]" ]]
}

@test "a refused connect() shows up with its destination, port, hook and deciding rule, the table newest first" {
	local before after
	load_filter "$CG" --deny 192.0.2.0/24 --allow 192.0.2.0/24:7777/tcp --deny 192.0.2.1 \
		--deny 198.51.100.0/24:8000-8099/tcp --deny '[2001:db8:ffff::/64]:53' \
		--deny 2001:db8::/32
	before=$(date +%s)
	refuse "$CG" tcp 192.0.2.1 7777 3             # an allow beaten by a longer deny
	refuse "$CG" tcp 198.51.100.1 8050            # a range of ports, TCP only
	refuse "$CG" udp-sendto 2001:db8:ffff::1 53   # a port rule for TCP and UDP
	refuse "$CG" tcp ::ffff:192.0.2.1 80          # IPv4-mapped, judged as IPv4
	refuse "$CG" udp-sendto 2001:db8:1::7 7777    # a prefix rule without ports
	after=$(date +%s)
	run_capture "$READER" --cgroup "$CG" --json
	[[ $status -eq 0 && -z $stderr && ${#lines[@]} -eq 5 ]]
	# newest first
	[[ $(row "${lines[0]}") == $'2001:db8:1::7\t7777/udp\tsendmsg6\tdeny 2001:db8::/32\t1' ]]
	[[ $(row "${lines[1]}") == $'::ffff:192.0.2.1\t80/tcp\tconnect6\tdeny 192.0.2.1/32\t1' ]]
	[[ $(row "${lines[2]}") == $'2001:db8:ffff::1\t53/udp\tsendmsg6\tdeny [2001:db8:ffff::/64]:53\t1' ]]
	[[ $(row "${lines[3]}") == $'198.51.100.1\t8050/tcp\tconnect4\tdeny 198.51.100.0/24:8000-8099/tcp\t1' ]]
	[[ $(row "${lines[4]}") == $'192.0.2.1\t7777/tcp\tconnect4\tdeny 192.0.2.1/32\t3' ]]
	# the rule's parts, and wall-clock times within the refusals' seconds
	jq -e '.rule_prefix == "198.51.100.0/24" and .rule_ports == "8000-8099" and
		.rule_protocol == "tcp" and .rule_action == "deny" and .ports_unreadable == false' <<<"${lines[3]}"
	jq -e '.rule_ports == "53" and .rule_protocol == null' <<<"${lines[2]}"
	jq -se --argjson lo "$before" --argjson hi "$((after + 1))" 'all(.[];
		(.first_seen | sub("\\.[0-9]+"; "") | strptime("%Y-%m-%dT%H:%M:%S%z") | mktime) as $f |
		(.last_seen | sub("\\.[0-9]+"; "") | strptime("%Y-%m-%dT%H:%M:%S%z") | mktime) as $l |
		$lo <= $f and $f <= $l and $l <= $hi and .first_ns <= .last_ns)' "$RUN_STDOUT"
	# the table: a header, then the same rows in the same order, columns
	# apart by two spaces or more (a cell holds no two in a row)
	local json_rows=("${lines[@]}") i cells
	run_capture "$READER" --cgroup "$CG"
	[[ $status -eq 0 && -z $stderr && ${#lines[@]} -eq 6 && ${lines[0]} =~ $HEADER_RE ]]
	for i in 0 1 2 3 4; do
		cells=$(jq -r '[.destination, (if .port then "\(.port)/\(.protocol)" else .protocol end),
			.hook, .rule, (.count | tostring),
			(.first_seen, .last_seen | sub("\\.[0-9]+.*"; "") | sub("T"; " "))] | @tsv' \
			<<<"${json_rows[i]}")
		[[ $(sed -E 's/  +/\t/g' <<<"${lines[i + 1]}") == "$cells" ]] ||
			{ echo "row $i: '${lines[i + 1]}', expected '$cells'" >&2; return 1; }
	done
}

@test "the JSON lines match the kernel's entries one for one: hook, protocol, port, count and times" {
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	refuse "$CG" tcp 192.0.2.1 7777 2
	refuse "$CG" udp-sendto 203.0.113.7 53
	refuse "$CG" tcp 2001:db8:1::7 443
	refuse "$CG" udp-sendto 2001:db8::1 7777 4
	run_capture "$READER" --cgroup "$CG" --json
	[[ $status -eq 0 && -z $stderr && ${#lines[@]} -eq 4 ]]
	local kernel reader
	kernel=$(bpftool -j map dump id "$REFUSAL_LOG" | jq -c '[.[].formatted |
		{hook: ({"1": "connect4", "2": "sendmsg4", "3": "connect6", "4": "sendmsg6",
		 "5": "egress"}[.key.hook | tostring]),
		 protocol: ({"6": "tcp", "17": "udp"}[.key.protocol | tostring]),
		 family: (if .key.family == 2 then "ipv4" else "ipv6" end), port: .key.port,
		 count: .value.count, first_ns: .value.first_ns, last_ns: .value.last_ns}] | sort')
	reader=$(jq -sc '[.[] | {hook, protocol, family, port, count, first_ns, last_ns}] | sort' \
		"$RUN_STDOUT")
	[[ $kernel == "$reader" ]] || { echo "kernel: $kernel" >&2; echo "reader: $reader" >&2; return 1; }
	# and every line names this filter's log
	jq -se --argjson log "$REFUSAL_LOG" 'all(.[]; .log == $log)' "$RUN_STDOUT"
	jq -se '[.[] | [.destination, .count]] | sort ==
		[["192.0.2.1", 2], ["2001:db8:1::7", 1], ["2001:db8::1", 4], ["203.0.113.7", 1]]' "$RUN_STDOUT"
}

@test "rules as they decided: unreadable ports name the deny rules' ports, an extension header its protocol, a NAT64 prefix is dotted" {
	local probe="$BATS_TEST_DIRNAME/verdict_probe.py"
	load_filter "$CG" --deny 192.0.2.1:7000-7999/tcp --deny 192.0.2.1:53/udp \
		--deny 2001:db8::/32 --deny 64:ff9b::203.0.113.0/120
	# the backstop: an IPv4 later fragment and ICMPv6 behind a hop-by-hop header
	run_capture jailed "$CG" "$NET_NS" "$PYTHON" "$probe" fragment 192.0.2.1 0
	[[ $status -eq 2 ]]
	run_capture jailed "$CG" "$NET_NS" "$PYTHON" "$probe" exthdr-ping 2001:db8::1 0
	[[ $status -eq 2 ]]
	refuse "$CG" tcp 64:ff9b::203.0.113.7 443
	run_capture "$READER" --cgroup "$CG" --json
	[[ $status -eq 0 && -z $stderr && ${#lines[@]} -eq 3 ]]
	jq -se '
		any(.[]; .destination == "192.0.2.1" and .protocol == "udp" and .port == null and
			.hook == "egress" and .ports_unreadable and .rule_prefix == "192.0.2.1/32" and
			.rule == "deny 192.0.2.1/32:7000-7999/tcp 192.0.2.1/32:53/udp (ports unreadable)") and
		any(.[]; .destination == "2001:db8::1" and .protocol == "hopopt" and .hook == "egress" and
			.rule == "deny 2001:db8::/32 (ports unreadable)") and
		any(.[]; .destination == "64:ff9b::203.0.113.7" and .hook == "connect6" and
			.rule == "deny 64:ff9b::203.0.113.0/120")' "$RUN_STDOUT"
	run_capture "$READER" --cgroup "$CG"
	[[ $status -eq 0 && $output == *$'\n192.0.2.1 '*' ?/udp '*' egress '* ]]
	[[ $output == *' ?/hopopt '* ]]
}

@test "reruns of the loader while it reads: --follow goes on and one-shot reads succeed" {
	local out="$BATS_TEST_TMPDIR/follow.out" err="$BATS_TEST_TMPDIR/follow.err" pid reruns
	local reads=0 rc=0
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	"$READER" --cgroup "$CG" --json --follow >"$out" 2>"$err" 3>&- &
	pid=$!
	remember_pid "$pid"
	# 40 reruns back to back, and one-shot reads for as long as they last
	(for ((i = 0; i < 40; i++)); do
		"$LOADER" --cgroup "$CG" "${NET_DENY_ARGS[@]}" >/dev/null || exit 1
	done) 3>&- &
	reruns=$!
	remember_pid "$reruns"
	while kill -0 "$reruns" 2>/dev/null; do
		run_capture "$READER" --cgroup "$CG" --json
		[[ $status -eq 0 && -z $stderr ]] || { echo "read $reads: $status $stderr" >&2; return 1; }
		reads=$((reads + 1))
	done
	wait "$reruns"
	echo "# $reads reads during the reruns" >&3
	((reads > 0))
	refuse "$CG" tcp 192.0.2.1 7777
	eventually grep -q '"destination": "192.0.2.1"' "$out"
	kill -0 "$pid"
	# its stderr: only the notes that it moved to a new log
	[[ -s $err ]] && ! grep -v '^jail-ai-refusals: now reading refusal log [0-9]* (the filter was replaced)$' "$err"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[[ $rc -eq 0 ]]
}

@test "a filter in force through an ancestor: the reader on a child cgroup reads the parent's log" {
	local child
	new_cgroup child child
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	refuse "$child" tcp 203.0.113.7 22
	run_capture "$READER" --cgroup "$child" --json
	[[ $status -eq 0 && -z $stderr && ${#lines[@]} -eq 1 ]]
	[[ $(row "${lines[0]}") == $'203.0.113.7\t22/tcp\tconnect4\tdeny 203.0.113.0/24\t1' ]]
	jq -e --argjson log "$REFUSAL_LOG" '.log == $log' <<<"${lines[0]}"
}

@test "--follow prints new and changed entries, follows a rerun of the loader to its new log, and ends with 0 on SIGTERM" {
	local out="$BATS_TEST_TMPDIR/follow.out" err="$BATS_TEST_TMPDIR/follow.err" old rc=0
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	old=$REFUSAL_LOG
	refuse "$CG" tcp 192.0.2.1 7777
	"$READER" --cgroup "$CG" --json --follow >"$out" 2>"$err" 3>&- &
	remember_pid $!
	eventually grep -q '"count": 1' "$out"
	refuse "$CG" tcp 192.0.2.1 7777         # changed: count 2
	refuse "$CG" udp-sendto 203.0.113.7 53  # new
	eventually grep -q '"destination": "203.0.113.7"' "$out"
	eventually grep -q '"destination": "192.0.2.1".*"count": 2' "$out"
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	[[ $REFUSAL_LOG != "$old" ]]
	eventually grep -qx "jail-ai-refusals: now reading refusal log $REFUSAL_LOG (the filter was replaced)" "$err"
	refuse "$CG" tcp 2001:db8::1 443
	eventually grep -q "\"log\": $REFUSAL_LOG, \"destination\": \"2001:db8::1\"" "$out"
	kill -TERM "${_started_pids[-1]}"
	wait "${_started_pids[-1]}" || rc=$?
	[[ $rc -eq 0 ]]
	[[ $(wc -l <"$out") -eq 4 && $(wc -l <"$err") -eq 1 ]]
	# each line once: the first entry, its change, the new one, the new log's
	jq -se '[.[] | [.destination, .count]] == [["192.0.2.1", 1], ["192.0.2.1", 2],
		["203.0.113.7", 1], ["2001:db8::1", 1]]' "$out"
}

@test "refused: no filter of ours on the cgroup (1), not a cgroup v2 directory or no such directory (66)" {
	run_capture "$READER" --cgroup "$CG"
	assert_refused 1 "jail-ai-refusals: --cgroup $CG: no filter of jail-ai-ebpf-loader is in force there" -
	run_capture "$READER" --cgroup "$CG/missing"
	assert_refused 66 "jail-ai-refusals: --cgroup $CG/missing: no such directory" -
	run_capture "$READER" --cgroup "$BATS_TEST_TMPDIR"
	assert_refused 66 "jail-ai-refusals: --cgroup $BATS_TEST_TMPDIR: not a cgroup v2 directory" -
	run_capture "$READER" --cgroup "$CG/cgroup.procs"
	assert_refused 66 "jail-ai-refusals: --cgroup $CG/cgroup.procs: not a directory" -
}

@test "refused: not root (77), before anything is read" {
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	run_capture setpriv --reuid=65534 --regid=65534 --clear-groups "$PYTHON" "$READER" --cgroup "$CG"
	assert_refused 77 "jail-ai-refusals: needs root (reading a kernel map needs CAP_SYS_ADMIN): sudo jail-ai-refusals --cgroup PATH" -
}

@test "refused: bpftool missing (69)" {
	local bin="$BATS_TEST_TMPDIR/bin"
	mkdir "$bin"
	ln -s "$PYTHON" "$bin/python3"
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	run_capture env PATH="$bin" "$READER" --cgroup "$CG"
	assert_refused 69 "jail-ai-refusals: bpftool is not installed (Debian: apt install bpftool)" -
}

@test "refused: usage errors (64), each on one line naming the argument" {
	run_capture "$READER"
	assert_refused 64 "jail-ai-refusals: --cgroup: required $USAGE" -
	run_capture "$READER" --cgroup
	assert_refused 64 "jail-ai-refusals: --cgroup: missing value $USAGE" -
	run_capture "$READER" --cgroup "$CG" --cgroup "$CG"
	assert_refused 64 "jail-ai-refusals: --cgroup: given more than once $USAGE" -
	run_capture "$READER" --cgroup "$CG" --tail
	assert_refused 64 "jail-ai-refusals: --tail: unknown option $USAGE" -
	run_capture "$READER" "$CG"
	assert_refused 64 "jail-ai-refusals: $CG: unexpected argument $USAGE" -
	run_capture "$READER" --cgroup "$CG" --help
	assert_refused 64 "jail-ai-refusals: --help: must stand alone $USAGE" -
	run_capture "$READER" --help
	[[ $status -eq 0 && -z $stderr && ${lines[0]} == "Show what jail-ai-ebpf-loader's filter refused on a cgroup: its refusal log." ]]
}

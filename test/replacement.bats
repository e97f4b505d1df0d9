#!/usr/bin/env bats
# In-place replacement (DESIGN.md §4 step 6): a rerun on a cgroup replaces
# each of our programs with the new one with BPF_F_REPLACE (the sockops one
# goes beside the old until the run settles), so there is never a moment
# without a filter, one program of ours per hook once the runs are done, the
# last run's list is the one in force, and programs of others stay as they
# were.
#
# Traffic is real: UDP datagrams from a process in the test cgroup, inside a
# network namespace made here, to documentation addresses on its lo, counted
# by sinks that run in the namespace but outside the filtered cgroup.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

PORT=9000
ONE_EACH='{"cgroup_inet4_connect":1,"cgroup_inet6_connect":1,"cgroup_inet_egress":1,"cgroup_sock_ops":1,"cgroup_udp4_sendmsg":1,"cgroup_udp6_sendmsg":1}'

setup() {
	require_privileged
	command -v jq >/dev/null || cannot_run "needs jq"
	[[ -x $TEST_BIN/udpflood && -x $TEST_BIN/udpsink && -x $TEST_BIN/fillhook ]] ||
		cannot_run "test helpers not built (make test-helpers)"
	unset SUDO_UID # a developer's "sudo make check" sets it
}

teardown() {
	[[ -z ${PAUSED:-} ]] || kill -CONT "$PAUSED" 2>/dev/null
	cleanup_made
}

# All programs attached directly to cgroup $1, in kernel order per hook.
attached() {
	bpftool -j cgroup show "$1" | jq -cs 'add // [] | map({id, attach_type, attach_flags, name})'
}

# How many of ours each hook of cgroup $1 carries.
ours_per_hook() {
	bpftool -j cgroup show "$1" | jq -cSs 'add // [] |
		map(select(.name | startswith("jailai_")) | .attach_type) |
		group_by(.) | map({(.[0]): length}) | add // {}'
}

# The single filter of ours on cgroup $1 is exactly the programs $2 (JSON).
assert_in_force() {
	local per_hook now
	per_hook="$(ours_per_hook "$1")"
	[[ "$per_hook" == "$ONE_EACH" ]] ||
		{ echo "ours per hook: $per_hook"; attached "$1"; return 1; }
	now="$(in_force "$1")"
	[[ "$now" == "$2" ]] || { echo "in force: $now, expected $2"; return 1; }
}

# net_up ADDR...: the test's namespace ($ns) with ADDR... on its lo.
net_up() {
	local addr
	made ns make_netns
	for addr in "$@"; do
		if [[ $addr == *:* ]]; then
			ip -n "$ns" addr add "$addr/128" dev lo nodad
		else
			ip -n "$ns" addr add "$addr/32" dev lo
		fi
	done
}

# in_bg CG NAME CMD...: CMD jailed in cgroup CG (or "-": outside every
# filtered cgroup) and the namespace $ns, in the background, output to file
# NAME; its PID in file NAME.pid (for stop).
in_bg() {
	local cg="$1" out="$BATS_TEST_TMPDIR/$2"
	shift 2
	jailed_bg "$cg" "$ns" /dev/null "$out" "$@"
	echo "$JAILED_PID" >"$out.pid"
}

# start_sink NAME ADDR: count datagrams to ADDR:PORT in $ns, outside any
# filtered cgroup.
start_sink() {
	local out="$BATS_TEST_TMPDIR/sink-$1"
	in_bg - "sink-$1" "$TEST_BIN/udpsink" "$2" "$PORT"
	eventually grep -qsx ready "$out" || { cat "$out"; return 1; }
}

# stop NAME: end background process NAME (SIGTERM), wait for it (so not in
# a $(...) subshell, where it is no child), and set $result to its last line.
# A process that ended by itself stopped counting too early: a failure.
stop() {
	local out="$BATS_TEST_TMPDIR/$1" pid
	pid="$(<"$out.pid")"
	kill -TERM "$pid" 2>/dev/null ||
		{ echo "$1 ended before it was stopped: $(tail -n 1 "$out")"; return 1; }
	wait "$pid" || true
	result="$(tail -n 1 "$out")"
}

# send CG ADDR: one datagram from CG to ADDR:PORT; 0 sent, 77 EPERM.
send() {
	run_capture jailed "$1" "$ns" "$TEST_BIN/udpflood" send "$2" "$PORT"
}

refused() {
	send "$1" "$2"
	[[ $status -eq 77 && "$stderr" == "sendto: Operation not permitted" ]] ||
		{ echo "to $2: exit $status: $stderr (expected EPERM)"; return 1; }
}

delivered() {
	send "$1" "$2"
	[[ $status -eq 0 ]] || { echo "to $2: exit $status: $stderr (expected sent)"; return 1; }
}

not_loaded() {
	! bpftool prog show id "$1" >/dev/null 2>&1
}

@test "after 100 reruns every hook carries exactly one of ours: the last run's" {
	local cg i first id
	made cg make_cgroup
	for ((i = 1; i <= 100; i++)); do
		load_filter "$cg" --deny "192.0.2.$i" --deny "2001:db8::$i" || {
			echo "run $i failed"
			return 1
		}
		[[ $i -gt 1 ]] || first="$PROGRAM_IDS_JSON"
	done
	assert_in_force "$cg" "$PROGRAM_IDS_JSON"
	[[ "$(attached "$cg" | jq length)" -eq 6 ]]
	# What was replaced is released, not left loaded somewhere.
	for id in $(jq '.[]' <<<"$first"); do
		eventually not_loaded "$id"
	done
}

@test "the last run's list is in force: a dropped address opens, an added one closes" {
	local cg name result
	made cg make_cgroup
	net_up 192.0.2.1 192.0.2.2 2001:db8::1 2001:db8::2
	start_sink a4 192.0.2.1
	start_sink b4 192.0.2.2
	start_sink a6 2001:db8::1
	start_sink b6 2001:db8::2

	load_filter "$cg" --deny 192.0.2.1 --deny 2001:db8::1
	refused "$cg" 192.0.2.1
	refused "$cg" 2001:db8::1
	delivered "$cg" 192.0.2.2
	delivered "$cg" 2001:db8::2

	load_filter "$cg" --deny 192.0.2.2 --deny 2001:db8::2
	assert_in_force "$cg" "$PROGRAM_IDS_JSON"
	delivered "$cg" 192.0.2.1
	delivered "$cg" 2001:db8::1
	refused "$cg" 192.0.2.2
	refused "$cg" 2001:db8::2

	for name in a4 b4 a6 b6; do
		stop "sink-$name"
		[[ "$result" == "received 1" ]] || { echo "sink $name: $result"; return 1; }
	done
}

# flood_through_replacements MODE DENIED ALLOWED: a jailed udpflood in MODE
# to DENIED while the filter is replaced 200 times, a control datagram to
# ALLOWED halfway; no datagram may reach DENIED, the control must arrive.
flood_through_replacements() {
	local mode="$1" denied="$2" allowed="$3" cg i result
	local deny=(--deny 192.0.2.66 --deny 2001:db8::66)
	made cg make_cgroup
	net_up 192.0.2.66 198.51.100.7 2001:db8::66 2001:db8::7
	start_sink denied "$denied"
	start_sink allowed "$allowed"

	if [[ $mode == cflood ]]; then
		# Connected before there is any filter: only egress can stop it.
		in_bg "$cg" flood "$TEST_BIN/udpflood" cflood "$denied" "$PORT"
		eventually grep -qsx connected "$BATS_TEST_TMPDIR/flood"
		load_filter "$cg" "${deny[@]}"
		kill -USR1 "$(<"$BATS_TEST_TMPDIR/flood.pid")"
	else
		load_filter "$cg" "${deny[@]}"
		in_bg "$cg" flood "$TEST_BIN/udpflood" flood "$denied" "$PORT"
	fi
	eventually grep -qsx ready "$BATS_TEST_TMPDIR/flood" ||
		{ cat "$BATS_TEST_TMPDIR/flood"; return 1; }

	for ((i = 1; i <= 200; i++)); do
		load_filter "$cg" "${deny[@]}" --deny "203.0.113.$((i % 250 + 1))" ||
			{ echo "replacement $i failed"; return 1; }
		[[ $i -ne 100 ]] || delivered "$cg" "$allowed"
	done
	assert_in_force "$cg" "$PROGRAM_IDS_JSON"

	stop flood
	if [[ ! "$result" =~ ^sent\ 0\ eperm\ ([0-9]+)\ other\ 0$ ]] || ((BASH_REMATCH[1] == 0)); then
		echo "flood: $result"
		return 1
	fi
	stop sink-denied
	[[ "$result" == "received 0" ]] || { echo "denied sink: $result"; return 1; }
	stop sink-allowed
	[[ "$result" == "received 1" ]] || { echo "allowed sink: $result"; return 1; }
}

@test "200 replacements under a sendto flood to a denied address deliver nothing" {
	flood_through_replacements flood 192.0.2.66 198.51.100.7
}

@test "200 replacements under a flood on a socket connected before the filter deliver nothing" {
	flood_through_replacements cflood 2001:db8::66 2001:db8::7
}

# has_open PID FILE: process PID holds a descriptor to FILE.
has_open() {
	local fd
	for fd in "/proc/$1/fd/"*; do
		[[ $fd -ef $2 ]] && return 0
	done
	return 1
}

# race CG ROUND: two loaders released at the same moment on CG, with
# different lists; both must succeed and one whole filter must be in force.
race() {
	local cg="$1" round="$2" fifo="$BATS_TEST_TMPDIR/go" fd a b status_a status_b now a_ids b_ids
	local out="$BATS_TEST_TMPDIR/race"
	rm -f "$fifo"
	mkfifo "$fifo"
	exec {fd}<>"$fifo" # held open: neither side of the fifo blocks on open
	(read -r _ <"$fifo" && exec "$LOADER" --cgroup "$cg" --deny "192.0.2.$round") \
		>"$out-a" 2>"$out-a.err" 3>&- &
	a=$!
	(read -r _ <"$fifo" && exec "$LOADER" --cgroup "$cg" --deny "198.51.100.$round" \
		--deny "2001:db8::$round") >"$out-b" 2>"$out-b.err" 3>&- &
	b=$!
	# both waiting at the fifo, so that one write releases them together
	eventually has_open "$a" "$fifo"
	eventually has_open "$b" "$fifo"
	printf 'go\ngo\n' >&"$fd"
	status_a=0 status_b=0
	wait "$a" || status_a=$?
	wait "$b" || status_b=$?
	exec {fd}>&-
	[[ $status_a -eq 0 && $status_b -eq 0 ]] || {
		echo "round $round: exits $status_a and $status_b: $(cat "$out-a.err" "$out-b.err")"
		return 1
	}
	is_reply "$out-a" "$cg" 1 0 || return 1
	a_ids="$PROGRAM_IDS_JSON"
	is_reply "$out-b" "$cg" 1 1 || return 1
	b_ids="$PROGRAM_IDS_JSON"
	now="$(in_force "$cg")"
	if [[ "$(ours_per_hook "$cg")" != "$ONE_EACH" ]] ||
		[[ "$now" != "$a_ids" && "$now" != "$b_ids" ]]; then
		echo "round $round: in force $now; a $(cat "$out-a") b $(cat "$out-b")"
		attached "$cg"
		return 1
	fi
}

@test "two loaders started at once on one cgroup converge on one filter, both succeed" {
	local cg fresh round
	made cg make_cgroup
	for ((round = 1; round <= 20; round++)); do
		race "$cg" "$round"
	done
	# And from nothing: both attach afresh, the first time.
	for ((round = 1; round <= 10; round++)); do
		made fresh make_cgroup "fresh$round"
		race "$fresh" "$round"
	done
}

# Known core bug (report of 2026-11-28, fix proposed there): attach_all()
# swaps each hook for whatever of ours it finds there, so a run resumed after
# a whole later run swaps that run's programs out on the remaining hooks and
# leaves a mix of both lists, neither run's reply true. The two tests below
# show it deterministically; the random race above shows it now and then.
#
# overtaken AFTER: a run on a cgroup that carries our filter is paused
# (strace stops it with SIGSTOP when one of its bpf() calls returns) right
# after the bpf() call AFTER (a grep pattern, counted to the second match)
# while a whole second run completes; then SIGCONT resumes it. Both must
# succeed, and one whole filter must be in force: one run's six programs,
# not a mix. The run stays paused until the test resumes it, however long
# the second run takes on a loaded machine: no timing is involved.
overtaken() {
	local after="$1" cg n before a status_a a_ids other_ids now trace="$BATS_TEST_TMPDIR/trace"
	command -v strace >/dev/null || { cannot_run "needs strace"; return; }
	made cg make_cgroup
	load_filter "$cg" --deny 192.0.2.9
	# Where this run's second match of AFTER falls among its bpf() calls;
	# the next run, on a cgroup in the same state, makes the same calls.
	strace -o "$trace" -e trace=bpf "$LOADER" --cgroup "$cg" --deny 192.0.2.9 >/dev/null
	n="$(grep -n -- "$after" "$trace" | sed -n 2p | cut -d: -f1)"
	[[ -n "$n" ]] || { echo "no second $after in:"; cat "$trace"; return 1; }
	before="$(in_force "$cg")"

	strace -o "$trace.a" -e trace=bpf -e inject="bpf:signal=SIGSTOP:when=$n" \
		"$LOADER" --cgroup "$cg" --deny 192.0.2.1 \
		>"$BATS_TEST_TMPDIR/a" 2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
	a=$!
	remember_pid "$a"
	eventually stopped_below "$a" "$trace.a" ||
		{ echo "the run under strace never stopped:"; cat "$trace.a"; return 1; }
	# Paused where the first hook no longer carries the previous program.
	first_replaced "$cg" "$before"
	load_filter "$cg" --deny 198.51.100.1
	kill -CONT "$PAUSED"
	PAUSED=
	status_a=0
	wait "$a" || status_a=$?
	[[ $status_a -eq 0 && ! -s "$BATS_TEST_TMPDIR/a.err" ]] ||
		{ echo "overtaken run: exit $status_a: $(cat "$BATS_TEST_TMPDIR/a.err")"; return 1; }
	other_ids="$PROGRAM_IDS_JSON"
	is_reply "$BATS_TEST_TMPDIR/a" "$cg" 1 0
	a_ids="$PROGRAM_IDS_JSON"
	now="$(in_force "$cg")"
	if [[ "$(ours_per_hook "$cg")" != "$ONE_EACH" ]] ||
		[[ "$now" != "$a_ids" && "$now" != "$other_ids" ]]; then
		echo "in force $now; overtaken run $a_ids, other run $other_ids"
		return 1
	fi
}

# stopped_below PID TRACE: the child of PID (the loader under strace, whose
# log is TRACE) is in a group-stop, where it stays until SIGCONT; PAUSED is
# its PID, resumed in teardown if the test ends first. (Its process state
# cannot tell: every traced syscall also stops it, for a moment.)
stopped_below() {
	grep -qx -- '--- stopped by SIGSTOP ---' "$2" || return 1
	PAUSED="$(pgrep -P "$1")"
}

first_replaced() {
	[[ "$(in_force "$1" | jq '.[0]')" != "$(jq '.[0]' <<<"$2")" ]]
}

@test "a run overtaken between two hooks by a whole second run: one whole filter, both succeed" {
	overtaken BPF_PROG_ATTACH
}

@test "a run overtaken between looking at a hook and swapping it: one whole filter, both succeed" {
	overtaken BPF_PROG_QUERY
}

@test "programs of others on the same hooks are left exactly as they were" {
	local cg i others
	made cg make_cgroup
	# Others before ours on two hooks, after ours on two (one shared).
	"$TEST_BIN/fillhook" "$cg" egress 1 jt_before >/dev/null
	"$TEST_BIN/fillhook" "$cg" connect4 2 jt_before >/dev/null
	load_filter "$cg" --deny 192.0.2.1
	"$TEST_BIN/fillhook" "$cg" egress 1 jt_after >/dev/null
	"$TEST_BIN/fillhook" "$cg" sendmsg6 1 jt_after >/dev/null
	others="$(attached "$cg" | jq -c 'map(select(.name | startswith("jailai_") | not))')"
	[[ "$(jq length <<<"$others")" -eq 5 ]]

	for ((i = 2; i <= 6; i++)); do
		load_filter "$cg" --deny "192.0.2.$i" --deny 2001:db8::1
	done
	assert_in_force "$cg" "$PROGRAM_IDS_JSON"
	[[ "$(attached "$cg" | jq -c 'map(select(.name | startswith("jailai_") | not))')" == "$others" ]]
	[[ "$(attached "$cg" | jq length)" -eq 11 ]]
}

# Shared by every suite, which sources it (not bats' load, which ShellCheck
# cannot follow) as
#   # shellcheck source=helpers.bash
#   source "$BATS_TEST_DIRNAME/helpers.bash"
# and the libraries below after it the same way.
#
# Safety rules (DESIGN.md §8): attach only to cgroups made here, traffic only
# to loopback or to namespaces made here, and remove everything in teardown,
# also when a test fails. Every name made here starts with "jt-" and the PID
# of the bats process, so parallel runs and stale leftovers never collide.
#
# The one library of the suites (each helper's contract is above it):
#   made things     make_cgroup, make_netns, made, remember_pid, cleanup_made
#   running         run_capture CMD...   any command: status, output, stderr
#                   run_loader ARGS...   the loader (behind LOADER_VIA)
#                   jailed CG NS CMD...  CMD in a cgroup and a namespace
#                   jailed_bg CG NS IN OUT CMD...   the same, in the background
#                   eventually CMD...    wait for a condition, never a sleep
#   the answers     assert_reply CG_JSON IPV4 IPV6 [DENY [ALLOW]]   a success
#                   is_reply FILE CG_JSON IPV4 IPV6 [DENY [ALLOW]]  its reply
#                   assert_refused CODE LINE CG [BEFORE]            a refusal
#                   assert_refused_like CODE ERE CG [BEFORE]
#                   load_filter CG RULE-ARGS...   attach, insisting on success
#   the cgroup      our_programs, in_force, cgroup_snapshot
#   the log         refusal_log MAP-ID   its entries, one JSON object a line

# shellcheck disable=SC2034 # the suites read what is set here (TEST_BIN,
# status, output, stderr, lines, PROGRAM_IDS_JSON, ...)
bats_require_minimum_version 1.5.0

PROJECT_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
LOADER="$PROJECT_ROOT/jail-ai-ebpf-loader"
TEST_BIN="$PROJECT_ROOT/build/test"
TAG="jt-$$-${BATS_TEST_NUMBER:-0}"

# The cgroup2 mount point, read from mountinfo (fields after " - ").
cgroup2_root() {
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}
CG2="$(cgroup2_root)"

# "Cannot run here" is a skip for a developer and a failure in CI.
cannot_run() {
	if [[ "${CI:-}" == true ]]; then
		echo "cannot run in CI: $*" >&2
		return 1
	fi
	skip "$*"
}

require_privileged() {
	[[ $(id -u) -eq 0 ]] || { cannot_run "needs root"; return; }
	[[ -n "$CG2" ]] || { cannot_run "no cgroup2 mount"; return; }
	[[ -x "$LOADER" ]] || { cannot_run "loader not built (run make)"; return; }
}

# What a test made is recorded in files, not only in variables, because
# cg=$(make_cgroup) runs in a subshell whose variables are lost.
_made_list() { echo "${BATS_TEST_TMPDIR:-/tmp}/.made-$1"; }
_made_cgroups=()
_made_netns=()
_started_pids=()

# make_cgroup [SUB]: a cgroup of this test, below the cgroup2 root; prints path.
make_cgroup() {
	local path="$CG2/$TAG${1:+/$1}"
	mkdir -p "$path"
	_made_cgroups+=("$CG2/$TAG" "$path")
	printf '%s\n' "$CG2/$TAG" "$path" >>"$(_made_list cgroups)"
	echo "$path"
}

# make_netns: a network namespace with lo up; prints its name.
make_netns() {
	local ns="$TAG"
	ip netns add "$ns"
	_made_netns+=("$ns")
	echo "$ns" >>"$(_made_list netns)"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# remember_pid PID: a process of this test, ended in teardown.
remember_pid() { _started_pids+=("$1"); }

# Number of our programs attached directly to cgroup $1 (all hooks).
our_programs() {
	bpftool cgroup show "$1" 2>/dev/null | grep -c ' jailai_' || true
}

# Remove what this test made: processes, cgroups (deepest first), namespaces.
cleanup_made() {
	local pid path ns i
	for pid in "${_started_pids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	_started_pids=()
	[[ -f "$(_made_list cgroups)" ]] && mapfile -t -O "${#_made_cgroups[@]}" _made_cgroups <"$(_made_list cgroups)"
	[[ -f "$(_made_list netns)" ]] && mapfile -t -O "${#_made_netns[@]}" _made_netns <"$(_made_list netns)"
	rm -f "$(_made_list cgroups)" "$(_made_list netns)"
	for ((i = ${#_made_cgroups[@]} - 1; i >= 0; i--)); do
		path="${_made_cgroups[$i]}"
		[[ -d "$path" ]] || continue
		# Move any stragglers of ours to the root before removing.
		find "$path" -depth -type d | while read -r dir; do
			# (a threaded cgroup's cgroup.procs cannot be read)
			if [[ -f "$dir/cgroup.procs" ]]; then
				while read -r pid; do
					echo "$pid" >"$CG2/cgroup.procs" 2>/dev/null
				done <"$dir/cgroup.procs" 2>/dev/null
			fi
			rmdir "$dir" 2>/dev/null
		done
	done
	_made_cgroups=()
	for ns in "${_made_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	_made_netns=()
}

# Wait until command "$@" succeeds: bounded (~60 s of 0.1 s naps, plus
# the time the command itself takes), far beyond what an idle machine needs,
# so that a loaded one does not fail the wait; it returns once the condition
# holds.
eventually() {
	local i
	for ((i = 0; i < 600; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# made VAR MAKER ARGS...: run a make_* helper in this shell and store what it
# printed in VAR.
made() {
	local -n made_var="$1"
	shift
	"$@" >"$BATS_TEST_TMPDIR/made"
	made_var="$(<"$BATS_TEST_TMPDIR/made")"
}

# Ids of ours in force on cgroup $1, in the loader's hook order.
in_force() {
	bpftool -j cgroup show "$1" | jq -cs 'add // [] |
		map(select(.name | startswith("jailai_")) | {(.attach_type): .id}) | add // {} |
		[.cgroup_sock_ops, .cgroup_inet4_connect, .cgroup_udp4_sendmsg,
		 .cgroup_inet6_connect, .cgroup_udp6_sendmsg, .cgroup_inet_egress]'
}

# The python3 that scripts/install-deps installs; a version manager's shim
# on PATH would cost half a second per call.
PYTHON="${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"

# --- Running a command -------------------------------------------------------
#
# run_capture CMD...: run CMD (a program or a function; in a subshell, so it
# cannot change this shell) and record, like bats' run: $status, $output
# (stdout without its trailing newlines), $lines (stdout's lines) and
# $stderr (stderr without its trailing newlines). The streams stay whole,
# byte for byte, in the files $RUN_STDOUT and $RUN_STDERR until the next
# run, for the assert_* helpers below. Stdin is the caller's. Never fails:
# the caller asserts $status. (Not "run --separate-stderr": in bats 1.8 any
# flag to run clobbers a variable named i in the caller.)
run_capture() {
	local flags="$-"
	RUN_STDOUT="$BATS_TEST_TMPDIR/run.stdout"
	RUN_STDERR="$BATS_TEST_TMPDIR/run.stderr"
	set +eET
	("$@") >"$RUN_STDOUT" 2>"$RUN_STDERR"
	status=$?
	set "-$flags"
	output="$(<"$RUN_STDOUT")"
	stderr="$(<"$RUN_STDERR")"
	mapfile -t lines <"$RUN_STDOUT"
}

# run_loader ARGS...: run_capture of the loader with ARGS, behind the words
# of the array LOADER_VIA if set (e.g. LOADER_VIA=(env SUDO_UID=1000), or
# strace with its options; a test's globals end with the test). The one way
# the suites run the loader and wait for it.
LOADER_VIA=()
run_loader() {
	run_capture "${LOADER_VIA[@]}" "$LOADER" "$@"
}

# jailed CG NS CMD...: CMD as a process of cgroup CG and of network
# namespace NS (a name in /run/netns), in a subshell; returns CMD's status.
# CG "-" leaves the caller's cgroup, NS "-" the caller's namespace. The
# cgroup is joined first, then nsenter enters the namespace (`ip netns exec`
# would remount /sys and hide the cgroup tree); CMD replaces the subshell,
# so it is the very process that joined the cgroup.
jailed() { (_enter_jail "$@"); }

# jailed_bg CG NS IN OUT CMD...: jailed in the background, stdin from IN
# (e.g. a fifo), stdout and stderr to OUT, and no other descriptor of this
# shell (bats' fd 3, a fifo's write end) inherited. JAILED_PID is CMD's own
# PID, ended by cleanup_made in teardown.
jailed_bg() {
	local cg="$1" ns="$2" in="$3" out="$4"
	shift 4
	(
		_close_inherited_fds
		_enter_jail "$cg" "$ns" "$@"
	) <"$in" >"$out" 2>&1 &
	JAILED_PID=$!
	remember_pid "$JAILED_PID"
}

# Only in a subshell: join CG, then exec CMD in NS (see jailed).
_enter_jail() {
	local cg="$1" ns="$2"
	shift 2
	if [[ $cg != - ]]; then
		echo "$BASHPID" >"$cg/cgroup.procs" || exit 1
	fi
	[[ $ns == - ]] || exec nsenter --net="/run/netns/$ns" "$@"
	exec "$@"
}

# Only in a subshell: close every descriptor but 0, 1 and 2.
_close_inherited_fds() {
	local fd
	for fd in /proc/self/fd/*; do
		fd="${fd##*/}"
		((fd > 2)) || continue
		{ exec {fd}>&-; } 2>/dev/null || true
	done
}

# --- The loader's answers ---------------------------------------------------
#
# assert_refused CODE LINE CG [BEFORE]: the last run (run_loader or
# run_capture) refused: it exited CODE, wrote exactly LINE and one newline
# to stderr, nothing to stdout, and left cgroup CG as it found it: exactly
# the attachments of BEFORE (a cgroup_snapshot taken before the run), or,
# without BEFORE, none at all. CG "-" is for a refusal that names no
# cgroup of the test (a usage error): then no cgroup is looked at. Prints
# what differs and fails otherwise.
assert_refused() {
	_assert_refusal "$1" "$3" "${4:-[]}" || return 1
	_stderr_is "$2"
}

# assert_refused_like CODE ERE CG [BEFORE]: assert_refused, with the one
# line of stderr matching the extended regular expression ERE instead.
assert_refused_like() {
	_assert_refusal "$1" "$3" "${4:-[]}" || return 1
	_stderr_is "$2" like
}

# _assert_refusal CODE CG BEFORE: the exit code, empty stdout and the
# cgroup as BEFORE; reports every difference, not only the first.
_assert_refusal() {
	local code="$1" cg="$2" before="$3" after ok=1
	if [[ $status -ne $code ]]; then
		echo "exit status $status, expected $code" >&2
		ok=0
	fi
	if [[ -s $RUN_STDOUT ]]; then
		echo "stdout is not empty:" >&2
		head -c 2000 "$RUN_STDOUT" | cat -A | head -5 >&2
		ok=0
	fi
	if [[ $cg == - ]]; then
		:
	elif ! after="$(cgroup_snapshot "$cg")"; then
		ok=0
	elif [[ $after != "$before" ]]; then
		echo "attached to $cg before: $before" >&2
		echo "attached to $cg after:  $after" >&2
		ok=0
	fi
	((ok))
}

# _stderr_is TEXT [like]: stderr was exactly one line, TEXT (or matching
# the ERE TEXT, with "like").
_stderr_is() {
	local want="$1" got
	got="$(cat "$RUN_STDERR" && printf x)"
	got="${got%x}"
	if [[ $got != *$'\n' || ${got%$'\n'} == *$'\n'* ]]; then
		echo "stderr is not exactly one line:" >&2
		head -c 2000 "$RUN_STDERR" | cat -A | head -20 >&2
		return 1
	fi
	got="${got%$'\n'}"
	if [[ ${2:-} == like ]]; then
		[[ $got =~ $want ]] && return 0
		want="/$want/"
	else
		[[ $got == "$want" ]] && return 0
	fi
	echo "stderr:   $(printf '%s' "$got" | cat -A | cut -c1-2000)" >&2
	echo "expected: $(printf '%s' "$want" | cat -A | cut -c1-2000)" >&2
	return 1
}

# cgroup_snapshot CG: everything attached directly to cgroup CG, ours and
# others', hook by hook in kernel order, as one JSON array ("[]": nothing).
cgroup_snapshot() {
	[[ -d $1 ]] || { echo "no cgroup $1" >&2; return 1; }
	bpftool -j cgroup show "$1" | jq -cs 'add // []'
}

# is_reply FILE CG_JSON IPV4 IPV6 [DENY [ALLOW]]: FILE holds exactly the
# loader's success reply, one line and a newline:
#   {"success":true,"cgroup":"CG_JSON","ipv4":IPV4,"ipv6":IPV6,
#    "deny":DENY,"allow":ALLOW,"programs":[ID,ID,ID,ID,ID,ID],"refusal_log":ID}
# CG_JSON is the path as JSON spells it (for the suites' own cgroups, the
# path itself); DENY defaults to IPV4 + IPV6 and ALLOW to 0 (a deny-only
# load). Sets PROGRAM_IDS to the six ids (sockops first),
# PROGRAM_IDS_JSON to their array as in_force prints it, and REFUSAL_LOG
# to the refusal log's map id.
is_reply() {
	local file="$1" cg="$2" v4="$3" v6="$4" reply want
	local deny="${5:-$(($3 + $4))}" allow="${6:-0}" id='([1-9][0-9]*)'
	reply="$(cat "$file" && printf x)"
	reply="${reply%x}"
	want="{\"success\":true,\"cgroup\":\"$cg\",\"ipv4\":$v4,\"ipv6\":$v6,\"deny\":$deny,\"allow\":$allow,\"programs\":["
	if [[ $reply == "$want"*$'\n' && ${reply%$'\n'} != *$'\n'* &&
		${reply#"$want"} =~ ^$id,$id,$id,$id,$id,$id\],\"refusal_log\":$id\}$'\n'$ ]]; then
		PROGRAM_IDS=("${BASH_REMATCH[@]:1:6}")
		REFUSAL_LOG=${BASH_REMATCH[7]}
		PROGRAM_IDS_JSON="[$(IFS=,; echo "${PROGRAM_IDS[*]}")]"
		return 0
	fi
	echo "reply:    $(head -c 2000 "$file" | cat -A)" >&2
	echo "expected: ${want}ID,ID,ID,ID,ID,ID],\"refusal_log\":ID}\$" >&2
	return 1
}

# assert_reply CG_JSON IPV4 IPV6 [DENY [ALLOW]]: the last run (run_loader
# or run_capture) succeeded: exit 0, nothing on stderr, and stdout exactly
# the reply is_reply describes (which sets PROGRAM_IDS).
assert_reply() {
	local ok=1
	[[ $status -eq 0 ]] || { echo "exit status $status, expected 0" >&2; ok=0; }
	[[ ! -s $RUN_STDERR ]] || { echo "stderr: $(head -c 2000 "$RUN_STDERR")" >&2; ok=0; }
	is_reply "$RUN_STDOUT" "$@" || ok=0
	((ok))
}

# reply_counts RULE-ARGS...: "IPV4 IPV6 DENY ALLOW", the counts the loader's
# reply must give for the --deny/--allow pairs RULE-ARGS, by the reference
# model (test/reference_verdict.py), not by reimplementing the parser here.
reply_counts() {
	"$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1])
import reference_verdict as m
c = m.counts(m.rules_from_argv(sys.argv[2:]))
print(c["ipv4"], c["ipv6"], c["deny"], c["allow"])' "$PROJECT_ROOT/test" "$@"
}

# load_filter CG RULE-ARGS...: the loader attaches the --deny/--allow pairs
# RULE-ARGS to cgroup CG, and it must be a whole success: assert_reply with
# the reference model's counts, and six of ours on CG. Sets PROGRAM_IDS and
# PROGRAM_IDS_JSON.
load_filter() {
	local cg="$1" counts
	shift
	counts="$(reply_counts "$@")" || return 1
	run_loader --cgroup "$cg" "$@"
	# shellcheck disable=SC2086 # four numbers, split on purpose
	assert_reply "$cg" $counts || { echo "loader --cgroup $cg $*" >&2; return 1; }
	[[ $(our_programs "$cg") -eq 6 ]] ||
		{ echo "$(our_programs "$cg") of our programs on $cg, not 6" >&2; return 1; }
}

# refusal_log ID: the entries of the refusal log with map id ID (the
# reply's "refusal_log", REFUSAL_LOG), one JSON object a line, in the order
# hook, destination, port; each decoded from its key's and value's bytes
# (filter.h's struct refusal_key and struct refusal), fields in this order:
#   {"hook":"connect4","family":2,"addr":"192.0.2.1","protocol":6,
#    "port":80,"unreadable":0,"count":1,"first_ns":N,"last_ns":N,
#    "rule_family":2,"rule":"192.0.2.1/24","kind":33,"block":80,
#    "rank":99,"zero":[0,0]}
# hook by name (connect4 sendmsg4 connect6 sendmsg6 egress; another value
# as its number); addr the destination as asked; rule the address judged
# and the deciding rule's prefix length (its prefixlen - 32); block the
# matching port block's first port, host order; zero the key's and the
# value's padding. Addresses as inet_ntop writes them (an IPv4 one with
# anything in addr[1..3], or an unknown family: hex), so that tests compare
# text. Prints nothing for an empty log; fails if the map cannot be dumped.
refusal_log() {
	local dump

	dump="$(bpftool -j map dump id "$1")" || return 1
	"$PYTHON" -c 'import json, socket, struct, sys
HOOKS = {1: "connect4", 2: "sendmsg4", 3: "connect6", 4: "sendmsg6", 5: "egress"}
def text(family, raw):
    if family == 2 and not any(raw[4:]):
        return socket.inet_ntop(socket.AF_INET, raw[:4])
    if family == 10:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return raw.hex()
rows = []
for e in json.load(sys.stdin):
    key = bytes(int(b, 16) for b in e["key"])
    value = bytes(int(b, 16) for b in e["value"])
    addr, family, protocol, hook, unreadable, port, kzero = struct.unpack("=16s4BHH", key)
    count, first, last, plen, rfamily, kind, block, raddr, rank, vzero = \
        struct.unpack("=3QI2B2s16sII", value)
    rows.append(((hook, family, addr, port, protocol), {
        "hook": HOOKS.get(hook, hook), "family": family, "addr": text(family, addr),
        "protocol": protocol, "port": port, "unreadable": unreadable, "count": count,
        "first_ns": first, "last_ns": last, "rule_family": rfamily,
        "rule": "%s/%d" % (text(rfamily, raddr), plen - 32), "kind": kind,
        "block": struct.unpack("!H", block)[0], "rank": rank, "zero": [kzero, vzero]}))
for _, row in sorted(rows, key=lambda r: r[0]):
    print(json.dumps(row, separators=(",", ":")))' <<<"$dump"
}

# Shared by every suite: load with `load helpers`.
#
# Safety rules (DESIGN.md §8): attach only to cgroups made here, traffic only
# to loopback or to namespaces made here, and remove everything in teardown,
# also when a test fails. Every name made here starts with "jt-" and the PID
# of the bats process, so parallel runs and stale leftovers never collide.

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
			if [[ -f "$dir/cgroup.procs" ]]; then
				while read -r pid; do
					echo "$pid" >"$CG2/cgroup.procs" 2>/dev/null
				done <"$dir/cgroup.procs"
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

# run_loader ARGS...: run the loader, stdout in $output, stderr in $stderr.
run_loader() {
	local i # bats 1.8's run --separate-stderr clobbers a caller's $i
	run --separate-stderr "$LOADER" "$@"
}

# Wait until command "$@" succeeds, up to ~5 s.
eventually() {
	local i
	for ((i = 0; i < 50; i++)); do
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

# run_capture CMD...: like bats' run, with stderr apart in $stderr. Not
# "run --separate-stderr": in bats 1.8 any flag to run clobbers a variable
# named i in the caller (bats_version_lt loops over a non-local i).
run_capture() {
	local errfile="$BATS_TEST_TMPDIR/stderr" flags="$-"
	set +eET
	output="$("$@" 2>"$errfile")"
	status=$?
	set "-$flags"
	stderr="$(<"$errfile")"
}

# Ids of ours in force on cgroup $1, in the loader's hook order.
in_force() {
	bpftool -j cgroup show "$1" | jq -cs 'add // [] |
		map(select(.name | startswith("jailai_")) | {(.attach_type): .id}) | add // {} |
		[.cgroup_sock_ops, .cgroup_inet4_connect, .cgroup_udp4_sendmsg,
		 .cgroup_inet6_connect, .cgroup_udp6_sendmsg, .cgroup_inet_egress]'
}

#!/usr/bin/env bats
# Lifecycle: the loader is not a daemon. It exits, and the filter stays in
# force held by nothing but the cgroup; it applies to processes that were in
# the cgroup before it came; removing the cgroup makes the kernel free the
# programs and their maps.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=net-helpers.bash
source "$BATS_TEST_DIRNAME/net-helpers.bash"

setup() {
	require_privileged
	net_setup
	new_cgroup CG
}

teardown() {
	cleanup_made
}

# exited PID: PID is gone or a zombie waiting for us to reap it.
exited() {
	local state

	state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 0
	[[ -z $state || $state == Z ]]
}

# fd_holders KIND ID...: fdinfo files of every process holding a descriptor
# to one of the BPF programs (KIND prog) or maps (KIND map) with those ids.
fd_holders() {
	local kind="$1" ids
	shift
	ids="$(IFS='|'; echo "$*")"
	grep -lsE "^${kind}_id:[[:space:]]+($ids)\$" /proc/[0-9]*/fdinfo/* || true
}

# map_ids ID...: the ids of the maps the programs use, one per line.
map_ids() {
	local id
	for id in "$@"; do
		bpftool -j prog show id "$id" | grep -oE '"map_ids":\[[0-9,]*\]' |
			grep -oE '[0-9]+'
	done | sort -u
}

# The ids bpftool lists as attached directly to cgroup $1, sorted.
attached_ids() {
	bpftool cgroup show "$1" | awk '$1 ~ /^[0-9]+$/ { print $1 }' | sort -n
}

@test "the loader exits; the filter stays in force with no process holding it" {
	local out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err" pid rc=0 maps

	expect_echo "$CG" tcp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	"$LOADER" --cgroup "$CG" "${NET_DENY_ARGS[@]}" >"$out" 2>"$err" 3>&- &
	pid=$!
	remember_pid "$pid"
	eventually exited "$pid"
	wait "$pid" || rc=$?
	[[ $rc -eq 0 && ! -s $err ]]
	# shellcheck disable=SC2046 # four numbers, split on purpose
	is_reply "$out" "$CG" $(reply_counts "${NET_DENY_ARGS[@]}")
	# the loader's own process is gone ...
	run kill -0 "$pid"
	[[ $status -ne 0 ]]
	[[ ! -e /proc/$pid ]]
	# ... and no process (no leftover child either) holds a descriptor to
	# the programs or their maps: only the cgroup attachment keeps them
	[[ $(attached_ids "$CG") == "$(printf '%s\n' "${PROGRAM_IDS[@]}" | sort -n)" ]]
	[[ -z $(fd_holders prog "${PROGRAM_IDS[@]}") ]]
	mapfile -t maps < <(map_ids "${PROGRAM_IDS[@]}")
	# three maps: the rule trie, the accepted mark, the refusal log
	[[ ${#maps[@]} -eq 3 && " ${maps[*]} " == *" $REFUSAL_LOG "* ]]
	[[ -z $(fd_holders map "${maps[@]}") ]]
	# yet the filter is in force for new processes in the cgroup
	expect_refused "$CG" tcp "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	expect_refused "$CG" udp-sendto "${DENIED_V4[@]}" "${DENIED_V6[@]}"
	expect_echo "$CG" tcp "${ALLOWED_V4[@]}" "${ALLOWED_V6[@]}"
}

@test "a process already in the cgroup before the filter is attached is refused afterwards" {
	local go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/out" fd rc=0

	mkfifo "$go"
	# one shell: a probe before the filter, then (after "go") one after it
	# shellcheck disable=SC2016 # the inner bash's positional parameters
	jailed_bg "$CG" "$NET_NS" "$go" "$out" bash -c \
		'"$0" tcp "$1" "$2"; read -r _ && exec "$0" tcp "$1" "$2"' \
		"$NETPROBE" "${DENIED_V4[0]}" "$NET_PORT"
	exec {fd}>"$go"
	eventually grep -q . "$out"
	grep -qx "$JAILED_PID" "$CG/cgroup.procs"
	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	echo go >&"$fd"
	exec {fd}>&-
	wait "$JAILED_PID" || rc=$?
	[[ $rc -eq 2 ]]
	[[ $(sed -n 1p "$out") =~ ^ok\ in\ [0-9]+\ ms$ ]]
	[[ $(sed -n 2p "$out") =~ ^refused\ EPERM\ in\ [0-9]+\ ms$ ]]
	[[ $(wc -l <"$out") -eq 2 ]]
}

@test "removing the cgroup frees all six programs and their maps, the refusal log among them" {
	local own pid id maps

	load_filter "$CG" "${NET_DENY_ARGS[@]}"
	[[ $(attached_ids "$CG") == "$(printf '%s\n' "${PROGRAM_IDS[@]}" | sort -n)" ]]
	for id in "${PROGRAM_IDS[@]}"; do
		run bpftool prog show id "$id"
		[[ $status -eq 0 && $output =~ ^$id:\ [a-z_]+\ +name\ jailai_ ]]
	done
	mapfile -t maps < <(map_ids "${PROGRAM_IDS[@]}")
	[[ ${#maps[@]} -eq 3 && " ${maps[*]} " == *" $REFUSAL_LOG "* ]]
	# a process lives and uses sockets in the cgroup, as a container would
	jailed_bg "$CG" - /dev/null /dev/null sleep 60
	pid=$JAILED_PID
	eventually grep -qx "$pid" "$CG/cgroup.procs"
	expect_refused "$CG" tcp "${DENIED_V4[0]}"
	expect_echo "$CG" udp-sendto "${ALLOWED_V4[0]}"
	# move it back to this shell's own cgroup, then remove the cgroup
	own="$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)"
	echo "$pid" >"$CG2${own%/}/cgroup.procs"
	[[ ! -s $CG/cgroup.procs ]]
	rmdir "$CG"
	# the kernel releases a removed cgroup's programs asynchronously
	for id in "${PROGRAM_IDS[@]}"; do
		# shellcheck disable=SC2016 # the inner bash's $1
		eventually bash -c '! bpftool prog show id "$1" >/dev/null 2>&1' _ "$id"
		run bpftool prog show id "$id"
		[[ $status -ne 0 && $output == "Error: get by id ($id): No such file or directory" ]]
	done
	for id in "${maps[@]}"; do
		# shellcheck disable=SC2016 # the inner bash's $1
		eventually bash -c '! bpftool map show id "$1" >/dev/null 2>&1' _ "$id"
		run bpftool map show id "$id"
		[[ $status -ne 0 && $output == "Error: get map by id ($id): No such file or directory" ]]
	done
}

#!/usr/bin/env bats
# Authorization (DESIGN.md §4 step 4): the caller is getuid() if non-zero,
# else SUDO_UID (a plain decimal, at most 4294967294), else root. A non-root
# caller may act only on a cgroup directory it owns; root on any cgroup.
# Every refusal exits 77 before any bpf() call: nothing gets attached.
#
# The loader runs as root with SUDO_UID set, as sudo would run it, for
# throwaway users made here; and once as a real non-root user, without sudo.

load helpers

ME="jail-ai-ebpf-loader"
BAD_UID="$ME: SUDO_UID: not a plain decimal user id"

setup() {
	require_privileged
	command -v useradd >/dev/null && command -v runuser >/dev/null ||
		cannot_run "needs useradd and runuser"
	command -v jq >/dev/null || cannot_run "needs jq"
	unset SUDO_UID # a developer's "sudo make check" sets it
	made_users=()
}

teardown() {
	local user
	cleanup_made
	for user in "${made_users[@]}"; do
		userdel -r "$user" 2>/dev/null || userdel "$user" 2>/dev/null || true
	done
}

# make_user SUFFIX: a throwaway user of this test; prints its uid.
make_user() {
	local user="$TAG$1"
	useradd -m -s /usr/sbin/nologin "$user" >/dev/null
	made_users+=("$user")
	id -u "$user"
}

# All programs attached directly to cgroup $1, as one JSON array.
attached() {
	bpftool -j cgroup show "$1" | jq -cs 'add // [] | map({id, attach_type, name})'
}

# A success: exit 0, one JSON line naming the cgroup, six programs, and
# exactly those six in force, one on each hook.
assert_attached() {
	local cg="$1" ids
	[[ $status -eq 0 ]] || { echo "exit $status: $stderr"; return 1; }
	[[ -z "$stderr" ]] || return 1
	[[ "$output" =~ ^\{\"success\":true,\"cgroup\":\"$cg\",\"ipv4\":1,\"ipv6\":0,\"deny\":1,\"allow\":0,\"programs\":\[[0-9]+(,[0-9]+){5}\]\}$ ]] ||
		{ echo "output: $output"; return 1; }
	ids="$(jq -c .programs <<<"$output")"
	[[ "$(in_force "$cg")" == "$ids" ]] || return 1
	[[ "$(attached "$cg" | jq length)" -eq 6 ]]
}

# A refusal: exit 77, exactly message $2, empty stdout, nothing attached.
assert_refused() {
	local cg="$1" message="$2"
	[[ $status -eq 77 ]] || { echo "exit $status: $stderr"; return 1; }
	[[ "$stderr" == "$message" ]] || { echo "stderr: $stderr"; return 1; }
	assert_nothing_attached "$cg"
}

# A refusal for not owning cgroup $1 (owned by uid $2; the caller is uid
# $3): exit 77, exactly the loader's message, empty stdout, nothing attached.
assert_not_owner() {
	assert_refused "$1" "$ME: --cgroup $1: owned by uid $2, not by uid $3"
}

assert_nothing_attached() {
	local cg="$1"
	[[ -z "$output" ]] || { echo "stdout: $output"; return 1; }
	[[ "$(attached "$cg")" == "[]" ]] || { echo "attached: $(attached "$cg")"; return 1; }
}

# jailed CG NS CMD...: run CMD inside cgroup CG and network namespace NS.
jailed() {
	local cg="$1" ns="$2"
	shift 2
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec nsenter --net="/run/netns/$ns" "$@")
}

@test "a caller acting on a cgroup it owns is served, and the filter refuses traffic" {
	local uid cg ns
	made uid make_user o
	made cg make_cgroup
	chown -R "$uid" "$cg"
	run_capture env SUDO_UID="$uid" "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_attached "$cg"

	made ns make_netns
	ip -n "$ns" addr add 192.0.2.1/32 dev lo
	ip -n "$ns" addr add 192.0.2.2/32 dev lo
	run_capture jailed "$cg" "$ns" "$TEST_BIN/udpflood" send 192.0.2.1 9
	[[ $status -eq 77 && "$stderr" == "sendto: Operation not permitted" ]]
	run_capture jailed "$cg" "$ns" "$TEST_BIN/udpflood" send 192.0.2.2 9
	[[ $status -eq 0 ]]
}

@test "another user's cgroup is refused, naming its owner and the caller" {
	local uid other cg
	made uid make_user o
	made other make_user x
	made cg make_cgroup
	chown -R "$other" "$cg"
	run_capture env SUDO_UID="$uid" "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" "$other" "$uid"
}

@test "a root-owned cgroup is refused to a non-root caller" {
	local uid cg
	made uid make_user o
	made cg make_cgroup
	run_capture env SUDO_UID="$uid" "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" 0 "$uid"
}

@test "a child cgroup the caller does not own is refused even below its own" {
	local uid cg child
	made uid make_user o
	made cg make_cgroup
	made child make_cgroup sub
	chown "$uid" "$cg"
	run_capture env SUDO_UID="$uid" "$LOADER" --cgroup "$child" --deny 192.0.2.1
	assert_not_owner "$child" 0 "$uid"
	[[ "$(attached "$cg")" == "[]" ]]
}

@test "malformed SUDO_UID values are refused before anything is attached" {
	local cg value
	made cg make_cgroup
	# Owned by uid 1000: a lenient reading of most values below would be
	# that user, of the others root; either would be served, not refused.
	chown -R 1000 "$cg"
	for value in +1000 01000 1000x "" 4294967295 99999999999 " 1000" -1 \
		1000.0 0x3e8 "1000 " $'1000\n' 00 -0 4294967296; do
		run_capture env SUDO_UID="$value" "$LOADER" --cgroup "$cg" --deny 192.0.2.1
		assert_refused "$cg" "$BAD_UID" || {
			echo "SUDO_UID='$value' was not refused as malformed"
			return 1
		}
	done
}

@test "SUDO_UID=0, or no SUDO_UID, is root: any cgroup, whoever owns it" {
	local uid cg owned
	made uid make_user o
	made cg make_cgroup
	made owned make_cgroup sub
	chown -R "$uid" "$owned"
	run_capture env SUDO_UID=0 "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_attached "$cg"
	run_capture env -u SUDO_UID "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_attached "$cg"
	run_capture env SUDO_UID=0 "$LOADER" --cgroup "$owned" --deny 192.0.2.1
	assert_attached "$owned"
}

@test "the largest user id, 4294967294, is a caller like any other" {
	local cg owned
	made cg make_cgroup
	made owned make_cgroup sub
	chown -R 4294967294 "$owned"
	run_capture env SUDO_UID=4294967294 "$LOADER" --cgroup "$owned" --deny 192.0.2.1
	assert_attached "$owned"
	run_capture env SUDO_UID=4294967294 "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" 0 "4294967294"
}

@test "a real non-root caller without sudo is refused by the kernel, cleanly" {
	local uid cg
	made uid make_user o
	made cg make_cgroup
	chown -R "$uid" "$cg"
	# Authorized (it owns the cgroup) but holds no capability: the first
	# bpf() fails with EPERM, reported as "not permitted", nothing attached.
	run_capture runuser -u "$TAG"o -- "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_refused "$cg" "$ME: loading the embedded filter (it needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON or CAP_SYS_ADMIN: run it as root, through sudo): Operation not permitted"
}

@test "a real non-root caller's SUDO_UID is ignored: it cannot claim root" {
	local uid other cg theirs
	made uid make_user o
	made other make_user x
	made cg make_cgroup
	made theirs make_cgroup sub
	chown -R "$other" "$theirs"
	run_capture runuser -u "$TAG"o -- env SUDO_UID=0 "$LOADER" --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" 0 "$uid"
	run_capture runuser -u "$TAG"o -- env SUDO_UID="$other" "$LOADER" --cgroup "$theirs" --deny 192.0.2.1
	assert_not_owner "$theirs" "$other" "$uid"
}

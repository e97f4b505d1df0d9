#!/usr/bin/env bats
# Authorization (DESIGN.md §4 step 4): the caller is getuid() if non-zero,
# else SUDO_UID (a plain decimal, at most 4294967294), else root. A non-root
# caller may act only on a cgroup directory it owns; root on any cgroup.
# Every refusal exits 77 before any bpf() call: nothing gets attached.
#
# The loader runs as root with SUDO_UID set, as sudo would run it, for
# throwaway users made here; and once as a real non-root user, without sudo.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

ME="jail-ai-ebpf-loader"
BAD_UID="$ME: SUDO_UID: not a plain decimal user id"
NO_CAPS="$ME: the loader needs CAP_SYS_ADMIN to load and replace the filter: run it as root, through sudo"

setup() {
	require_privileged
	if ! command -v useradd >/dev/null || ! command -v runuser >/dev/null; then
		cannot_run "needs useradd and runuser"
	fi
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

# A success with the one rule every test here loads: assert_reply, and
# exactly those six programs in force on cgroup $1, one on each hook, and
# nothing else attached there.
assert_attached() {
	local cg="$1"
	assert_reply "$cg" 1 0 || return 1
	[[ "$(in_force "$cg")" == "$PROGRAM_IDS_JSON" ]] || { echo "in force: $(in_force "$cg")"; return 1; }
	[[ "$(cgroup_snapshot "$cg" | jq length)" -eq 6 ]]
}

# A refusal for not owning cgroup $1 (owned by uid $2; the caller is uid
# $3): exit 77, exactly the loader's message, nothing attached.
assert_not_owner() {
	assert_refused 77 "$ME: --cgroup $1: owned by uid $2, not by uid $3" "$1"
}

@test "a caller acting on a cgroup it owns is served, and the filter refuses traffic" {
	local uid cg ns
	made uid make_user o
	made cg make_cgroup
	chown -R "$uid" "$cg"
	LOADER_VIA=(env SUDO_UID="$uid")
	run_loader --cgroup "$cg" --deny 192.0.2.1
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
	LOADER_VIA=(env SUDO_UID="$uid")
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" "$other" "$uid"
}

@test "a root-owned cgroup is refused to a non-root caller" {
	local uid cg
	made uid make_user o
	made cg make_cgroup
	LOADER_VIA=(env SUDO_UID="$uid")
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" 0 "$uid"
}

@test "a child cgroup the caller does not own is refused even below its own" {
	local uid cg child
	made uid make_user o
	made cg make_cgroup
	made child make_cgroup sub
	chown "$uid" "$cg"
	LOADER_VIA=(env SUDO_UID="$uid")
	run_loader --cgroup "$child" --deny 192.0.2.1
	assert_not_owner "$child" 0 "$uid"
	[[ "$(cgroup_snapshot "$cg")" == "[]" ]]
}

@test "malformed SUDO_UID values are refused before anything is attached" {
	local cg value
	made cg make_cgroup
	# Owned by uid 1000: a lenient reading of most values below would be
	# that user, of the others root; either would be served, not refused.
	chown -R 1000 "$cg"
	for value in +1000 01000 1000x "" 4294967295 99999999999 " 1000" -1 \
		1000.0 0x3e8 "1000 " $'1000\n' 00 -0 4294967296; do
		LOADER_VIA=(env SUDO_UID="$value")
		run_loader --cgroup "$cg" --deny 192.0.2.1
		assert_refused 77 "$BAD_UID" "$cg" || {
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
	LOADER_VIA=(env SUDO_UID=0)
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_attached "$cg"
	LOADER_VIA=(env -u SUDO_UID)
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_attached "$cg"
	LOADER_VIA=(env SUDO_UID=0)
	run_loader --cgroup "$owned" --deny 192.0.2.1
	assert_attached "$owned"
}

@test "the largest user id, 4294967294, is a caller like any other" {
	local cg owned
	made cg make_cgroup
	made owned make_cgroup sub
	chown -R 4294967294 "$owned"
	LOADER_VIA=(env SUDO_UID=4294967294)
	run_loader --cgroup "$owned" --deny 192.0.2.1
	assert_attached "$owned"
	LOADER_VIA=(env SUDO_UID=4294967294)
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" 0 "4294967294"
}

@test "a real non-root caller without sudo is refused by the kernel, cleanly" {
	local uid cg
	made uid make_user o
	made cg make_cgroup
	chown -R "$uid" "$cg"
	# Authorized (it owns the cgroup) but holds no capability: the first
	# bpf() fails with EPERM, reported as "not permitted", nothing attached.
	LOADER_VIA=(runuser -u "$TAG"o --)
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_refused 77 "$NO_CAPS" "$cg"
}

# without CAPS CMD...: CMD as root, but with the capabilities CAPS (e.g.
# -bpf,-sys_admin) taken out of its bounding set, so the exec does not give
# them back, as a container runtime or a file-capability install might run it.
without() {
	local caps="$1"
	shift
	setpriv --bounding-set "$caps" --inh-caps=-all -- "$@"
}

@test "root without CAP_BPF and CAP_SYS_ADMIN is refused naming the capabilities it needs" {
	local cg
	made cg make_cgroup
	LOADER_VIA=(without "-bpf,-sys_admin")
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_refused 77 "$NO_CAPS" "$cg"
	LOADER_VIA=(without "-bpf,-net_admin,-perfmon,-sys_admin")
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_refused 77 "$NO_CAPS" "$cg"
}

@test "root without CAP_PERFMON and CAP_SYS_ADMIN is refused naming the capabilities it needs" {
	local cg
	made cg make_cgroup
	LOADER_VIA=(without "-perfmon,-sys_admin")
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_refused 77 "$NO_CAPS" "$cg"
}

@test "root without CAP_SYS_ADMIN alone is refused, and nothing is left attached" {
	local cg
	made cg make_cgroup
	# CAP_SYS_ADMIN opens programs by id (BPF_PROG_GET_FD_BY_ID), which
	# finding our own on a hook needs, also on a cgroup that carries none yet
	LOADER_VIA=(without -sys_admin)
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_refused_like 77 "^$ME: .*CAP_SYS_ADMIN" "$cg"
}

@test "a real non-root caller's SUDO_UID is ignored: it cannot claim root" {
	local uid other cg theirs
	made uid make_user o
	made other make_user x
	made cg make_cgroup
	made theirs make_cgroup sub
	chown -R "$other" "$theirs"
	LOADER_VIA=(runuser -u "$TAG"o -- env SUDO_UID=0)
	run_loader --cgroup "$cg" --deny 192.0.2.1
	assert_not_owner "$cg" 0 "$uid"
	LOADER_VIA=(runuser -u "$TAG"o -- env SUDO_UID="$other")
	run_loader --cgroup "$theirs" --deny 192.0.2.1
	assert_not_owner "$theirs" "$other" "$uid"
}

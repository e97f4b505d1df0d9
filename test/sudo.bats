#!/usr/bin/env bats
# The supported way in: the shipped sudoers drop-in, real sudo, real users.
#
# Each test makes a throwaway group and two users (a member and an outsider),
# copies the freshly built loader to a root-owned directory of its own, and
# installs the shipped drop-in, rewritten for that path and group, under a
# name of its own in /etc/sudoers.d, after visudo -cOPf accepted it. The
# drop-in also sends sudo's log for that command to a file of the test.
# teardown removes all of it, also when a test fails.

bats_require_minimum_version 1.5.0
load helpers

DROPIN_SOURCE="$PROJECT_ROOT/sudoers.d/jail-ai-ebpf-loader"
DEFAULT_COMMAND=/usr/local/libexec/jail-ai-ebpf-loader

setup() {
	require_privileged
	local tool
	for tool in sudo visudo runuser useradd userdel groupadd groupdel nsenter; do
		command -v "$tool" >/dev/null || { cannot_run "$tool is missing"; return; }
	done
	sudo_at_least 1.9.10 || { cannot_run "sudo < 1.9.10 has no regular expressions"; return; }
	make_sudo_fixture
}

teardown() {
	remove_sudo_fixture
	cleanup_made
}

sudo_at_least() {
	local have
	have=$(sudo -V | sed -n 's/^Sudo version \([0-9.]*\).*/\1/p')
	[[ -n $have && $(printf '%s\n%s\n' "$have" "$1" | sort -V | head -n 1) == "$1" ]]
}

# Users, group, the loader copy and the drop-in of this test.
make_sudo_fixture() {
	GROUP="$TAG-g" MEMBER="$TAG-m" OUTSIDER="$TAG-n"
	DROPIN="/etc/sudoers.d/$TAG" # no "." or "~": sudo reads it
	_made_group='' _made_users=() _made_dropin='' _made_bindir=''

	groupadd "$GROUP"
	_made_group=$GROUP
	useradd -M -N -g nogroup -G "$GROUP" -s /usr/sbin/nologin "$MEMBER"
	_made_users+=("$MEMBER")
	useradd -M -N -g nogroup -s /usr/sbin/nologin "$OUTSIDER"
	_made_users+=("$OUTSIDER")
	MEMBER_UID=$(id -u "$MEMBER") OUTSIDER_UID=$(id -u "$OUTSIDER")

	# sudo resolves the command as the caller: every parent must be
	# searchable by them, and nothing may be writable but by root.
	BINDIR=$(mktemp -d "/tmp/$TAG.XXXXXX")
	_made_bindir=$BINDIR
	chmod 0755 "$BINDIR"
	SUDO_LOADER="$BINDIR/jail-ai-ebpf-loader"
	install -o 0 -g 0 -m 0755 "$LOADER" "$SUDO_LOADER"
	SUDO_LOG="$BINDIR/sudo.log"

	local new="$DROPIN.new" # contains a ".": sudo ignores it
	{
		sed -e "s|$DEFAULT_COMMAND|$SUDO_LOADER|g" -e "s|^%jail-ai |%$GROUP |" \
			"$DROPIN_SOURCE"
		echo "Defaults!$SUDO_LOADER logfile=$SUDO_LOG, loglinelen=0"
	} >"$new"
	chmod 0440 "$new"
	# The rewrite must have hit the rule and the Defaults line, or the
	# suite would test some other rule.
	[[ $(grep -c -F "$SUDO_LOADER" "$new") -eq 3 && $(grep -c "^%$GROUP " "$new") -eq 1 ]] ||
		{ rm -f "$new"; echo "could not rewrite $DROPIN_SOURCE" >&2; return 1; }
	visudo -cOPf "$new" >/dev/null || { rm -f "$new"; return 1; }
	mv "$new" "$DROPIN"
	_made_dropin=$DROPIN
}

remove_sudo_fixture() {
	local user
	[[ -n ${_made_dropin:-} ]] && rm -f "$_made_dropin"
	[[ -n ${DROPIN:-} ]] && rm -f "$DROPIN.new"
	for user in "${_made_users[@]}"; do
		userdel "$user" 2>/dev/null
	done
	[[ -n ${_made_group:-} ]] && groupdel "$_made_group" 2>/dev/null
	[[ -n ${_made_bindir:-} ]] && rm -rf "$_made_bindir"
	_made_dropin='' _made_users=() _made_group='' _made_bindir=''
	return 0
}

# as USER ARGS...: runuser -u USER -- sudo -n ARGS...; $output, $stderr.
as() {
	local user=$1
	shift
	run --separate-stderr runuser -u "$user" -- sudo -n "$@" </dev/null
}

# A cgroup of this test, owned by $1 (a user name or uid).
cgroup_owned_by() {
	local path
	path=$(make_cgroup "${2:-}")
	chown "$1" "$path"
	echo "$path"
}

# jailed_connect CGROUP NETNS ADDRESS: from a process in CGROUP and in NETNS,
# a TCP connect to ADDRESS port 9; prints "connected" or bash's error.
jailed_connect() {
	(
		echo "$BASHPID" >"$1/cgroup.procs"
		# shellcheck disable=SC2016 # expanded by the inner bash
		exec nsenter --net="/run/netns/$2" \
			bash -c 'exec 3<>"/dev/tcp/$0/9" && echo connected' "$3"
	) 2>&1
}

# A network namespace with 192.0.2.1 and 192.0.2.2 on lo, nothing listening.
netns_with_targets() {
	local ns
	ns=$(make_netns)
	ip -n "$ns" addr add 192.0.2.1/32 dev lo
	ip -n "$ns" addr add 192.0.2.2/32 dev lo
	echo "$ns"
}

# The lines of sudo's log for this test's loader.
log_lines() { cat "$SUDO_LOG" 2>/dev/null; }

# logged ENTRY: some log line is exactly "DATE : MEMBER : ENTRY".
LOG_DATE='^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} : '
logged() {
	# The pattern goes in a file: it can exceed one argument's size limit.
	log_lines | sed -E "s/$LOG_DATE//" | grep -qxF -f <(printf '%s\n' "$MEMBER : $1") || {
		echo "not logged: ${1:0:300}" >&2
		log_lines | cut -c 1-300 >&2
		return 1
	}
}

sudo_refused() {
	[[ $status -eq 1 ]] || { echo "status $status, expected 1 (sudo refused)" >&2; return 1; }
	[[ -z $output ]] || { echo "stdout: $output" >&2; return 1; }
	[[ $stderr == "sudo: $1" ]] || { echo "stderr: $stderr" >&2; return 1; }
}

@test "the shipped drop-in passes visudo -cOPf and grants only the loader, as root, without SETENV" {
	local copy="$BATS_TEST_TMPDIR/dropin" rules regex
	cp "$DROPIN_SOURCE" "$copy"
	chmod 0440 "$copy"
	run visudo -cOPf "$copy"
	[[ $status -eq 0 ]]

	rules=$(grep -v -e '^#' -e '^$' "$DROPIN_SOURCE")
	[[ $(wc -l <<<"$rules") -eq 2 ]]
	grep -qxF "Defaults!$DEFAULT_COMMAND env_reset, !setenv, closefrom=3, umask=0077, log_allowed, log_denied, log_exit_status" <<<"$rules"
	grep -q "^%jail-ai ALL = (root) NOPASSWD: NOSETENV: $DEFAULT_COMMAND \^.*\$\$" <<<"$rules"
	# No SETENV tag and no ALL but the host list: either would let a
	# caller choose SUDO_UID.
	[[ $(grep -cw SETENV <<<"$rules") -eq 0 ]]
	[[ $(grep -ow ALL <<<"$rules" | wc -l) -eq 1 ]]

	# The argument regex: bracket classes only (an unbracketed "." would
	# match a newline too), and within sudo's 1024-character limit.
	regex=$(sed -n "s|^%jail-ai .* $DEFAULT_COMMAND ||p" "$DROPIN_SOURCE")
	[[ ${#regex} -le 1024 ]]
	[[ $regex == ^*$ ]]
	# shellcheck disable=SC2001 # a regex, not a plain replacement
	[[ -z $(sed -e 's/\[[^]]*\]//g' <<<"$regex" | tr -d -c '.') ]]
}

@test "a member filters a cgroup it owns: exit 0, one JSON line, and jailed connects to the denied address get EPERM" {
	local cg ns
	cg=$(cgroup_owned_by "$MEMBER")
	ns=$(netns_with_targets)
	# Before: nothing listens, so the kernel answers "refused", not EPERM.
	run jailed_connect "$cg" "$ns" 192.0.2.1
	[[ $output == *"Connection refused"* ]]

	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::/32
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ $output =~ ^\{\"success\":true,\"cgroup\":\"$cg\",\"ipv4\":1,\"ipv6\":1,\"deny\":2,\"allow\":0,\"programs\":\[[0-9]+(,[0-9]+){5}\]\}$ ]]
	[[ $(our_programs "$cg") -eq 6 ]]

	run jailed_connect "$cg" "$ns" 192.0.2.1
	[[ $output == *"connect: Operation not permitted"* ]]
	run jailed_connect "$cg" "$ns" 192.0.2.2
	[[ $output == *"Connection refused"* ]]
}

@test "sudo refuses a member every argv outside --cgroup /sys/fs/cgroup/... (--deny ADDRESS)+: exit 1, nothing attached" {
	local cg shape
	cg=$(cgroup_owned_by "$MEMBER")
	local -a shapes=(
		"--cgroup|/etc|--deny|192.0.2.1"
		"--cgroup|$cg|--deny|192.0.2.1|extra"
		"--cgroup|$cg|--deny|192.0.2.1"$'\n'
		"--cgroup|$cg|--deny|192.0.2.1"$'\t'
		"--cgroup|$cg|--deny|192.0.2.x"
		"--cgroup|$cg|--deny|localhost"
		"--cgroup|$cg/..|--deny|192.0.2.1"
		"--cgroup|$cg/.hidden|--deny|192.0.2.1"
		"--cgroup|$cg/|--deny|192.0.2.1"
		"--cgroup|$cg"
		"--deny|192.0.2.1|--cgroup|$cg"
		"--cgroup=$cg|--deny|192.0.2.1"
		"--cgroup|$cg|--deny=192.0.2.1"
		"--cgroup|$cg|--deny|192.0.2.1|--"
		"--cgroup|$cg|--deny|192.0.2.1|--help"
		"--help"
		"--version"
		""
	)
	for shape in "${shapes[@]}"; do
		local -a argv=()
		[[ -n $shape ]] && IFS='|' read -r -d '' -a argv < <(printf '%s\0' "$shape")
		as "$MEMBER" "$SUDO_LOADER" "${argv[@]}"
		sudo_refused "a password is required" || { echo "argv: ${argv[*]@Q}" >&2; return 1; }
	done
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "sudo joins arguments with spaces, so one argument holding a space can pass its regex: the loader refuses it (65)" {
	local cg
	cg=$(cgroup_owned_by "$MEMBER")
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg --deny 192.0.2.1" --deny 192.0.2.2
	[[ $status -eq 65 ]]
	[[ -z $output ]]
	[[ $stderr == "jail-ai-ebpf-loader: --cgroup ${cg}\\x20--deny\\x20192.0.2.1: only printable ASCII without spaces is allowed" ]]
	[[ $(our_programs "$cg") -eq 0 ]]
	# sudo's log keeps the argument whole: it quotes it.
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup '$cg --deny 192.0.2.1' --deny 192.0.2.2 ; EXIT=65"
}

@test "the loader refuses a member a cgroup it does not own (77), whoever owns it, and attaches nothing" {
	local by_root by_other
	by_root=$(make_cgroup root)
	by_other=$(cgroup_owned_by "$OUTSIDER" other)
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$by_root" --deny 192.0.2.1
	[[ $status -eq 77 ]]
	[[ -z $output ]]
	[[ $stderr == "jail-ai-ebpf-loader: --cgroup $by_root: owned by uid 0, not by uid $MEMBER_UID" ]]
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$by_other" --deny 192.0.2.1
	[[ $status -eq 77 ]]
	[[ -z $output ]]
	[[ $stderr == "jail-ai-ebpf-loader: --cgroup $by_other: owned by uid $OUTSIDER_UID, not by uid $MEMBER_UID" ]]
	[[ $(our_programs "$by_root") -eq 0 ]]
	[[ $(our_programs "$by_other") -eq 0 ]]
}

@test "sudo refuses a non-member (exit 1), even for a cgroup the non-member owns" {
	local cg
	cg=$(cgroup_owned_by "$OUTSIDER")
	as "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	sudo_refused "a password is required"
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "a member cannot forge SUDO_UID: sudo refuses VAR=value, --preserve-env and -E; an inherited SUDO_UID is overwritten" {
	local cg
	cg=$(make_cgroup) # root's: only a forged SUDO_UID=0 could filter it
	as "$MEMBER" "$SUDO_LOADER" SUDO_UID=0 --cgroup "$cg" --deny 192.0.2.1
	sudo_refused "a password is required" # after the command: an argument
	as "$MEMBER" SUDO_UID=0 "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	sudo_refused "sorry, you are not allowed to set the following environment variables: SUDO_UID"
	run --separate-stderr runuser -u "$MEMBER" -- env SUDO_UID=0 \
		sudo -n --preserve-env=SUDO_UID "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 </dev/null
	sudo_refused "sorry, you are not allowed to set the following environment variables: SUDO_UID"
	run --separate-stderr runuser -u "$MEMBER" -- env SUDO_UID=0 \
		sudo -n -E "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 </dev/null
	sudo_refused "sorry, you are not allowed to preserve the environment"
	# Without asking sudo to keep it, sudo sets SUDO_UID itself.
	run --separate-stderr runuser -u "$MEMBER" -- env SUDO_UID=0 \
		sudo -n "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 </dev/null
	[[ $status -eq 77 ]]
	[[ -z $output ]]
	[[ $stderr == "jail-ai-ebpf-loader: --cgroup $cg: owned by uid 0, not by uid $MEMBER_UID" ]]
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "a member gets privilege only as root: sudo refuses -u; -g alone runs the loader as the member, unprivileged (77)" {
	local cg
	cg=$(cgroup_owned_by "$MEMBER")
	as "$MEMBER" -u "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	sudo_refused "a password is required"
	as "$MEMBER" -u "$OUTSIDER" -g "$GROUP" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	sudo_refused "a password is required"
	as "$MEMBER" -g root "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	sudo_refused "a password is required"
	# sudo -g without -u runs the command as the caller (sudoers lets
	# anyone be themselves with their own groups): no privilege, so the
	# kernel refuses and nothing is attached.
	as "$MEMBER" -g "$GROUP" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	[[ $status -eq 77 ]]
	[[ -z $output ]]
	[[ $stderr == "jail-ai-ebpf-loader: loading the embedded filter (it needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON or CAP_SYS_ADMIN: run it as root, through sudo): Operation not permitted" ]]
	logged "PWD=$PWD ; USER=$MEMBER ; GROUP=$GROUP ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1 ; EXIT=77"
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "sudo lists exactly one rule for a member: the loader, as root, NOPASSWD and NOSETENV, with the argv regex" {
	local regex
	regex=$(sed -n "s|^%jail-ai .* $DEFAULT_COMMAND ||p" "$DROPIN_SOURCE")
	run --separate-stderr runuser -u "$MEMBER" -- sudo -n -l </dev/null
	[[ $status -eq 0 ]]
	[[ $(grep -c '^ *(' <<<"$output") -eq 1 ]]
	grep -qxF "    (root) NOSETENV: NOPASSWD: $SUDO_LOADER $regex" <<<"$output"
	grep -qxF "    Defaults!$SUDO_LOADER env_reset, !setenv, closefrom=3, umask=0077, log_allowed, log_denied, log_exit_status" <<<"$output"
	run --separate-stderr runuser -u "$OUTSIDER" -- sudo -n -l </dev/null
	[[ $status -eq 1 ]]
	[[ -z $output ]]
}

@test "sudo's log holds the whole argv of an accepted call with its exit status, and escapes control characters" {
	local cg forged
	cg=$(cgroup_owned_by "$MEMBER")

	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::/32
	[[ $status -eq 0 ]]
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1 --deny 2001:db8::/32"
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1 --deny 2001:db8::/32 ; EXIT=0"

	# A newline cannot forge a log line: sudo writes it as #012 (and
	# quotes the argument, which holds spaces).
	forged=$'192.0.2.1\nJan  1 00:00:00 : root : PWD=/ ; USER=root ; COMMAND=/bin/true'
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny "$forged"
	sudo_refused "a password is required"
	logged "a password is required ; PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny '192.0.2.1#012Jan  1 00:00:00 : root : PWD=/ ; USER=root ; COMMAND=/bin/true'"
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny $'192.0.2.1\t\033[2J'
	sudo_refused "a password is required"
	logged "a password is required ; PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1#011#033[2J"
	# Four entries, each on a line of its own.
	[[ $(log_lines | wc -l) -eq 4 ]]
	[[ $(log_lines | grep -cvE "$LOG_DATE") -eq 0 ]]
	[[ $(our_programs "$cg") -eq 6 ]] # from the accepted call only
}

@test "sudo admits the largest request, 16384 --deny, and logs it whole on one line; the loader refuses 16385 (65)" {
	local cg i
	local -a argv=()
	cg=$(cgroup_owned_by "$MEMBER")
	for ((i = 0; i < 8192; i++)); do
		argv+=(--deny "10.$((i / 256)).$((i % 256)).0/24" --deny "2001:db8:$i::/48")
	done
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" "${argv[@]}"
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ $output == "{\"success\":true,\"cgroup\":\"$cg\",\"ipv4\":8192,\"ipv6\":8192,\"deny\":16384,\"allow\":0,"* ]]
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg ${argv[*]} ; EXIT=0"

	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" "${argv[@]}" --deny 192.0.2.1
	[[ $status -eq 65 ]]
	[[ -z $output ]]
	[[ $stderr == "jail-ai-ebpf-loader: --deny 192.0.2.1: too many rules (at most 16384)" ]]
}

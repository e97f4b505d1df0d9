#!/usr/bin/env bats
# The supported way in: the shipped sudoers drop-in, real users, and both sudo
# implementations that distributions ship (DESIGN.md §7): classic sudo and
# sudo-rs (Debian 13's, installed for the test by test/sudo-rs.bash). Every
# case runs through each of them in turn (each_sudo).
#
# Each test makes a throwaway group and two users (a member and an outsider),
# copies the freshly built loader to a root-owned directory of its own, and
# installs the shipped drop-in, rewritten for that path and group, under a
# name of its own in /etc/sudoers.d, after both implementations accepted it.
# For classic sudo only, the test's copy also sends sudo's log for that
# command to a file of the test (sudo-rs has no such setting: it logs to
# syslog, which the test listens to). teardown removes all of it, also when
# a test fails.
#
# ShellCheck: bats runs each @test in a subshell of its own, and the helpers
# below read the status and output that the test calling them set with run:
# shellcheck disable=SC2030,SC2031 # not values lost in a subshell

bats_require_minimum_version 1.5.0
# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=sudo-rs.bash
source "$BATS_TEST_DIRNAME/sudo-rs.bash"

DROPIN_SOURCE="$PROJECT_ROOT/sudoers.d/jail-ai-ebpf-loader"
DEFAULT_COMMAND=/usr/local/libexec/jail-ai-ebpf-loader
SHIPPED_RULE="%jail-ai ALL = (root) NOPASSWD: NOSETENV: $DEFAULT_COMMAND"

setup() {
	require_privileged
	local tool
	for tool in sudo visudo runuser useradd userdel groupadd groupdel nsenter python3 unshare; do
		command -v "$tool" >/dev/null || { cannot_run "$tool is missing"; return; }
	done
	install_sudo_rs
	listen_syslog
	make_sudo_fixture
}

teardown() {
	remove_sudo_fixture
	unlisten_syslog
	remove_sudo_rs
	cleanup_made
}

# Users, group and the loader copy of this test.
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
}

# use_sudo sudo|sudo-rs: the implementation the next requests go through
# ($SUDO_PROG), with the drop-in in place: the shipped rule for this test's
# path and group, checked by both implementations; for classic sudo, plus a
# line that sends its log to $SUDO_LOG.
use_sudo() {
	IMPL=$1
	local new="$DROPIN.new" # contains a ".": sudo ignores it
	rm -f "$DROPIN"
	_made_dropin=$DROPIN
	sed -e "s|$DEFAULT_COMMAND|$SUDO_LOADER|g" -e "s|^%jail-ai |%$GROUP |" \
		"$DROPIN_SOURCE" >"$new"
	chmod 0440 "$new"
	# The rewrite must have hit the rule, or the suite would test some
	# other rule.
	[[ $(grep -c -F "$SUDO_LOADER" "$new") -eq 1 && $(grep -c "^%$GROUP " "$new") -eq 1 ]] ||
		{ echo "could not rewrite $DROPIN_SOURCE" >&2; return 1; }
	run --separate-stderr env PATH="$SUDO_RS_DIR:$PATH" "$PROJECT_ROOT/scripts/check-sudo-rule" "$new"
	[[ $status -eq 0 && -z $stderr && $output == "checked the sudo rule with classic sudo "*", sudo-rs "* ]] ||
		{ echo "check-sudo-rule: $status: $output $stderr" >&2; return 1; }
	case $IMPL in
	sudo)
		SUDO_PROG=sudo
		echo "Defaults!$SUDO_LOADER logfile=$SUDO_LOG, loglinelen=0" >>"$new"
		visudo -cOPf "$new" >/dev/null
		;;
	sudo-rs) SUDO_PROG=$SUDO_RS ;;
	esac
	mv "$new" "$DROPIN"
	echo "# through $IMPL"
}

# each_sudo FUNCTION ARGS...: run FUNCTION through classic sudo, then sudo-rs.
each_sudo() {
	local impl
	for impl in sudo sudo-rs; do
		use_sudo "$impl"
		"$@"
	done
}

remove_sudo_fixture() {
	local user
	[[ -n ${_made_dropin:-} ]] && rm -f "$_made_dropin" "$_made_dropin.new"
	for user in "${_made_users[@]}"; do
		userdel "$user" 2>/dev/null
	done
	[[ -n ${_made_group:-} ]] && groupdel "$_made_group" 2>/dev/null
	[[ -n ${_made_bindir:-} ]] && rm -rf "$_made_bindir"
	_made_dropin='' _made_users=() _made_group='' _made_bindir=''
	return 0
}

# as USER ARGS...: runuser -u USER -- $SUDO_PROG -n ARGS...; $output, $stderr.
as() {
	local user=$1
	shift
	run_capture runuser -u "$user" -- "$SUDO_PROG" -n "$@" </dev/null
}

# as_with VAR=VALUE USER ARGS...: the same, with VAR=VALUE in the caller's
# environment.
as_with() {
	local setting=$1 user=$2
	shift 2
	run_capture runuser -u "$user" -- env "$setting" "$SUDO_PROG" -n "$@" </dev/null
}

# A cgroup of this test, owned by $1 (a user name or uid), named $2.
cgroup_owned_by() {
	local path
	path=$(make_cgroup "$2")
	chown "$1" "$path"
	echo "$path"
}

# jailed_connect CGROUP NETNS ADDRESS: from a process in CGROUP and in NETNS,
# a TCP connect to ADDRESS port 9; prints "connected" or bash's error.
jailed_connect() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	jailed "$1" "$2" bash -c 'exec 3<>"/dev/tcp/$0/9" && echo connected' "$3" 2>&1
}

# A network namespace with 192.0.2.1 and 192.0.2.2 on lo, nothing listening.
netns_with_targets() {
	local ns
	ns=$(make_netns)
	ip -n "$ns" addr add 192.0.2.1/32 dev lo
	ip -n "$ns" addr add 192.0.2.2/32 dev lo
	echo "$ns"
}

# refusal USER: what the current implementation says to USER when no rule
# admits the request.
refusal() {
	case $IMPL in
	sudo) echo "sudo: a password is required" ;;
	sudo-rs) echo "sudo-rs: I'm sorry $1. I'm afraid I can't do that" ;;
	esac
}

# refused_by_sudo MESSAGE: sudo refused (exit 1) with exactly MESSAGE.
refused_by_sudo() {
	[[ $status -eq 1 ]] || { echo "$IMPL: status $status, expected 1 (sudo refused)" >&2; return 1; }
	[[ -z $output ]] || { echo "$IMPL: stdout: $output" >&2; return 1; }
	[[ $stderr == "$1" ]] || { echo "$IMPL: stderr: $stderr" >&2; return 1; }
}

# The lines of classic sudo's log for this test's loader.
log_lines() { cat "$SUDO_LOG" 2>/dev/null; }

# logged ENTRY: classic sudo logged the line "DATE : MEMBER : ENTRY", or
# sudo-rs sent syslog (facility auth, level info) "MEMBER :  ENTRY". sudo-rs
# logs before it runs the command, and the listener may write it a moment
# after sudo-rs exits: wait for it.
LOG_DATE='^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} : '
logged() {
	# The pattern goes in a file: it can exceed one argument's size limit.
	printf '%s\n' "$MEMBER : $1" >"$BATS_TEST_TMPDIR/entry"
	if [[ $IMPL == sudo ]]; then
		log_lines | sed -E "s/$LOG_DATE//" | grep -qxF -f "$BATS_TEST_TMPDIR/entry" && return
		echo "not logged: ${1:0:300}" >&2
		log_lines | cut -c 1-300 >&2
		return 1
	fi
	printf '38 %s :  %s\n' "$MEMBER" "$1" >"$BATS_TEST_TMPDIR/entry"
	eventually sudo_rs_logged && return
	echo "not sent to syslog: ${1:0:300}" >&2
	sudo_rs_messages | cut -c 1-300 >&2
	return 1
}
sudo_rs_logged() { sudo_rs_messages | grep -qxF -f "$BATS_TEST_TMPDIR/entry"; }

# What sudo-rs sent to syslog about the member's requests.
sudo_rs_member_lines() { sudo_rs_messages | grep -F " $MEMBER : " || true; }

@test "the shipped drop-in is one plain rule that classic sudo and sudo-rs both parse without a word" {
	local copy="$BATS_TEST_TMPDIR/dropin" rules
	cp "$DROPIN_SOURCE" "$copy"
	chmod 0440 "$copy"
	run --separate-stderr visudo -cOPf "$copy"
	[[ $status -eq 0 ]]
	[[ $output == "$copy: parsed OK" ]]
	[[ -z $stderr ]]
	# sudo-rs's own visudo needs a newer C library than Debian 12's; where
	# it cannot run, check-sudo-rule has sudo-rs itself parse the file.
	run --separate-stderr env PATH="$SUDO_RS_DIR:$PATH" "$PROJECT_ROOT/scripts/check-sudo-rule" "$copy"
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ $output =~ ^"checked the sudo rule with classic sudo "[0-9][^,]*", sudo-rs "[0-9.]+$ ]]

	# Only the loader, only as root, NOPASSWD and NOSETENV: no Defaults,
	# no argument pattern, no SETENV, no ALL but the host list.
	rules=$(grep -v -e '^#' -e '^$' "$DROPIN_SOURCE")
	[[ $rules == "$SHIPPED_RULE" ]]
}

# A member filters a cgroup it owns, named $IMPL.
member_filters() {
	local cg ns
	cg=$(cgroup_owned_by "$MEMBER" "$IMPL")
	ns=$(make_netns_for "$IMPL")
	# Before: nothing listens, so the kernel answers "refused", not EPERM.
	run jailed_connect "$cg" "$ns" 192.0.2.1
	[[ $output == *"Connection refused"* ]]

	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::/32
	assert_reply "$cg" 1 1 # and no complaint from sudo or sudo-rs either
	[[ $(our_programs "$cg") -eq 6 ]]

	run jailed_connect "$cg" "$ns" 192.0.2.1
	[[ $output == *"connect: Operation not permitted"* ]]
	run jailed_connect "$cg" "$ns" 192.0.2.2
	[[ $output == *"Connection refused"* ]]
}

# make_netns_for NAME: netns_with_targets, once per implementation.
make_netns_for() {
	local ns="$TAG-$1"
	ip netns add "$ns"
	echo "$ns" >>"$(_made_list netns)"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 192.0.2.1/32 dev lo
	ip -n "$ns" addr add 192.0.2.2/32 dev lo
	echo "$ns"
}

@test "a member filters a cgroup it owns, through sudo and sudo-rs: exit 0, one JSON line, jailed connects to the denied address get EPERM" {
	each_sudo member_filters
}

# Neither sudo constrains the argv: the loader refuses every malformed one
# exactly as it does when root runs it directly, and attaches nothing.
loader_refuses_shapes() {
	local cg shape want_status want_stderr
	cg=$(cgroup_owned_by "$MEMBER" "$IMPL")
	local -a shapes=(
		"--cgroup|/etc|--deny|192.0.2.1"
		"--cgroup|$cg|--deny|192.0.2.1|extra"
		"--cgroup|$cg|--deny|192.0.2.1"$'\n'
		"--cgroup|$cg|--deny|192.0.2.1"$'\t'
		"--cgroup|$cg|--deny|192.0.2.x"
		"--cgroup|$cg|--deny|localhost"
		"--cgroup|$cg/..|--deny|192.0.2.1"
		"--cgroup|$cg/|--deny|192.0.2.1"
		"--cgroup|$cg"
		"--cgroup|$cg|--cgroup|$cg|--deny|192.0.2.1"
		"--cgroup=$cg|--deny|192.0.2.1"
		"--cgroup|$cg|--deny=192.0.2.1"
		"--cgroup|$cg|--deny|192.0.2.1|--"
		"--cgroup|$cg|--deny|192.0.2.1|--help"
		# sudo's log joins arguments with spaces: one argument holding
		# spaces reads like several there, and the loader refuses it.
		"--cgroup|$cg --deny 192.0.2.1|--deny|192.0.2.2"
		""
	)
	for shape in "${shapes[@]}"; do
		local -a argv=()
		[[ -n $shape ]] && IFS='|' read -r -d '' -a argv < <(printf '%s\0' "$shape")
		run_loader "${argv[@]}"
		want_status=$status want_stderr=$stderr
		[[ $want_status -eq 64 || $want_status -eq 65 ]] ||
			{ echo "argv ${argv[*]@Q}: the loader itself exits $want_status" >&2; return 1; }
		[[ $want_stderr == "jail-ai-ebpf-loader: "* && $want_stderr != *$'\n'* ]]
		as "$MEMBER" "$SUDO_LOADER" "${argv[@]}"
		assert_refused "$want_status" "$want_stderr" "$cg" || {
			echo "$IMPL, argv ${argv[*]@Q}: refused otherwise than when run directly" >&2
			return 1
		}
	done
	# --help and --version stand alone: usage or version on stdout, exit 0.
	as "$MEMBER" "$SUDO_LOADER" --help
	[[ $status -eq 0 && -z $stderr && $output == "usage: jail-ai-ebpf-loader "* ]]
	as "$MEMBER" "$SUDO_LOADER" --version
	[[ $status -eq 0 && -z $stderr && $output == "jail-ai-ebpf-loader "* ]]
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "neither sudo constrains the argv: the loader refuses each malformed one (64/65, its own message) and attaches nothing" {
	each_sudo loader_refuses_shapes
}

foreign_cgroups_refused() {
	local by_root by_other
	by_root=$(make_cgroup "$IMPL-root")
	by_other=$(cgroup_owned_by "$OUTSIDER" "$IMPL-other")
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$by_root" --deny 192.0.2.1
	assert_refused 77 "jail-ai-ebpf-loader: --cgroup $by_root: owned by uid 0, not by uid $MEMBER_UID" "$by_root"
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$by_other" --deny 192.0.2.1
	assert_refused 77 "jail-ai-ebpf-loader: --cgroup $by_other: owned by uid $OUTSIDER_UID, not by uid $MEMBER_UID" "$by_other"
}

@test "the loader refuses a member a cgroup it does not own (77), whoever owns it, through either sudo, and attaches nothing" {
	each_sudo foreign_cgroups_refused
}

outsider_refused() {
	local cg
	cg=$(cgroup_owned_by "$OUTSIDER" "$IMPL")
	as "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	refused_by_sudo "$(refusal "$OUTSIDER")"
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "sudo and sudo-rs refuse a non-member (exit 1), even for a cgroup the non-member owns" {
	each_sudo outsider_refused
}

# Only a forged SUDO_UID=0 could filter a root-owned cgroup.
sudo_uid_not_forged() {
	local cg
	cg=$(make_cgroup "$IMPL")
	# After the command, SUDO_UID=0 is an argument, and the loader's.
	as "$MEMBER" "$SUDO_LOADER" SUDO_UID=0 --cgroup "$cg" --deny 192.0.2.1
	[[ $status -eq 64 ]]
	[[ $stderr == "jail-ai-ebpf-loader: SUDO_UID=0: unexpected argument" ]]
	# Before it, a variable to set: NOSETENV refuses it.
	as "$MEMBER" SUDO_UID=0 "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	case $IMPL in
	sudo) refused_by_sudo "sudo: sorry, you are not allowed to set the following environment variables: SUDO_UID" ;;
	sudo-rs) refused_by_sudo "sudo-rs: you are not allowed to set the following environment variables: SUDO_UID" ;;
	esac
	# Classic sudo refuses to keep the caller's SUDO_UID; sudo-rs 0.2.5
	# ignores -E and --preserve-env with a warning. Either way the loader
	# sees the SUDO_UID that sudo set: the member's.
	local option
	for option in --preserve-env=SUDO_UID -E; do
		as_with SUDO_UID=0 "$MEMBER" "$option" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
		case $IMPL/$option in
		sudo/-E) refused_by_sudo "sudo: sorry, you are not allowed to preserve the environment" ;;
		sudo/*) refused_by_sudo "sudo: sorry, you are not allowed to set the following environment variables: SUDO_UID" ;;
		sudo-rs/*)
			[[ $status -eq 77 ]]
			[[ -z $output ]]
			[[ $stderr == "warning: \`--preserve-env\` has not yet been implemented and will be ignored"$'\n'"jail-ai-ebpf-loader: --cgroup $cg: owned by uid 0, not by uid $MEMBER_UID" ]]
			;;
		esac
	done
	# Without asking to keep it, sudo sets SUDO_UID itself, to the caller.
	as_with SUDO_UID=0 "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	[[ $status -eq 77 ]]
	[[ -z $output ]]
	[[ $stderr == "jail-ai-ebpf-loader: --cgroup $cg: owned by uid 0, not by uid $MEMBER_UID" ]]
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "a member cannot forge SUDO_UID through either sudo: VAR=value, --preserve-env, -E and an inherited value all fail" {
	each_sudo sudo_uid_not_forged
}

only_as_root() {
	local cg
	cg=$(cgroup_owned_by "$MEMBER" "$IMPL")
	as "$MEMBER" -u "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	refused_by_sudo "$(refusal "$MEMBER")"
	as "$MEMBER" -u "$OUTSIDER" -g "$GROUP" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	refused_by_sudo "$(refusal "$MEMBER")"
	as "$MEMBER" -g root "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	refused_by_sudo "$(refusal "$MEMBER")"
	as "$MEMBER" -g "$GROUP" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	if [[ $IMPL == sudo-rs ]]; then
		refused_by_sudo "$(refusal "$MEMBER")"
	else
		# Classic sudo -g without -u runs the command as the caller
		# (sudoers lets anyone be themselves with their own groups): no
		# privilege, so the loader refuses before it builds anything, as
		# when the member runs it without sudo.
		local via_sudo="jail-ai-ebpf-loader: the loader needs CAP_SYS_ADMIN to load and replace the filter: run it as root, through sudo"
		assert_refused 77 "$via_sudo" "$cg"
		run_capture runuser -u "$MEMBER" -- "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
		assert_refused 77 "$via_sudo" "$cg"
		logged "PWD=$PWD ; USER=$MEMBER ; GROUP=$GROUP ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1"
	fi
	[[ $(our_programs "$cg") -eq 0 ]]
}

@test "a member gets privilege only as root: both refuse -u and -g root; classic -g alone runs the loader unprivileged (77)" {
	each_sudo only_as_root
}

lists_one_rule() {
	run --separate-stderr runuser -u "$MEMBER" -- "$SUDO_PROG" -n -l </dev/null
	[[ $status -eq 0 ]]
	[[ -z $stderr ]] # no complaint about any sudoers line
	[[ $(grep -c '^ *(' <<<"$output") -eq 1 ]]
	case $IMPL in
	sudo) grep -qxF "    (root) NOSETENV: NOPASSWD: $SUDO_LOADER" <<<"$output" ;;
	sudo-rs) grep -qxF "    (root) NOPASSWD: $SUDO_LOADER" <<<"$output" ;;
	esac
	run --separate-stderr runuser -u "$OUTSIDER" -- "$SUDO_PROG" -n -l </dev/null
	[[ $status -eq 1 ]]
	[[ -z $output ]]
	case $IMPL in
	sudo) [[ $stderr == "sudo: a password is required" ]] ;;
	sudo-rs) [[ $stderr == "sudo-rs: Sorry, user $OUTSIDER may not run sudo on $(hostname)." ]] ;;
	esac
}

@test "sudo -l and sudo-rs -l list exactly one rule for a member, the loader as root without a password, and complain about nothing" {
	each_sudo lists_one_rule
}

# logs_forgery_escaped CGROUP NEWLINE_ENTRY CONTROL_ENTRY: a newline in an
# argument cannot forge a log line, nor control characters reach a terminal
# that shows the log: the log has the --deny argument with a newline as
# NEWLINE_ENTRY, and one with a tab and ESC as CONTROL_ENTRY. The loader
# refuses both (65).
logs_forgery_escaped() {
	local cg=$1 forged
	forged=$'192.0.2.1\nJan  1 00:00:00 : root : PWD=/ ; USER=root ; COMMAND=/bin/true'
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny "$forged"
	[[ $status -eq 65 ]]
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny $2"
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny $'192.0.2.1\t\033[2J'
	[[ $status -eq 65 ]]
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny $3"
}

@test "classic sudo logs an accepted call with its whole argv and every refused one, and escapes control characters" {
	local cg attached
	use_sudo sudo
	cg=$(cgroup_owned_by "$MEMBER" sudo)

	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::/32
	assert_reply "$cg" 1 1
	[[ $(our_programs "$cg") -eq 6 ]]
	attached=$(cgroup_snapshot "$cg")
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1 --deny 2001:db8::/32"
	# A refused request: by sudo (a non-member; a member asking for
	# another user), and by NOSETENV.
	as "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.9
	refused_by_sudo "$(refusal "$OUTSIDER")"
	grep -qxE "${LOG_DATE}$OUTSIDER : a password is required ; PWD=[^;]* ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192\.0\.2\.9" "$SUDO_LOG"
	as "$MEMBER" -u "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	logged "a password is required ; PWD=$PWD ; USER=$OUTSIDER ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1"
	as "$MEMBER" SUDO_UID=0 "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1
	logged "sorry, you are not allowed to set the following environment variables: SUDO_UID ; PWD=$PWD ; USER=root ; ENV=SUDO_UID=0 ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1"

	# sudo writes a newline as #012 (and quotes the argument, which holds
	# spaces), a tab as #011, ESC as #033.
	logs_forgery_escaped "$cg" \
		"'192.0.2.1#012Jan  1 00:00:00 : root : PWD=/ ; USER=root ; COMMAND=/bin/true'" \
		"192.0.2.1#011#033[2J"
	# Six entries, each on a line of its own.
	[[ $(log_lines | wc -l) -eq 6 ]]
	[[ $(log_lines | grep -cvE "$LOG_DATE") -eq 0 ]]
	[[ $(cgroup_snapshot "$cg") == "$attached" ]] # from the accepted call only
}

@test "sudo-rs sends syslog an accepted call with its whole argv, escaped; it logs no refusal, which only the caller sees" {
	local cg attached
	use_sudo sudo-rs
	cg=$(cgroup_owned_by "$MEMBER" sudo-rs)

	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.1 --deny 2001:db8::/32
	assert_reply "$cg" 1 1
	[[ $(our_programs "$cg") -eq 6 ]]
	attached=$(cgroup_snapshot "$cg")
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg --deny 192.0.2.1 --deny 2001:db8::/32"

	# sudo-rs writes a newline as \n, a tab as \t, ESC as \u{1b}, and
	# leaves spaces as they are.
	logs_forgery_escaped "$cg" \
		"192.0.2.1\\nJan  1 00:00:00 : root : PWD=/ ; USER=root ; COMMAND=/bin/true" \
		"192.0.2.1\\t\\u{1b}[2J"

	# Refused by sudo-rs: a non-member, a member asking for another user,
	# a member setting SUDO_UID. sudo-rs 0.2.5 tells the caller and logs
	# nothing (SECURITY.md, audit trail).
	as "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.9
	refused_by_sudo "$(refusal "$OUTSIDER")"
	as "$MEMBER" -u "$OUTSIDER" "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.9
	refused_by_sudo "$(refusal "$MEMBER")"
	as "$MEMBER" SUDO_UID=0 "$SUDO_LOADER" --cgroup "$cg" --deny 192.0.2.9
	refused_by_sudo "sudo-rs: you are not allowed to set the following environment variables: SUDO_UID"
	# A last accepted call marks the end: everything sudo-rs sent before
	# it has arrived, and it is the three calls above and this one.
	as "$MEMBER" "$SUDO_LOADER" --version
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --version"
	[[ $(sudo_rs_messages | grep -c -F '192.0.2.9') -eq 0 ]]
	[[ $(sudo_rs_member_lines | wc -l) -eq 4 ]]
	[[ $(sudo_rs_messages | grep -c -F " $OUTSIDER ") -eq 0 ]]
	[[ $(cgroup_snapshot "$cg") == "$attached" ]] # from the accepted call only
}

largest_request() {
	local cg n
	local -a argv=()
	cg=$(cgroup_owned_by "$MEMBER" "$IMPL")
	for ((n = 0; n < 8192; n++)); do
		argv+=(--deny "10.$((n / 256)).$((n % 256)).0/24" --deny "2001:db8:$n::/48")
	done
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" "${argv[@]}"
	assert_reply "$cg" 8192 8192
	# Classic sudo: on one line of its log file. sudo-rs: in syslog
	# messages of at most 960 bytes, which join again into the whole.
	logged "PWD=$PWD ; USER=root ; COMMAND=$SUDO_LOADER --cgroup $cg ${argv[*]}"

	# One more: the loader refuses it, as it does run directly.
	local before
	before=$(cgroup_snapshot "$cg")
	run_loader --cgroup "$cg" "${argv[@]}" --deny 192.0.2.1
	assert_refused_like 65 "^jail-ai-ebpf-loader: --deny 192\.0\.2\.1: too many " "$cg" "$before"
	local want=$stderr
	as "$MEMBER" "$SUDO_LOADER" --cgroup "$cg" "${argv[@]}" --deny 192.0.2.1
	assert_refused 65 "$want" "$cg" "$before"
}

@test "sudo and sudo-rs admit the largest request, 16384 --deny, and log it whole; the loader refuses 16385 (65)" {
	each_sudo largest_request
}

#!/usr/bin/env bats
# make install / uninstall / group (mk/install.mk) and the man page.
#
# Most tests install into a DESTDIR of their own. One installs for real,
# into /usr/local and /etc/sudoers.d, and uninstalls again; it and the
# `make group` test hold a lock, so two runs of this suite never meet, and
# they refuse to touch a copy that was installed before them.
#
# Every test has sudo-rs (test/sudo-rs.bash) in make's PATH beside classic
# sudo, so install checks the rule with both.

bats_require_minimum_version 1.5.0
# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=sudo-rs.bash
source "$BATS_TEST_DIRNAME/sudo-rs.bash"

NAME=jail-ai-ebpf-loader
REAL_FILES=("/usr/local/libexec/$NAME" "/etc/sudoers.d/$NAME" "/usr/local/share/man/man8/$NAME.8")
LOCK=/run/lock/jail-ai-ebpf-loader-install-test

setup() {
	[[ $(id -u) -eq 0 ]] || { cannot_run "needs root"; return; }
	[[ -x $LOADER ]] || { cannot_run "loader not built (run make)"; return; }
	command -v visudo >/dev/null || { cannot_run "visudo is missing"; return; }
	install_sudo_rs
	DEST="$BATS_TEST_TMPDIR/dest"
	mkdir "$DEST"
	_installed_for_real='' _made_dirs=() _made_group='' _made_user=''
}

teardown() {
	local dir i
	if [[ -n ${_installed_for_real:-} ]]; then
		rm -f "${REAL_FILES[@]}" /etc/sudoers.d/$NAME.new
	fi
	for ((i = ${#_made_dirs[@]} - 1; i >= 0; i--)); do
		rmdir "${_made_dirs[$i]}" 2>/dev/null
	done
	[[ -n ${_made_user:-} ]] && userdel "$_made_user"
	[[ -n ${_made_group:-} ]] && groupdel "$_made_group"
	remove_sudo_rs
	cleanup_made
	return 0
}

# make_in_tree ARGS...: make in the project, with sudo-rs in PATH; stdout in
# $output, stderr in $stderr.
make_in_tree() {
	run --separate-stderr env PATH="$SUDO_RS_DIR:$PATH" \
		make -C "$PROJECT_ROOT" --no-print-directory "$@"
}

# The line install prints when both implementations accepted the rule.
CHECKED_BOTH='^checked the sudo rule with classic sudo [0-9][^,]*, sudo-rs [0-9.]+$'

# The tree under $1: type, mode, owner and path of everything.
tree() {
	find "$1" -mindepth 1 -printf '%y %m %U:%G %P\n' | sort -k 4
}

# Hold the lock of the tests that touch the real system (released when the
# test's shell ends).
lock_system() {
	exec {lock_fd}>"$LOCK"
	flock -w 300 "$lock_fd"
}

@test "make install DESTDIR=... produces exactly the documented tree, modes and owners" {
	make_in_tree install DESTDIR="$DEST"
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ ${#lines[@]} -eq 2 ]]
	[[ ${lines[0]} =~ $CHECKED_BOTH ]]
	[[ ${lines[1]} == "installed $DEST/usr/local/libexec/$NAME, $DEST/etc/sudoers.d/$NAME, $DEST/usr/local/share/man/man8/$NAME.8" ]]
	diff -u - <(tree "$DEST") <<EOF
d 755 0:0 etc
d 755 0:0 etc/sudoers.d
f 440 0:0 etc/sudoers.d/$NAME
d 755 0:0 usr
d 755 0:0 usr/local
d 755 0:0 usr/local/libexec
f 755 0:0 usr/local/libexec/$NAME
d 755 0:0 usr/local/share
d 755 0:0 usr/local/share/man
d 755 0:0 usr/local/share/man/man8
f 644 0:0 usr/local/share/man/man8/$NAME.8
EOF
	cmp "$LOADER" "$DEST/usr/local/libexec/$NAME"
	cmp "$PROJECT_ROOT/$NAME.8" "$DEST/usr/local/share/man/man8/$NAME.8"
	# With the default PREFIX the rule is the shipped file, unchanged.
	cmp "$PROJECT_ROOT/sudoers.d/$NAME" "$DEST/etc/sudoers.d/$NAME"
	visudo -cOPf "$DEST/etc/sudoers.d/$NAME"
}

@test "PREFIX applies to every installed path and to the command in the sudo rule" {
	local rule="$DEST/etc/sudoers.d/$NAME"
	make_in_tree install DESTDIR="$DEST" PREFIX=/opt/jail-ai
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	diff -u - <(tree "$DEST" | grep '^f') <<EOF
f 440 0:0 etc/sudoers.d/$NAME
f 755 0:0 opt/jail-ai/libexec/$NAME
f 644 0:0 opt/jail-ai/share/man/man8/$NAME.8
EOF
	# The rule names the new path; nothing else moved.
	[[ $(grep -c "/opt/jail-ai/libexec/$NAME\$" "$rule") -eq 1 ]]
	[[ $(grep -v '^#' "$rule" | grep -c /usr/local) -eq 0 ]]
	diff -u "$PROJECT_ROOT/sudoers.d/$NAME" <(sed "s|/opt/jail-ai/libexec/|/usr/local/libexec/|g" "$rule")
	visudo -cOPf "$rule"
}

@test "make uninstall removes exactly what install put there: neighbours and directories stay" {
	mkdir -p "$DEST/etc/sudoers.d" "$DEST/usr/local/libexec"
	echo "# someone else's" >"$DEST/etc/sudoers.d/other"
	echo "someone else's" >"$DEST/usr/local/libexec/other"
	local before
	before=$(tree "$DEST")
	make_in_tree install DESTDIR="$DEST"
	[[ $status -eq 0 ]]
	make_in_tree uninstall DESTDIR="$DEST"
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ $output == "removed $DEST/etc/sudoers.d/$NAME, $DEST/usr/local/libexec/$NAME, $DEST/usr/local/share/man/man8/$NAME.8" ]]
	diff -u <(echo "$before") <(tree "$DEST" | grep -v -e ' usr/local/share')
	diff -u - <(tree "$DEST/usr/local/share") <<EOF
d 755 0:0 man
d 755 0:0 man/man8
EOF
	# A second uninstall finds nothing to remove and is no error.
	make_in_tree uninstall DESTDIR="$DEST"
	[[ $status -eq 0 ]]
}

@test "install leaves the modes of existing directories alone" {
	mkdir -p "$DEST/etc/sudoers.d" "$DEST/usr/local/libexec"
	chmod 0750 "$DEST/etc/sudoers.d"
	chmod 0711 "$DEST/usr/local/libexec"
	make_in_tree install DESTDIR="$DEST"
	[[ $status -eq 0 ]]
	[[ $(stat -c %a "$DEST/etc/sudoers.d") == 750 ]]
	[[ $(stat -c %a "$DEST/usr/local/libexec") == 711 ]]
}

@test "install refuses a PREFIX that sudo and sudo-rs reject (a relative one) and leaves nothing, not even a temporary file" {
	local tmp="$BATS_TEST_TMPDIR/tmp"
	mkdir "$tmp"
	run --separate-stderr env TMPDIR="$tmp" PATH="$SUDO_RS_DIR:$PATH" \
		make -C "$PROJECT_ROOT" --no-print-directory install DESTDIR="$DEST" PREFIX=opt/jail-ai
	[[ $status -eq 2 ]]
	[[ -z $output ]]
	# Each says why, and which of them refused.
	[[ $stderr == *": expected a fully-qualified path name"* ]]
	[[ $stderr == *": expected command but found opt"* ]]
	grep -qE "^check-sudo-rule: classic sudo [^ ]+ \(.*visudo -c\) rejects the rule \($tmp/" <<<"$stderr"
	grep -qE "^check-sudo-rule: sudo-rs [^ ]+ \($SUDO_RS, a parse run\) rejects the rule \($tmp/" <<<"$stderr"
	grep -qx "install: the sudo rule for PREFIX 'opt/jail-ai' is refused (above); nothing was installed" <<<"$stderr"
	[[ -z $(tree "$DEST") ]]
	[[ -z $(tree "$tmp") ]]
}

@test "install refuses a rule that only sudo-rs rejects (a classic-only Defaults setting) and installs nothing" {
	local copy="$BATS_TEST_TMPDIR/project" file
	# A copy of what install uses, with a drop-in that sudo-rs 0.2.5
	# rejects and classic sudo accepts: a setting sudo-rs does not know.
	mkdir -p "$copy/sudoers.d"
	for file in Makefile mk scripts "$NAME" "$NAME.8"; do
		cp -a "$PROJECT_ROOT/$file" "$copy/"
	done
	{
		cat "$PROJECT_ROOT/sudoers.d/$NAME"
		echo "Defaults!/usr/local/libexec/$NAME closefrom=3"
	} >"$copy/sudoers.d/$NAME"
	# -o: the loader counts as built; nothing is compiled in the copy.
	run --separate-stderr env PATH="$SUDO_RS_DIR:$PATH" \
		make -C "$copy" --no-print-directory -o "$NAME" install DESTDIR="$DEST"
	[[ $status -eq 2 ]]
	[[ -z $output ]]
	[[ $stderr == *"unknown setting: 'closefrom'"* ]]
	[[ $stderr != *"classic sudo"* ]]
	grep -qE "^check-sudo-rule: sudo-rs [^ ]+ \($SUDO_RS, a parse run\) rejects the rule " <<<"$stderr"
	grep -qx "install: the sudo rule for PREFIX '/usr/local' is refused (above); nothing was installed" <<<"$stderr"
	[[ -z $(tree "$DEST") ]]
}

@test "install checks the rule with sudo-rs's visudo where that runs" {
	local fake="$BATS_TEST_TMPDIR/bin"
	mkdir "$fake"
	# A stand-in for a visudo of sudo-rs that runs (Debian 13's needs a
	# newer C library): it answers -V as that one does and notes each call.
	# shellcheck disable=SC2016 # the stand-in's own $1, not ours
	printf '%s\n' '#!/bin/sh' \
		"echo \"\$*\" >>'$fake/calls'" \
		'[ "$1" = -V ] && echo "visudo version 0.2.5"' \
		'exit 0' >"$fake/visudo-rs"
	chmod 0755 "$fake/visudo-rs"
	run --separate-stderr env PATH="$fake:$SUDO_RS_DIR:$PATH" \
		make -C "$PROJECT_ROOT" --no-print-directory install DESTDIR="$DEST"
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ ${lines[0]} =~ $CHECKED_BOTH ]]
	# Once on the rendered rule, once on the placed copy; as root, with
	# the owner and mode checks.
	[[ $(grep -c "^-c -O -P -f /" "$fake/calls") -eq 2 ]]
}

@test "install refuses a PREFIX whose characters would change the sudo rule's meaning, and leaves nothing" {
	local prefix
	for prefix in "/opt/jail ai" "/opt/jail#ai" "/opt/jail,ai" "/opt/jail:ai" "/opt/jail=ai" \
		'/opt/jail\ai' '/opt/jail*' "/opt/jail|ai" "/opt/jail&ai"; do
		make_in_tree install DESTDIR="$DEST" "PREFIX=$prefix"
		[[ $status -eq 2 ]] || { echo "PREFIX=$prefix: status $status" >&2; return 1; }
		[[ -z $output ]]
		grep -qxF "install: PREFIX may hold only letters, digits and . _ + / - (it becomes part of a sudo rule): '$prefix'" <<<"$stderr"
		[[ -z $(tree "$DEST") ]]
	done
	# A quote breaks the shell's parse before anything runs.
	make_in_tree install DESTDIR="$DEST" "PREFIX=/opt/jail'ai"
	[[ $status -eq 2 ]]
	[[ -z $(tree "$DEST") ]]
}

@test "a real make install and make uninstall round-trip: both sudo implementations read the rule without a word and let a member of jail-ai filter its own cgroup" {
	local file dir rule=/etc/sudoers.d/$NAME loader=/usr/local/libexec/$NAME member="$TAG-m" cg impl
	lock_system
	for file in "${REAL_FILES[@]}"; do
		[[ ! -e $file ]] || { cannot_run "$file exists: an installed copy is not touched"; return; }
	done
	for dir in /usr/local/libexec /usr/local/share/man /usr/local/share/man/man8; do
		[[ -d $dir ]] || _made_dirs+=("$dir")
	done
	visudo -c >/dev/null

	_installed_for_real=1
	make_in_tree install
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ ${lines[0]} =~ $CHECKED_BOTH ]]
	[[ ${lines[1]} == "installed $loader, $rule, /usr/local/share/man/man8/$NAME.8" ]]
	if getent group jail-ai >/dev/null; then
		[[ ${#lines[@]} -eq 2 ]]
	else
		[[ ${lines[2]} == "note: group jail-ai does not exist, so nobody may run the loader yet;" ]]
	fi
	[[ $(stat -c '%a %U %G' $loader) == "755 root root" ]]
	[[ $(stat -c '%a %U %G' "$rule") == "440 root root" ]]
	[[ $(stat -c '%a %U %G' /usr/local/share/man/man8/$NAME.8) == "644 root root" ]]
	cmp "$LOADER" $loader
	cmp "$PROJECT_ROOT/sudoers.d/$NAME" "$rule"
	[[ ! -e $rule.new ]]
	# sudo reads the rule (its name has no "." or "~") and finds it valid.
	run visudo -c
	[[ $status -eq 0 ]]
	grep -qx "$rule: parsed OK" <<<"$output"

	# A member of jail-ai (a throwaway user; the group too, if it is
	# missing), through each sudo: the listing holds the rule and no
	# complaint, and a request for its own cgroup is filtered.
	if ! getent group jail-ai >/dev/null; then
		groupadd --system jail-ai
		_made_group=jail-ai
	fi
	useradd -M -N -g nogroup -G jail-ai -s /usr/sbin/nologin "$member"
	_made_user=$member
	cg=$(make_cgroup member)
	chown "$member" "$cg"
	for impl in "$SUDO_RS" sudo; do
		run --separate-stderr runuser -u "$member" -- "$impl" -n -l </dev/null
		[[ $status -eq 0 ]]
		[[ -z $stderr ]]
		grep -qxE "    \(root\) (NOSETENV: )?NOPASSWD: $loader" <<<"$output"
		run_capture runuser -u "$member" -- "$impl" -n $loader --cgroup "$cg" --deny 192.0.2.1 </dev/null
		assert_reply "$cg" 1 0
		[[ $(our_programs "$cg") -eq 6 ]]
	done

	make_in_tree uninstall
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	for file in "${REAL_FILES[@]}" "$rule.new"; do
		[[ ! -e $file ]]
	done
	visudo -c >/dev/null
	_installed_for_real=''
	# Without the rule, sudo-rs refuses the member, and says nothing else.
	run --separate-stderr runuser -u "$member" -- "$SUDO_RS" -n $loader --cgroup "$cg" --deny 192.0.2.1 </dev/null
	[[ $status -eq 1 ]]
	[[ $stderr == "sudo-rs: I'm sorry $member. I'm afraid I can't do that" ]]
}

@test "make group creates group jail-ai only when asked, and says so when it exists" {
	lock_system
	if getent group jail-ai >/dev/null; then
		make_in_tree group
		[[ $status -eq 0 ]]
		[[ ${lines[0]} == "group jail-ai exists" ]]
		return
	fi
	make_in_tree group
	_made_group=jail-ai
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	[[ ${lines[0]} == "created group jail-ai" ]]
	[[ ${lines[1]} == "add each caller with: usermod -aG jail-ai USER (effective at their next login)" ]]
	[[ $(getent group jail-ai | cut -d: -f3) -lt 1000 ]] # a system group
	make_in_tree group
	[[ $status -eq 0 ]]
	[[ ${lines[0]} == "group jail-ai exists" ]]
}

@test "the man page lints clean with mandoc and groff, and documents every option and every exit status of README.md" {
	local page="$PROJECT_ROOT/$NAME.8" option section
	command -v mandoc >/dev/null || { cannot_run "mandoc is missing"; return; }
	command -v groff >/dev/null || { cannot_run "groff is missing"; return; }
	run mandoc -T lint -W warning "$page"
	[[ $status -eq 0 ]]
	[[ -z $output ]]
	run groff -ww -z -mandoc "$page"
	[[ $status -eq 0 ]]
	[[ -z $output ]]

	# Every exit status of README.md's table, and no other.
	local codes documented
	codes=$(sed -nE 's/^\| ([0-9]+) \|.*/\1/p' "$PROJECT_ROOT/README.md")
	documented=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$page" | sed -nE 's/^\.It ([0-9]+)$/\1/p')
	[[ $(paste -sd ' ' <<<"$codes") == "0 64 65 66 71 77" ]]
	[[ $codes == "$documented" ]]
	for option in cgroup deny help version; do
		grep -q "^\.It Fl -$option\b" "$page"
	done
	for section in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO" "SECURITY CONSIDERATIONS"; do
		grep -qx "\.Sh $section" "$page"
	done
}

#!/usr/bin/env bats
# make install / uninstall / group (mk/install.mk) and the man page.
#
# Most tests install into a DESTDIR of their own. One installs for real,
# into /usr/local and /etc/sudoers.d, and uninstalls again; it and the
# `make group` test hold a lock, so two runs of this suite never meet, and
# they refuse to touch a copy that was installed before them.

bats_require_minimum_version 1.5.0
load helpers

NAME=jail-ai-ebpf-loader
REAL_FILES=("/usr/local/libexec/$NAME" "/etc/sudoers.d/$NAME" "/usr/local/share/man/man8/$NAME.8")
LOCK=/run/lock/jail-ai-ebpf-loader-install-test

setup() {
	[[ $(id -u) -eq 0 ]] || { cannot_run "needs root"; return; }
	[[ -x $LOADER ]] || { cannot_run "loader not built (run make)"; return; }
	command -v visudo >/dev/null || { cannot_run "visudo is missing"; return; }
	DEST="$BATS_TEST_TMPDIR/dest"
	mkdir "$DEST"
	_installed_for_real='' _made_dirs=() _made_group=''
}

teardown() {
	local dir i
	if [[ -n ${_installed_for_real:-} ]]; then
		rm -f "${REAL_FILES[@]}" /etc/sudoers.d/$NAME.new
	fi
	for ((i = ${#_made_dirs[@]} - 1; i >= 0; i--)); do
		rmdir "${_made_dirs[$i]}" 2>/dev/null
	done
	[[ -n ${_made_group:-} ]] && groupdel "$_made_group"
	return 0
}

# make_in_tree ARGS...: make in the project, stdout in $output, stderr in
# $stderr.
make_in_tree() {
	run --separate-stderr make -C "$PROJECT_ROOT" --no-print-directory "$@"
}

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
	[[ $output == "installed $DEST/usr/local/libexec/$NAME, $DEST/etc/sudoers.d/$NAME, $DEST/usr/local/share/man/man8/$NAME.8" ]]
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
	# The Defaults line and the rule name the new path; nothing else moved.
	[[ $(grep -c "/opt/jail-ai/libexec/$NAME " "$rule") -eq 2 ]]
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

@test "install refuses a PREFIX that visudo rejects (a relative one) and leaves nothing, not even a temporary file" {
	local tmp="$BATS_TEST_TMPDIR/tmp"
	mkdir "$tmp"
	run --separate-stderr env TMPDIR="$tmp" \
		make -C "$PROJECT_ROOT" --no-print-directory install DESTDIR="$DEST" PREFIX=opt/jail-ai
	[[ $status -eq 2 ]]
	[[ -z $output ]]
	[[ $stderr == *": expected a fully-qualified path name"* ]]
	grep -qx "install: visudo rejects the sudo rule for PREFIX 'opt/jail-ai'; nothing was installed" <<<"$stderr"
	[[ -z $(tree "$DEST") ]]
	[[ -z $(tree "$tmp") ]]
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

@test "a real make install and make uninstall round-trip, and visudo -c stays valid throughout" {
	local file dir rule=/etc/sudoers.d/$NAME
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
	[[ ${lines[0]} == "installed /usr/local/libexec/$NAME, $rule, /usr/local/share/man/man8/$NAME.8" ]]
	if getent group jail-ai >/dev/null; then
		[[ ${#lines[@]} -eq 1 ]]
	else
		[[ ${lines[1]} == "note: group jail-ai does not exist, so nobody may run the loader yet;" ]]
	fi
	[[ $(stat -c '%a %U %G' /usr/local/libexec/$NAME) == "755 root root" ]]
	[[ $(stat -c '%a %U %G' "$rule") == "440 root root" ]]
	[[ $(stat -c '%a %U %G' /usr/local/share/man/man8/$NAME.8) == "644 root root" ]]
	cmp "$LOADER" /usr/local/libexec/$NAME
	[[ ! -e $rule.new ]]
	# sudo reads the rule (its name has no "." or "~") and finds it valid.
	run visudo -c
	[[ $status -eq 0 ]]
	grep -qx "$rule: parsed OK" <<<"$output"
	grep -qF "%jail-ai ALL = (root) NOPASSWD: NOSETENV: /usr/local/libexec/$NAME ^--cgroup" "$rule"

	make_in_tree uninstall
	[[ $status -eq 0 ]]
	[[ -z $stderr ]]
	for file in "${REAL_FILES[@]}" "$rule.new"; do
		[[ ! -e $file ]]
	done
	visudo -c >/dev/null
	_installed_for_real=''
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
	[[ $(wc -w <<<"$codes") -ge 7 ]]
	[[ $codes == "$documented" ]]
	for option in cgroup deny help version; do
		grep -q "^\.It Fl -$option\b" "$page"
	done
	for section in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO" "SECURITY CONSIDERATIONS"; do
		grep -qx "\.Sh $section" "$page"
	done
}

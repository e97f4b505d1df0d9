#!/usr/bin/env bats
# The Debian package (make deb, debian/, mk/deb.mk): what it holds and
# lintian's verdict, then real installs on this machine with apt-get, as
# test/install.bats does with make install: the group jail-ai, the sudo rule
# checked by classic sudo and sudo-rs (test/sudo-rs.bash, put in the PATH
# that apt gives dpkg) before postinst places it, a member filtering its own
# cgroup through each, remove (the rule goes first; sudo stays valid), purge
# (the group goes if nobody is in it), and a rule sudo-rs refuses, which is
# never placed.
#
# setup_file builds the package once, with make deb, into a directory of the
# suite's own. The tests that install hold the lock of test/install.bats
# (both place /etc/sudoers.d/jail-ai-ebpf-loader and make the group
# jail-ai), and refuse to run on a machine that already has the package, the
# group jail-ai or any path the package takes; teardown purges the package
# and removes the users, the group and the files a test made, also when it
# fails, and teardown_file does the same once more.

bats_require_minimum_version 1.5.0
# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=sudo-rs.bash
source "$BATS_TEST_DIRNAME/sudo-rs.bash"

NAME=jail-ai-ebpf-loader
LOCK=/run/lock/jail-ai-ebpf-loader-install-test
RULE=/etc/$NAME/sudoers
DROPIN=/etc/sudoers.d/$NAME
LIBEXEC=/usr/libexec/$NAME
# What the package's install may create, so what must not be there before.
TAKEN_PATHS=("$LIBEXEC" "$DROPIN" "$DROPIN.new" "$DROPIN.dpkg-old" "/etc/$NAME"
	/usr/bin/jail-ai-policy /usr/sbin/jail-ai-refusals "/usr/share/$NAME" "/usr/share/doc/$NAME"
	"/usr/lib/sysusers.d/$NAME.conf" "/usr/share/man/man8/$NAME.8.gz")
# A line classic sudo takes and sudo-rs 0.2.5 refuses (a setting it does not
# know), as in test/install.bats.
REFUSED_LINE="Defaults!$LIBEXEC closefrom=3"

setup_file() {
	export DEB_CANNOT_RUN='' DEB_BUILD_FAILED=''
	local tool
	if [[ $(id -u) -ne 0 ]]; then
		DEB_CANNOT_RUN="needs root"
		return
	fi
	for tool in dpkg-buildpackage dpkg-checkbuilddeps lintian apt-get git; do
		command -v "$tool" >/dev/null || { DEB_CANNOT_RUN="$tool is missing (make deps)"; return; }
	done
	if ! dpkg-checkbuilddeps "$PROJECT_ROOT/debian/control" 2>"$BATS_FILE_TMPDIR/builddeps"; then
		DEB_CANNOT_RUN="$(cat "$BATS_FILE_TMPDIR/builddeps") (make deps)"
		return
	fi
	export PKG_VERSION PKG_ARCH DEB_OUT="$BATS_FILE_TMPDIR/out" DEB_SRC="$BATS_FILE_TMPDIR/deb-src"
	PKG_VERSION=$(dpkg-parsechangelog -l "$PROJECT_ROOT/debian/changelog" -S Version)
	PKG_ARCH=$(dpkg-architecture -q DEB_HOST_ARCH)
	export DEB="$DEB_OUT/${NAME}_${PKG_VERSION}_$PKG_ARCH.deb"
	export CHANGES="$DEB_SRC/${NAME}_${PKG_VERSION}_$PKG_ARCH.changes"
	# The suite's own build directories, so that a `make deb` run beside it
	# does not change the files under test.
	make -C "$PROJECT_ROOT" --no-print-directory deb DEB_SRC="$DEB_SRC" DEB_DIR="$DEB_OUT" \
		>"$BATS_FILE_TMPDIR/build.log" 2>&1 || DEB_BUILD_FAILED=1
}

teardown_file() {
	[[ -n ${DEB_CANNOT_RUN:-} ]] && return 0
	exec {lock_fd}>"$LOCK"
	flock -w 300 "$lock_fd"
	sweep
}

setup() {
	[[ -z $DEB_CANNOT_RUN ]] || { cannot_run "$DEB_CANNOT_RUN"; return; }
	if [[ -n $DEB_BUILD_FAILED ]]; then
		cat "$BATS_FILE_TMPDIR/build.log" >&2
		echo "make deb failed (above)" >&2
		return 1
	fi
	_made_users=()
}

teardown() {
	local user
	for user in "${_made_users[@]}"; do
		userdel "$user" 2>/dev/null
	done
	sweep
	remove_sudo_rs
	cleanup_made
	return 0
}

# The marker that this run found the machine clean and so may remove
# whatever the package, or a test, left there.
CLAIMED="${BATS_RUN_TMPDIR:-/tmp}/deb-bats-claimed"

# claim_system: hold the lock, refuse a machine that has any of the
# package's things already, then sudo-rs for the test.
claim_system() {
	local path
	exec {lock_fd}>"$LOCK"
	flock -w 300 "$lock_fd"
	if dpkg-query -W -f='${db:Status-Abbrev}' "$NAME" 2>/dev/null | grep -qv '^un\|^$'; then
		cannot_run "the package $NAME is installed (or was, and is not purged): it is not touched"
		return
	fi
	if getent group jail-ai >/dev/null; then
		cannot_run "the group jail-ai exists: it is not touched"
		return
	fi
	for path in "${TAKEN_PATHS[@]}"; do
		[[ ! -e $path && ! -L $path ]] || { cannot_run "$path exists: it is not touched"; return; }
	done
	: >"$CLAIMED"
	install_sudo_rs
	visudo -c >/dev/null
}

# sweep: once this run has claimed the machine, purge the package and remove
# everything it or a test made (the group included: it was not there).
sweep() {
	[[ -e $CLAIMED ]] || return 0
	if dpkg-query -W -f='${db:Status-Abbrev}' "$NAME" 2>/dev/null | grep -qv '^un\|^$'; then
		DEBIAN_FRONTEND=noninteractive dpkg --purge "$NAME" >/dev/null 2>&1 ||
			dpkg --purge --force-remove-reinstreq "$NAME" >/dev/null 2>&1
	fi
	rm -f "$DROPIN" "$DROPIN.new" "$DROPIN.dpkg-old"
	rm -rf "/etc/${NAME:?}"
	getent group jail-ai >/dev/null && groupdel jail-ai
	rm -f "$CLAIMED"
	return 0
}

# apt_get ARGS...: apt-get, quiet and without questions; dpkg, and so the
# maintainer scripts, get sudo-rs in PATH (apt sets that PATH from
# DPkg::Path), and no pty (whose lines end in CR). stdout and stderr in
# $output.
apt_get() {
	run env DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 -o DPkg::Use-Pty=0 \
		-o "DPkg::Path=$SUDO_RS_DIR:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
}

# with_sudo_rs COMMAND...: COMMAND with sudo-rs in PATH; output in $output.
with_sudo_rs() {
	run env DEBIAN_FRONTEND=noninteractive PATH="$SUDO_RS_DIR:$PATH" "$@"
}

# The line postinst prints when both implementations accepted the rule.
PLACED_BOTH="^$NAME: checked the sudo rule with classic sudo [0-9][^,]*, sudo-rs [0-9.]+; placed it at $DROPIN\$"

# refute COMMAND...: fails if COMMAND succeeds (a bare "! COMMAND" would
# not fail a bats test).
refute() {
	if "$@"; then
		echo "unexpected success: $*" >&2
		return 1
	fi
}

status_of() { dpkg-query -W -f='${Status}' "$NAME" 2>/dev/null; }

# sudo_is_valid: classic sudo's visudo and sudo-rs read the whole
# configuration without a complaint (sudo-rs prints every line it cannot
# parse on stderr, and a listing for root parses everything).
sudo_is_valid() {
	visudo -c >/dev/null
	run --separate-stderr "$SUDO_RS" -n -l </dev/null
	[[ $status -eq 0 && -z $stderr ]] || { echo "sudo-rs: $status: $stderr" >&2; return 1; }
}

# The shipped conffile: debian/sudoers.header, then the project's drop-in
# with the command at /usr/libexec.
expected_rule() {
	cat "$PROJECT_ROOT/debian/sudoers.header"
	sed "s|/usr/local/libexec/$NAME|$LIBEXEC|g" "$PROJECT_ROOT/sudoers.d/$NAME"
}

@test "make deb builds NAME_VERSION_ARCH.deb with dpkg-buildpackage from a copy of the tree, and leaves the tree as it was" {
	[[ -f $DEB ]]
	[[ $(tail -n 1 "$BATS_FILE_TMPDIR/build.log") == "built $DEB_OUT/${NAME}_${PKG_VERSION}_$PKG_ARCH.deb" ]]
	# The copy and all that dpkg-buildpackage wrote beside it.
	[[ -d $DEB_SRC/$NAME-$PKG_VERSION ]]
	local file
	for file in "${NAME}_$PKG_VERSION.dsc" "${NAME}_$PKG_VERSION.tar.xz" "${NAME}_${PKG_VERSION}_$PKG_ARCH.changes" \
		"${NAME}_${PKG_VERSION}_$PKG_ARCH.buildinfo" "${NAME}_${PKG_VERSION}_$PKG_ARCH.deb" "$NAME-dbgsym_${PKG_VERSION}_$PKG_ARCH.deb"; do
		[[ -f $DEB_SRC/$file ]] || { echo "missing: $file" >&2; return 1; }
	done
	cmp "$DEB" "$DEB_SRC/${NAME}_${PKG_VERSION}_$PKG_ARCH.deb"
	# Nothing in the source tree or beside it: no debhelper state, no
	# products in the directory above.
	for file in debian/tmp debian/.debhelper debian/files debian/$NAME \
		debian/debhelper-build-stamp debian/$NAME.substvars; do
		[[ ! -e $PROJECT_ROOT/$file ]] || { echo "left in the tree: $file" >&2; return 1; }
	done
	refute compgen -G "$PROJECT_ROOT/../${NAME}_*"
	refute compgen -G "$PROJECT_ROOT/../$NAME-dbgsym_*"
	# The native source holds the tree's files, not its build products.
	run tar -tJf "$DEB_SRC/${NAME}_$PKG_VERSION.tar.xz"
	[[ $status -eq 0 ]]
	grep -qx "$NAME-$PKG_VERSION/loader.c" <<<"$output"
	grep -qx "$NAME-$PKG_VERSION/debian/rules" <<<"$output"
	refute grep -E "^$NAME-$PKG_VERSION/(build/|$NAME\$|\.git/)" <<<"$output"
	# The version is the loader's own (debian/rules checks it too).
	dpkg-deb -x "$DEB" "$BATS_TEST_TMPDIR/root"
	[[ $("$BATS_TEST_TMPDIR/root$LIBEXEC" --version) == "$NAME $PKG_VERSION" ]]
}

@test "lintian finds no error and no warning in the .changes, the .dsc and both binary packages; every override says why" {
	run --separate-stderr lintian --pedantic --display-info --display-experimental --show-overrides "$CHANGES"
	printf '%s\n' "$output" >&2
	[[ $status -eq 0 ]]
	refute grep -E '^[EW]: ' <<<"$output"
	# Every override in debian/ is given a reason: a comment above it.
	local file
	for file in "$PROJECT_ROOT"/debian/*.lintian-overrides "$PROJECT_ROOT/debian/source/lintian-overrides"; do
		awk -v file="$file" '/^#/ { reason = 1; next } /^$/ { reason = 0; next }
			!reason { print file ": an override without a reason: " $0; bad = 1 }
			END { exit bad }' "$file"
	done
}

@test "dpkg-deb -c: exactly the expected paths, modes and owners; nothing in /etc/sudoers.d; each file is the project's" {
	run dpkg-deb -c "$DEB"
	[[ $status -eq 0 ]]
	diff -u - <(awk '{ print $1, $2, $6 }' <<<"$output" | LC_ALL=C sort -k 3) <<EOF
drwxr-xr-x root/root ./
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/$NAME/
-rw-r--r-- root/root ./etc/$NAME/sudoers
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/jail-ai-policy
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/sysusers.d/
-rw-r--r-- root/root ./usr/lib/sysusers.d/$NAME.conf
drwxr-xr-x root/root ./usr/libexec/
-rwxr-xr-x root/root ./usr/libexec/$NAME
drwxr-xr-x root/root ./usr/sbin/
-rwxr-xr-x root/root ./usr/sbin/jail-ai-refusals
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/$NAME/
-rw-r--r-- root/root ./usr/share/doc/$NAME/README.Debian
-rw-r--r-- root/root ./usr/share/doc/$NAME/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/$NAME/copyright
drwxr-xr-x root/root ./usr/share/$NAME/
-rwxr-xr-x root/root ./usr/share/$NAME/check-sudo-rule
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/
-rw-r--r-- root/root ./usr/share/lintian/overrides/$NAME
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/$NAME.8.gz
EOF
	local root="$BATS_TEST_TMPDIR/root"
	dpkg-deb -x "$DEB" "$root"
	# The rule: the project's, for /usr/libexec, under the package's header.
	diff -u <(expected_rule) "$root$RULE"
	[[ $(grep -v '^#' "$root$RULE" | grep -v '^$') == "%jail-ai ALL = (root) NOPASSWD: NOSETENV: $LIBEXEC" ]]
	# The scripts are the project's, the interpreter named by its path.
	diff -u <(sed '1s|^#!/usr/bin/env python3$|#!/usr/bin/python3|' "$PROJECT_ROOT/scripts/jail-ai-policy") \
		"$root/usr/bin/jail-ai-policy"
	diff -u <(sed '1s|^#!/usr/bin/env python3$|#!/usr/bin/python3|' "$PROJECT_ROOT/scripts/jail-ai-refusals") \
		"$root/usr/sbin/jail-ai-refusals"
	diff -u <(sed '1s|^#!/usr/bin/env bash$|#!/bin/bash|' "$PROJECT_ROOT/scripts/check-sudo-rule") \
		"$root/usr/share/$NAME/check-sudo-rule"
	cmp "$PROJECT_ROOT/$NAME.8" <(zcat "$root/usr/share/man/man8/$NAME.8.gz")
	cmp "$PROJECT_ROOT/debian/$NAME.sysusers" "$root/usr/lib/sysusers.d/$NAME.conf"
	[[ $(grep -v '^#' "$root/usr/lib/sysusers.d/$NAME.conf") == "g jail-ai - -" ]]
	# A stripped, hardened PIE (dpkg-buildflags and the Makefile's flags).
	run file -b "$root$LIBEXEC"
	[[ $output == *"ELF 64-bit LSB pie executable"*", stripped"* ]]
	run readelf -d "$root$LIBEXEC"
	grep -q 'BIND_NOW' <<<"$output"
}

@test "dpkg-deb -I: the fields, the dependencies (libseccomp2, libbpf1, sudo | sudo-rs, python3, iproute2, a systemd-sysusers), bpftool recommended, and the one conffile" {
	local field
	for field in "Package:$NAME" "Version:$PKG_VERSION" "Architecture:$PKG_ARCH" "Section:admin" "Priority:optional"; do
		[[ $(dpkg-deb -f "$DEB" "${field%%:*}") == "${field#*:}" ]] || { echo "$field" >&2; return 1; }
	done
	local depends
	depends=$(dpkg-deb -f "$DEB" Depends | sed 's/, /\n/g')
	printf '%s\n' "$depends" >&2
	grep -qx 'libseccomp2 (>= [^)]*)' <<<"$depends"
	grep -qx 'libbpf1 (>= [^)]*)' <<<"$depends"
	grep -qx 'libc6 (>= [^)]*)' <<<"$depends"
	grep -qx 'sudo | sudo-rs' <<<"$depends"
	grep -qx 'python3' <<<"$depends"
	grep -qx 'iproute2' <<<"$depends"
	grep -qx 'systemd | systemd-standalone-sysusers | systemd-sysusers' <<<"$depends"
	[[ $(wc -l <<<"$depends") -eq 7 ]]
	# jail-ai-refusals reads the refusal log with bpftool
	[[ $(dpkg-deb -f "$DEB" Recommends) == bpftool ]]
	# The conffile is the rule's source, outside /etc/sudoers.d.
	dpkg-deb -e "$DEB" "$BATS_TEST_TMPDIR/control"
	[[ $(cat "$BATS_TEST_TMPDIR/control/conffiles") == "$RULE" ]]
	# postinst: the group (sysusers) before the rule is placed.
	grep -q '^   systemd-sysusers .*jail-ai-ebpf-loader.conf$' "$BATS_TEST_TMPDIR/control/postinst"
	local script
	for script in postinst prerm postrm; do
		sh -n "$BATS_TEST_TMPDIR/control/$script"
	done
}

@test "apt-get install, remove and purge: the group, the rule that classic sudo and sudo-rs accepted, a member filtering its own cgroup through each; remove takes the rule first; purge keeps a group with a member and says so" {
	[[ -n $CG2 ]] || { cannot_run "no cgroup2 mount"; return; }
	claim_system
	local member="$TAG-m" cg impl file

	apt_get install "$DEB"
	printf '%s\n' "$output" >&2
	[[ $status -eq 0 ]]
	grep -qE "$PLACED_BOTH" <<<"$output"
	[[ $(status_of) == "install ok installed" ]]
	# The group: a system group, nobody in it.
	run getent group jail-ai
	[[ $output =~ ^jail-ai:x:([0-9]+):$ && ${BASH_REMATCH[1]} -lt 1000 ]]
	# The files, their modes and owners; the placed rule is the conffile.
	[[ $(stat -c '%a %U %G' $LIBEXEC) == "755 root root" ]]
	[[ $(stat -c '%a %U %G' "$DROPIN") == "440 root root" ]]
	[[ $(stat -c '%a %U %G' "$RULE") == "644 root root" ]]
	cmp "$RULE" "$DROPIN"
	diff -u <(expected_rule) "$RULE"
	[[ ! -e $DROPIN.new && ! -e $DROPIN.dpkg-old ]]
	[[ $(man -w $NAME) == /usr/share/man/man8/$NAME.8.gz ]]
	run jail-ai-policy --help
	[[ $status -eq 0 && $output == *"usage: jail-ai-policy"* ]]
	run jail-ai-refusals --help
	[[ $status -eq 0 && $output == *"usage: jail-ai-refusals --cgroup PATH"* ]]
	run visudo -c
	[[ $status -eq 0 ]]
	grep -qx "$DROPIN: parsed OK" <<<"$output"
	sudo_is_valid

	# A member of jail-ai (a throwaway user), through each sudo.
	useradd -M -N -g nogroup -G jail-ai -s /usr/sbin/nologin "$member"
	_made_users+=("$member")
	cg=$(make_cgroup member)
	chown "$member" "$cg"
	for impl in "$SUDO_RS" sudo; do
		run --separate-stderr runuser -u "$member" -- "$impl" -n -l </dev/null
		[[ $status -eq 0 && -z $stderr ]]
		grep -qxE "    \(root\) (NOSETENV: )?NOPASSWD: $LIBEXEC" <<<"$output"
		run --separate-stderr runuser -u "$member" -- "$impl" -n $LIBEXEC --help </dev/null
		[[ $status -eq 0 && -z $stderr && $output == *"jail-ai-ebpf-loader --help | --version"* ]]
		run_capture runuser -u "$member" -- "$impl" -n $LIBEXEC --cgroup "$cg" --deny 192.0.2.1 </dev/null
		assert_reply "$cg" 1 0
		[[ $(our_programs "$cg") -eq 6 ]]
	done

	# remove: the rule and the loader go; the conffile and the group stay;
	# sudo stays valid and refuses the member.
	apt_get remove "$NAME"
	printf '%s\n' "$output" >&2
	[[ $status -eq 0 ]]
	[[ $(status_of) == "deinstall ok config-files" ]]
	[[ ! -e $DROPIN && ! -e $DROPIN.new && ! -e $LIBEXEC ]]
	[[ -f $RULE ]]
	getent group jail-ai >/dev/null
	sudo_is_valid
	run --separate-stderr runuser -u "$member" -- "$SUDO_RS" -n $LIBEXEC --help </dev/null
	[[ $status -eq 1 && $stderr == "sudo-rs: I'm sorry $member. I'm afraid I can't do that" ]]
	run --separate-stderr runuser -u "$member" -- sudo -n $LIBEXEC --help </dev/null
	[[ $status -eq 1 && $stderr == "sudo: a password is required" ]]

	# purge: the conffile goes; the group has a member, so it stays, and
	# purge says who is in it.
	apt_get purge "$NAME"
	printf '%s\n' "$output" >&2
	[[ $status -eq 0 ]]
	grep -qx "$NAME: kept the group jail-ai, which still has members: $member (remove them, then: groupdel jail-ai)" <<<"$output"
	[[ -z $(status_of) || $(status_of) == "unknown ok not-installed" ]]
	for file in "${TAKEN_PATHS[@]}"; do
		[[ ! -e $file ]] || { echo "left after purge: $file" >&2; return 1; }
	done
	[[ $(getent group jail-ai | cut -d: -f4) == "$member" ]]
	sudo_is_valid
}

@test "a reinstall checks and places the rule again; purge removes the group jail-ai when nobody is in it, and everything else the package made" {
	claim_system
	local file
	apt_get install "$DEB"
	[[ $status -eq 0 ]]
	getent group jail-ai >/dev/null
	[[ -f $DROPIN ]]
	# A reinstall takes an upgrade's path (prerm upgrade, postinst
	# configure with the version installed): the same rule is checked and
	# placed again, and no copy of it is kept.
	apt_get install --reinstall "$DEB"
	printf '%s\n' "$output" >&2
	[[ $status -eq 0 ]]
	grep -qE "$PLACED_BOTH" <<<"$output"
	cmp "$RULE" "$DROPIN"
	[[ ! -e $DROPIN.dpkg-old ]]
	apt_get purge "$NAME"
	printf '%s\n' "$output" >&2
	[[ $status -eq 0 ]]
	grep -qx "$NAME: removed the group jail-ai, which had no members" <<<"$output"
	refute getent group jail-ai
	for file in "${TAKEN_PATHS[@]}"; do
		[[ ! -e $file ]] || { echo "left after purge: $file" >&2; return 1; }
	done
	[[ -z $(status_of) || $(status_of) == "unknown ok not-installed" ]]
	sudo_is_valid
}

@test "a rule that sudo-rs refuses is never placed: install fails to configure and leaves no drop-in; corrected, dpkg --configure places it" {
	claim_system
	# The admin's copy of the conffile, there before the package, with a
	# line that sudo-rs refuses; dpkg keeps it (--force-confold).
	mkdir -m 0755 "/etc/$NAME"
	{ expected_rule; echo "$REFUSED_LINE"; } >"$RULE"
	apt_get -o Dpkg::Options::=--force-confold install "$DEB"
	printf '%s\n' "$output" >&2
	[[ $status -ne 0 ]]
	# sudo-rs's own message, which check-sudo-rule names, and postinst's.
	grep -q "unknown setting: 'closefrom'" <<<"$output"
	grep -qE "^check-sudo-rule: sudo-rs [^ ]+ \($SUDO_RS, a parse run\) rejects the rule \($DROPIN.new\)$" <<<"$output"
	grep -qxF "$NAME: the sudo rule $RULE is refused (above, which names its copy $DROPIN.new: the same lines) and was not placed; correct it, then run: dpkg --configure $NAME" <<<"$output"
	refute grep 'classic sudo.*rejects' <<<"$output"
	[[ $(status_of) == "install ok half-configured" ]]
	[[ ! -e $DROPIN && ! -e $DROPIN.new ]]
	sudo_is_valid
	# The group was made before the rule was checked.
	getent group jail-ai >/dev/null

	# Corrected, the same rule is placed.
	sed -i "\|^$REFUSED_LINE\$|d" "$RULE"
	with_sudo_rs dpkg --configure "$NAME"
	printf '%s\n' "$output" >&2
	[[ $status -eq 0 ]]
	grep -qE "$PLACED_BOTH" <<<"$output"
	[[ $(status_of) == "install ok installed" ]]
	cmp "$RULE" "$DROPIN"
	[[ $(stat -c '%a %U %G' "$DROPIN") == "440 root root" ]]
	sudo_is_valid
}

@test "dpkg-reconfigure after an edit of the conffile: a refused edit leaves the accepted rule in place, a refused rule in place is removed, an accepted edit is placed, a deleted conffile withdraws the grant" {
	claim_system
	local accepted
	apt_get install "$DEB"
	[[ $status -eq 0 ]]
	accepted=$(cat "$DROPIN")

	# A refused edit: the rule in place, still accepted, stays.
	echo "$REFUSED_LINE" >>"$RULE"
	with_sudo_rs dpkg-reconfigure "$NAME"
	printf '%s\n' "$output" >&2
	[[ $status -ne 0 ]]
	grep -qx "$NAME: the rule already in place, $DROPIN, is still accepted and stays" <<<"$output"
	grep -qxF "$NAME: the sudo rule $RULE is refused (above, which names its copy $DROPIN.new: the same lines) and was not placed; correct it, then run: dpkg-reconfigure $NAME" <<<"$output"
	[[ $(cat "$DROPIN") == "$accepted" && ! -e $DROPIN.new ]]
	sudo_is_valid

	# The copy in /etc/sudoers.d edited by hand into one sudo-rs refuses
	# (it says so at every sudo call): refused too, so removed.
	echo "$REFUSED_LINE" >>"$DROPIN"
	with_sudo_rs dpkg-reconfigure "$NAME"
	printf '%s\n' "$output" >&2
	[[ $status -ne 0 ]]
	grep -qx "$NAME: the rule that was in place, $DROPIN, is refused too and was removed" <<<"$output"
	[[ ! -e $DROPIN && ! -e $DROPIN.new ]]
	sudo_is_valid

	# An accepted edit is placed.
	sed -i "\|^$REFUSED_LINE\$|d" "$RULE"
	echo "# the admin's note" >>"$RULE"
	with_sudo_rs dpkg-reconfigure "$NAME"
	[[ $status -eq 0 ]]
	grep -qE "$PLACED_BOTH" <<<"$output"
	cmp "$RULE" "$DROPIN"
	[[ $(tail -n 1 "$DROPIN") == "# the admin's note" ]]

	# Placed over a copy that differs, the old one is kept, where sudo
	# does not read it.
	echo "# another note" >>"$RULE"
	with_sudo_rs dpkg-reconfigure "$NAME"
	[[ $status -eq 0 ]]
	grep -qx "$NAME: the rule it replaces is kept as $DROPIN.dpkg-old" <<<"$output"
	[[ $(tail -n 1 "$DROPIN.dpkg-old") == "# the admin's note" ]]
	cmp "$RULE" "$DROPIN"
	sudo_is_valid

	# The conffile deleted: no grant (and dpkg does not bring it back).
	rm "$RULE"
	with_sudo_rs dpkg-reconfigure "$NAME"
	[[ $status -eq 0 ]]
	grep -qx "$NAME: $RULE is absent, so no sudo rule is in place (nobody may run the loader through sudo)" <<<"$output"
	[[ ! -e $DROPIN ]]
	sudo_is_valid

	apt_get purge "$NAME"
	[[ $status -eq 0 ]]
	[[ ! -e $DROPIN.dpkg-old && ! -e /etc/$NAME ]]
}

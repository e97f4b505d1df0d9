#!/usr/bin/env bats
# The sudo path as the package installs it, on a systemd host (the
# `make check-distro` guest, test/distro/helpers.bash): a member of group
# jail-ai filters a cgroup it owns, the cgroup of a command its own systemd
# runs (delegated to the user, as every user service and app of a desktop
# session is), through `sudo -n /usr/libexec/jail-ai-ebpf-loader` and
# through sudo-rs, which Debian 13 packages beside classic sudo; a
# non-member is refused by sudo; the journal holds sudo's log line with the
# whole request.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

setup_file() {
	[[ -x $LOADER ]] || return 0
	world_up
	add_user jtmember jail-ai
	add_user jtother
	linger jtmember
	linger jtother
}

teardown_file() {
	del_users
	world_down
}

setup() {
	[[ -x $LOADER ]] || cannot_run "the package did not install $LOADER"
	[[ -n ${WORLD:-} ]] || cannot_run "setup_file could not build the world"
}

# In the user's command: its own cgroup, the internet before, the loader's
# reply through SUDO, the internet and the host's link after.
# shellcheck disable=SC2016 # expanded by the user's sh
SELF_FILTER='cg=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
	echo "cgroup $cg"
	echo "before: $(busybox wget -qO- -T 20 http://$1/ 2>&1)"
	out=$($0 -n /usr/libexec/jail-ai-ebpf-loader --cgroup "$cg" --deny $1 --deny $2/24 --allow $2:53)
	echo "loader $? $out"
	echo "after: $(busybox wget -qO- -T 20 http://$1/ 2>&1)"
	echo "link: $(busybox wget -qO- -T 20 http://$2/ 2>&1)"'

@test "the package's rule: sudo -n -l and sudo-rs -l show a member exactly the loader, as root, without a password" {
	run as_user jtmember sudo -n -l
	echo "$output"
	[[ $status -eq 0 && $output == *"(root) NOSETENV: NOPASSWD: /usr/libexec/jail-ai-ebpf-loader"* ]]
	run_capture as_user jtmember sudo-rs -n -l
	echo "$output"
	[[ $status -eq 0 && -z $stderr && $output == *"(root) NOPASSWD: /usr/libexec/jail-ai-ebpf-loader"* ]]
	# shellcheck disable=SC2012 # a listing for the log, not parsed
	ls -l /etc/sudoers.d/jail-ai-ebpf-loader /usr/libexec/jail-ai-ebpf-loader | sed 's/^/# /' >&3
}

@test "a member of jail-ai filters the cgroup its own systemd gave it, through sudo -n: exit 0, one JSON line, its connections refused at once; sudo's journal line holds the whole request" {
	since=$(date +%s)
	run as_user jtmember sh -c "$SELF_FILTER" sudo "$SERVER" 198.51.100.0
	echo "$output"
	[[ $status -eq 0 ]]
	cg=${lines[0]#cgroup }
	[[ $cg == /sys/fs/cgroup/user.slice/user-$(id -u jtmember).slice/user@$(id -u jtmember).service/* ]]
	echo "# the member's command ran in $cg" >&3
	[[ ${lines[1]} == "before: internet" ]]
	[[ ${lines[2]} == "loader 0 {\"success\":true,\"cgroup\":\"$cg\",\"ipv4\":3,\"ipv6\":0,\"deny\":2,\"allow\":1,\"programs\":["* ]]
	[[ ${lines[3]} == "after: wget: can't connect to remote host ($SERVER): Operation not permitted" ]]
	[[ ${lines[4]} == "link: wget: can't connect to remote host (198.51.100.0): Operation not permitted" ]]
	# The filter went with the command's cgroup.
	programs=$(jq -r '.programs[]' <<<"${lines[2]#loader 0 }")
	# shellcheck disable=SC2086 # ids
	eventually freed $programs
	# sudo logs to syslog, which the journal holds on a Debian 13 host.
	journalctl --sync
	request="COMMAND=/usr/libexec/jail-ai-ebpf-loader --cgroup $cg --deny $SERVER --deny 198.51.100.0/24 --allow 198.51.100.0:53"
	# shellcheck disable=SC2317 # called by eventually
	logged() { journalctl -q -o cat --since "@$since" SYSLOG_IDENTIFIER=sudo | grep -F "jtmember : PWD=" | grep -qF "USER=root ; $request"; }
	eventually logged
	journalctl -q -o cat --since "@$since" SYSLOG_IDENTIFIER=sudo | sed 's/^/# journal: /' >&3
}

@test "the same through sudo-rs: exit 0, the JSON reply, connections refused; sudo-rs's journal line holds the whole request" {
	since=$(date +%s)
	run as_user jtmember sh -c "$SELF_FILTER" sudo-rs "$SERVER" 198.51.100.0
	echo "$output"
	[[ $status -eq 0 ]]
	cg=${lines[0]#cgroup }
	[[ ${lines[1]} == "before: internet" ]]
	[[ ${lines[2]} == "loader 0 {\"success\":true,\"cgroup\":\"$cg\","* ]]
	[[ ${lines[3]} == "after: wget: can't connect to remote host ($SERVER): Operation not permitted" ]]
	journalctl --sync
	logged() { journalctl -q -o cat --since "@$since" | grep -F "jtmember :" | grep -qF "COMMAND=/usr/libexec/jail-ai-ebpf-loader --cgroup $cg --deny $SERVER"; }
	eventually logged
	journalctl -q -o with-unit --since "@$since" | grep -F "COMMAND=" | sed 's/^/# journal: /' >&3
}

@test "a user outside jail-ai is refused by sudo and by sudo-rs with exit 1 and nothing on stdout; its traffic stays unfiltered" {
	# shellcheck disable=SC2016 # expanded by the user's sh
	script='cg=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
		$0 -n /usr/libexec/jail-ai-ebpf-loader --cgroup "$cg" --deny '"$SERVER"'
		echo "status $?"
		echo "after: $(busybox wget -qO- -T 20 http://'"$SERVER"'/ 2>&1)"'
	run as_user jtother sh -c "$script" sudo
	echo "$output"
	has "sudo: a password is required" "status 1" "after: internet"
	[[ ${#lines[@]} -eq 3 ]]
	run as_user jtother sh -c "$script" sudo-rs
	echo "$output"
	has "sudo-rs: I'm sorry jtother. I'm afraid I can't do that" "status 1" "after: internet"
	[[ ${#lines[@]} -eq 3 ]]
}

# Shared by the suites of test/distro/, which run only inside the
# `make check-distro` guest (scripts/check-distro): a Debian 13 VM booted with
# systemd, no network device, the product installed from its package. The
# guest is the test's own machine, so unlike test/*.bats these suites may
# shape its root network namespace, users and units; they still remove what
# they make. Source it as test/helpers.bash says.
#
# The guest's network (world_up): its root namespace is the host, with one
# uplink, a veth to the namespace $INET_NS that plays the internet
# (198.51.100.0/24, 2001:db8:100::/64 on the link; its web server 198.18.0.80
# and 2001:db8:200::80 off the link, on its lo, behind the host's default
# route, since the policy denies every prefix the host is on-link to; its DNS
# server on 198.51.100.2, the host's resolver in /etc/resolv.conf).

# shellcheck disable=SC2034 # the suites read what is set here (LOADER, ...)
bats_require_minimum_version 1.5.0

PROJECT_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
TEST_BIN="$PROJECT_ROOT/build/test"
LOADER=/usr/libexec/jail-ai-ebpf-loader
POLICY=$(command -v jail-ai-policy || echo "$PROJECT_ROOT/scripts/jail-ai-policy")
CG2=/sys/fs/cgroup
IMAGE=localhost/jt-busybox

HOST=198.51.100.1
HOST6=2001:db8:100::1
INET=198.51.100.2
INET6=2001:db8:100::2
SERVER=198.18.0.80
SERVER6=2001:db8:200::80
INET_NS=jt-inet
UPLINK=jt-uplink

# Bounded waits, generous for an emulated CPU (TCG): up to ~300 s.
eventually() {
	local i
	for ((i = 0; i < 1500; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# "Cannot run here" fails in CI, as in test/helpers.bash.
cannot_run() {
	if [[ "${CI:-}" == true ]]; then
		echo "cannot run in CI: $*" >&2
		return 1
	fi
	skip "$*"
}

# run_capture CMD...: like bats' run, with stderr apart in $stderr.
run_capture() {
	local errfile="$BATS_TEST_TMPDIR/stderr" flags="$-"
	set +eET
	output="$("$@" 2>"$errfile")"
	status=$?
	set "-$flags"
	stderr="$(<"$errfile")"
}

inet() { nsenter --net="/run/netns/$INET_NS" "$@"; }

wait_listening() { # RUNNER PROTO PORT: RUNNER is inet or env
	[[ -n $("$1" ss -Hln"${2:0:1}" "sport = :$3") ]]
}

# start_bg LOGNAME CMD...: a server in the background, its output in
# $WORLD/LOGNAME.log (CMD may start with "inet": in the internet), its PID in
# $BG_PIDS (world_up: ended by world_down) or the test's pids (ended by
# stop_test_servers). It keeps no descriptor of bats' beyond 0-2 (bats waits
# for every holder of its pipes).
start_bg() {
	local log=$1 pids=${BG_PIDS:-$BATS_TEST_TMPDIR/pids} fd
	shift
	# nsenter execs, so $! is the server itself.
	[[ $1 == inet ]] && set -- nsenter --net="/run/netns/$INET_NS" "${@:2}"
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			[[ $fd -gt 2 ]] && eval "exec $fd>&-"
		done
		exec "$@"
	) >"$WORLD/$log.log" 2>&1 </dev/null &
	echo $! >>"$pids"
}

stop_test_servers() {
	local pid
	[[ -f $BATS_TEST_TMPDIR/pids ]] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$BATS_TEST_TMPDIR/pids"
}

# world_up: the host's uplink, the internet, its web and DNS servers, the
# host's resolver; and the busybox image's root in $WORLD/rootfs.
world_up() {
	export WORLD="$BATS_FILE_TMPDIR/world"
	mkdir -p "$WORLD"/{rootfs/bin,rootfs/etc,rootfs/www,www-inet,www-8000,www-8001}
	: >"$WORLD/pids"
	local BG_PIDS="$WORLD/pids"
	ip netns add "$INET_NS"
	ip -n "$INET_NS" link set lo up
	ip link add "$UPLINK" type veth peer name eth0 netns "$INET_NS"
	ip addr add "$HOST/24" brd + dev "$UPLINK"
	ip addr add "$HOST6/64" dev "$UPLINK" nodad
	ip -n "$INET_NS" addr add "$INET/24" dev eth0
	ip -n "$INET_NS" addr add "$INET6/64" dev eth0 nodad
	ip link set "$UPLINK" up
	ip -n "$INET_NS" link set eth0 up
	ip route add default via "$INET"
	ip -6 route add default via "$INET6"
	ip -n "$INET_NS" addr add "$SERVER/32" dev lo
	ip -n "$INET_NS" addr add "$SERVER6/128" dev lo
	cp /etc/resolv.conf "$WORLD/resolv.conf.orig"
	echo "nameserver $INET" >/etc/resolv.conf

	echo internet >"$WORLD/www-inet/index.html"
	echo service-8000 >"$WORLD/www-8000/index.html"
	echo service-8001 >"$WORLD/www-8001/index.html"
	start_bg httpd-inet inet busybox httpd -f -p 80 -h "$WORLD/www-inet"
	start_bg dnsd inet python3 "$PROJECT_ROOT/test/dnsd.py" "$INET" internet.test="$SERVER"
	# Two services of the host, on every address of it.
	start_bg httpd-8000 busybox httpd -f -p 8000 -h "$WORLD/www-8000"
	start_bg httpd-8001 busybox httpd -f -p 8001 -h "$WORLD/www-8001"
	eventually wait_listening inet tcp 80
	eventually wait_listening inet udp 53
	eventually wait_listening env tcp 8000
	eventually wait_listening env tcp 8001

	# The containers' image: busybox-static and sockfamily alone.
	cp /bin/busybox "$WORLD/rootfs/bin/busybox"
	cp "$TEST_BIN/sockfamily" "$WORLD/rootfs/bin/sockfamily"
	local applet
	for applet in $(busybox --list); do
		[[ $applet == busybox ]] || ln -s busybox "$WORLD/rootfs/bin/$applet"
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$WORLD/rootfs/etc/passwd"
	echo 'root:x:0:' >"$WORLD/rootfs/etc/group"
	echo container >"$WORLD/rootfs/www/index.html"
}

world_down() {
	[[ -n ${WORLD:-} && -d $WORLD ]] || return 0
	local pid
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$WORLD/pids"
	[[ -f $WORLD/resolv.conf.orig ]] && cp "$WORLD/resolv.conf.orig" /etc/resolv.conf
	ip link del "$UPLINK" 2>/dev/null
	ip netns del "$INET_NS" 2>/dev/null
	rm -rf "$WORLD"
}

# add_user NAME [GROUP]: a user with a home and a login shell (and
# subordinate ids, as useradd gives them), recorded for del_users.
add_user() {
	useradd -m -s /bin/bash ${2:+-G "$2"} "$1"
	echo "$1" >>"$BATS_FILE_TMPDIR/users"
}

# del_users: every user add_user made in this file, with its processes,
# lingering manager and files.
del_users() {
	local user
	[[ -f $BATS_FILE_TMPDIR/users ]] || return 0
	while read -r user; do
		loginctl disable-linger "$user" 2>/dev/null
		loginctl terminate-user "$user" 2>/dev/null
		systemctl stop "user@$(id -u "$user").service" 2>/dev/null
		pkill -KILL -u "$user" 2>/dev/null
		userdel -r "$user" 2>/dev/null
	done <"$BATS_FILE_TMPDIR/users"
	rm -f "$BATS_FILE_TMPDIR/users"
}

# linger USER: enable lingering, so the user's systemd runs without a login,
# and wait until its manager and bus are up.
linger() {
	local uid
	uid=$(id -u "$1")
	loginctl enable-linger "$1"
	eventually systemctl -q is-active "user@$uid.service"
	eventually test -S "/run/user/$uid/bus"
}

# as_user USER CMD...: CMD in a transient service of USER's own systemd (as
# a command in a desktop or `systemd-run --user` session runs), with its
# stdout, stderr and exit status. Its cgroup is the user's own.
as_user() {
	local user=$1
	shift
	systemd-run --machine="$user@" --user --quiet --pipe --wait --collect \
		--working-directory="$(getent passwd "$user" | cut -d: -f6)" -- "$@"
}

# login_as USER CMD...: CMD through `su -l` (PAM: a logind session, as an
# ssh login gets, and the user's login environment), with its output and
# status.
login_as() {
	local user=$1
	shift
	su -l "$user" -s /bin/bash -c "$(printf '%q ' "$@")"
}

# In a container: "probe ADDR PORT: what nc said" for each ADDR PORT pair.
# shellcheck disable=SC2016 # expanded by the container's sh
PROBE='while [ $# -gt 1 ]; do echo "probe $1 $2: $(nc -w 3 "$1" "$2" </dev/null 2>&1)"; shift 2; done'

# refused_all: every probe line in $output says EPERM; prints the others.
refused_all() {
	local line bad=0
	while read -r line; do
		[[ $line == "probe "* ]] || continue
		[[ $line == *"Operation not permitted"* ]] || { echo "not refused: $line" >&2; bad=1; }
	done <<<"$output"
	return "$bad"
}

# has LINE...: $output has each of these exact lines.
has() {
	local line missing=0
	for line in "$@"; do
		grep -qxF -- "$line" <<<"$output" || { echo "no line \"$line\"" >&2; missing=1; }
	done
	return "$missing"
}

# cgroup_of PID: the cgroup v2 path of a process, as the host sees it (a
# container's own /proc/self/cgroup reads "0::/" in its cgroup namespace).
cgroup_of() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }

# freed ID...: none of these programs is loaded any more.
freed() {
	local id
	for id in "$@"; do
		! bpftool prog show id "$id" >/dev/null 2>&1 || return 1
	done
}

# loaded ID...: all of them are.
loaded() {
	local id
	for id in "$@"; do
		bpftool prog show id "$id" >/dev/null 2>&1 || return 1
	done
}

# check_reply JSON DENY ALLOW: a successful reply for that many rules;
# prints the program ids.
check_reply() {
	[[ $(jq -r .success <<<"$1") == true ]] || { echo "reply: $1" >&2; return 1; }
	[[ $(jq .deny <<<"$1") -eq $2 && $(jq .allow <<<"$1") -eq $3 ]] || { echo "reply: $1" >&2; return 1; }
	jq -r '.programs[]' <<<"$1"
}

# count_rules ARGV...: "DENY ALLOW" in a loader argv.
count_rules() {
	local deny=0 allow=0 arg
	for arg in "$@"; do
		case $arg in --deny) deny=$((deny + 1)) ;; --allow) allow=$((allow + 1)) ;; esac
	done
	echo "$deny $allow"
}

# recipe [POLICY-OPTION...] -- [RUN-ARG...]: README's recipe for the suite,
# test/distro/recipe-$RECIPE, run by "${RECIPE_AS[@]}" (empty: root). Leaves
# the run's output (the loader's reply taken off) in $output and $lines, the
# reply in $reply, the argv the recipe gave the loader in $argv and the
# program ids in $programs; checks that the argv names $RECIPE_CGROUP.
recipe() {
	local home counts
	home=$(getent passwd "${RECIPE_USER:-root}" | cut -d: -f6)
	rm -f "$home/argv"
	run_capture "${RECIPE_AS[@]}" "$PROJECT_ROOT/test/distro/recipe-$RECIPE" "$@"
	echo "$output"
	echo "$stderr" >&2
	reply=$(head -n 1 <<<"$output")
	output=$(tail -n +2 <<<"$output")
	mapfile -t lines <<<"$output"
	mapfile -t argv <"$home/argv"
	[[ ${argv[0]} == --cgroup && ${argv[1]} == "$RECIPE_CGROUP" ]]
	counts=$(count_rules "${argv[@]}")
	# shellcheck disable=SC2086 # two numbers
	programs=$(check_reply "$reply" $counts)
}

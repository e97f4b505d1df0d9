#!/usr/bin/env bats
# Real containers: Debian's podman (rootful, netavark, runc) runs the caller
# guide of README.md ("Callers"): scripts/jail-ai-policy prints the argv, the
# loader filters a parent cgroup, `podman run --cgroup-parent` starts the
# container below it, and real traffic shows what the container reaches.
#
# Safety (DESIGN.md §8, stricter here): podman and everything it makes live
# in a world of their own, made in setup_file and removed in teardown_file:
#   - network namespace $HOST_NS: podman's "host" (its bridges, NAT rules,
#     sysctls, slirp4netns, aardvark-dns, the host services the tests run);
#     its only link is a veth to $INET_NS, the containers' "internet"
#     (198.51.100.0/24, 2001:db8:100::/64), which has no route anywhere else;
#     its web server is off that link, on its own lo (198.18.0.80,
#     2001:db8:200::80), routed by the host's default route, since the
#     policy denies every prefix the host is on-link to;
#   - a mount namespace, kept by a bind mount in the suite's tmpdir, with its
#     own /run, /dev/shm, /var/lib and /etc/resolv.conf, so podman's state
#     (netavark, aardvark-dns, runc, locks, container netns, temporary
#     files, the blob info cache of /var/lib/containers/cache) is the
#     suite's own and the containers' resolver is the one the suite runs; an
#     overlay on /etc/containers, so podman's network configs land in the
#     tmpdir and the suite's settings are a drop-in there; and a
#     /dev/net/tun that users may open, as distributions ship it (this
#     machine's is 0600, which stops rootless podman's slirp4netns);
#   - podman's storage below the tmpdir (CONTAINERS_STORAGE_CONF), never the
#     machine's store.
# The first test proves the world has no way off the machine, the last that
# the host's own namespace and directories are as they were.
#
# podman reads the distribution's containers.conf as on any host
# (/usr/share/containers/containers.conf: its capabilities have no NET_RAW),
# then the suite's drop-in /etc/containers/containers.conf.d/50-jt-world.conf
# with this machine's own needs (runc: Debian 12's crun refuses hybrid
# cgroups; nofile/nproc ulimits within the host's hard limits; the cgroupfs
# manager and no journald: no systemd; netavark, not the CNI config Debian's
# podman ships), none of which is in the guide. Rootless podman reads the
# same drop-in. Not CONTAINERS_CONF: podman then reads that file alone.
# pasta (podman 5's default rootless network) does not exist in Debian 12's
# podman 4.3: it is to be tested elsewhere, with podman 5 in a VM booted with
# systemd (DESIGN.md section 8); here only the policy's pasta rules are.

# shellcheck disable=SC2154 # run_loader and run_capture (helpers.bash) set stderr
# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

IMAGE=localhost/jt-busybox
INET=198.51.100.2
INET6=2001:db8:100::2
HOST=198.51.100.1
HOST6=2001:db8:100::1
SERVER=198.18.0.80
SERVER6=2001:db8:200::80
ALLOWED=198.18.1.10
OTHER=198.18.1.20
POLICY="$PROJECT_ROOT/scripts/jail-ai-policy"

# world CMD...: run CMD in podman's world (its mount and network namespaces).
world() {
	CONTAINERS_STORAGE_CONF="$WORLD/storage.conf" \
		nsenter --mount="$WORLD/ns/mnt" --net="/run/netns/$HOST_NS" "$@"
}
pod() { world podman "$@"; }
inet() { jailed - "$INET_NS" "$@"; }

# Every cgroup mount point, v1 and v2: podman's --cgroup-parent makes the
# parent in each hierarchy on a hybrid host.
cgroup_mounts() {
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' \
		/proc/self/mountinfo
}

# remove_parent NAME: the parent cgroup in every hierarchy, deepest first.
# conmon's exited children may hold a v1 cgroup until they are reaped.
remove_parent() {
	local mount dir left
	for ((attempt = 0; attempt < 100; attempt++)); do
		left=0
		while read -r mount; do
			[[ -d $mount/$1 ]] || continue
			while read -r dir; do
				rmdir "$dir" 2>/dev/null || left=1
			done < <(find "$mount/$1" -depth -type d)
		done < <(cgroup_mounts)
		[[ $left -eq 0 ]] && return 0
		sleep 0.1
	done
	echo "cannot remove cgroup parent $1" >&2
	return 1
}

wait_listening() { # NS-RUNNER PROTO PORT
	local runner=$1 proto=$2 port=$3
	for ((attempt = 0; attempt < 100; attempt++)); do
		[[ -n $("$runner" ss -Hln"${proto:0:1}" "sport = :$port") ]] && return 0
		sleep 0.1
	done
	return 1
}

# start_in world|inet LOGNAME CMD...: a server, its output in
# $WORLD/LOGNAME.log; its PID is recorded in $WORLD/pids (ended in
# teardown_file) or, in a test, in the test's pids (ended in teardown).
start_in() {
	local where=$1 log=$2 pids="$WORLD/pids"
	shift 2
	[[ -n ${BATS_TEST_NUMBER:-} ]] && pids="$BATS_TEST_TMPDIR/pids"
	if [[ $where == world ]]; then
		set -- nsenter --mount="$WORLD/ns/mnt" --net="/run/netns/$HOST_NS" "$@"
	else
		set -- nsenter --net="/run/netns/$INET_NS" "$@"
	fi
	# nsenter execs, so $! is the server; fd 3 is bats' own.
	"$@" >"$WORLD/$log.log" 2>&1 3>&- &
	echo $! >>"$pids"
}

setup_file() {
	[[ $(id -u) -eq 0 && -n "$CG2" && -x "$LOADER" ]] || return 0
	command -v podman >/dev/null || return 0
	export WORLD="$BATS_FILE_TMPDIR/world"
	export HOST_NS="jt-$$-podhost" INET_NS="jt-$$-podinet" VETH="jtp$$"
	mkdir -p "$WORLD"/{ns,dev,root,runroot,etc/upper/containers.conf.d,etc/work,rootfs/bin,rootfs/etc,rootfs/www,www-inet,www-8000,www-8001}
	: >"$WORLD/pids"

	# The containers' "internet" and podman's host, joined by one veth.
	ip netns add "$HOST_NS"
	ip netns add "$INET_NS"
	ip -n "$HOST_NS" link set lo up
	ip -n "$INET_NS" link set lo up
	ip link add "${VETH}h" netns "$HOST_NS" type veth peer name "${VETH}i" netns "$INET_NS"
	ip -n "$HOST_NS" addr add "$HOST/24" brd + dev "${VETH}h"
	ip -n "$HOST_NS" addr add "$HOST6/64" dev "${VETH}h" nodad
	ip -n "$INET_NS" addr add "$INET/24" dev "${VETH}i"
	ip -n "$INET_NS" addr add "$INET6/64" dev "${VETH}i" nodad
	ip -n "$HOST_NS" link set "${VETH}h" up
	ip -n "$INET_NS" link set "${VETH}i" up
	ip -n "$HOST_NS" route add default via "$INET"
	ip -n "$HOST_NS" -6 route add default via "$INET6"
	# The internet's server, off the host's link, behind its default route.
	ip -n "$INET_NS" addr add "$SERVER/32" dev lo
	ip -n "$INET_NS" addr add "$SERVER6/128" dev lo
	# The proxy test's two names.
	ip -n "$INET_NS" addr add "$ALLOWED/32" dev lo
	ip -n "$INET_NS" addr add "$OTHER/32" dev lo

	# What the host's own namespace holds before: the last test compares.
	for path in /run/containers /run/libpod /var/lib/containers /etc/containers/networks /etc/containers/containers.conf.d; do
		[[ -e $path ]] && echo "$path"
	done >"$WORLD/host-paths"
	sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding >"$WORLD/host-forward"

	# The mount namespace: private /run and /dev/shm, our resolver, the
	# suite's drop-in over the distribution's /etc/containers.
	echo "nameserver $INET" >"$WORLD/resolv.conf"
	mount --bind "$WORLD/ns" "$WORLD/ns"
	mount --make-private "$WORLD/ns"
	touch "$WORLD/ns/mnt"
	# /etc/resolv.conf may be a link into /run (systemd-resolved).
	local resolv
	resolv=$(readlink -f /etc/resolv.conf)
	unshare --mount="$WORLD/ns/mnt" --propagation private sh -c "
		mount -t tmpfs -o mode=0755 jt-run /run &&
		mount -t tmpfs -o mode=1777 jt-shm /dev/shm &&
		mount -t tmpfs -o mode=0755 jt-varlib /var/lib &&
		mkdir -p '${resolv%/*}' && { [ -e '$resolv' ] || touch '$resolv'; } &&
		mount --bind '$WORLD/resolv.conf' '$resolv' &&
		mount -t overlay -o 'lowerdir=/etc/containers,upperdir=$WORLD/etc/upper,workdir=$WORLD/etc/work' \
			jt-etc-containers /etc/containers &&
		mount -t tmpfs -o mode=0755 jt-dev '$WORLD/dev' &&
		mknod -m 0666 '$WORLD/dev/tun' c 10 200 &&
		mount --bind '$WORLD/dev/tun' /dev/net/tun"

	cat >"$WORLD/etc/upper/containers.conf.d/50-jt-world.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
		[engine]
		runtime = "runc"
		cgroup_manager = "cgroupfs"
		events_logger = "none"
		[network]
		network_backend = "netavark"
	EOF
	cat >"$WORLD/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		graphroot = "$WORLD/root"
		runroot = "$WORLD/runroot"
	EOF

	# The image: busybox-static alone, imported (no registry).
	cp "$(command -v busybox)" "$WORLD/rootfs/bin/busybox"
	cp "$TEST_BIN/sockfamily" "$WORLD/rootfs/bin/sockfamily"
	# curl and the libraries it links, for the proxy test (HTTPS by CONNECT).
	local lib
	for lib in "$(command -v curl)" $(ldd "$(command -v curl)" | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$WORLD/rootfs"
	done
	local applet
	for applet in $(busybox --list); do
		[[ $applet == busybox ]] || ln -s busybox "$WORLD/rootfs/bin/$applet"
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$WORLD/rootfs/etc/passwd"
	echo 'root:x:0:' >"$WORLD/rootfs/etc/group"
	echo container >"$WORLD/rootfs/www/index.html"
	tar -C "$WORLD/rootfs" -c . | pod import --change CMD=/bin/sh - "$IMAGE" >/dev/null

	# Servers: the "internet" (web and DNS) and two host services.
	echo internet >"$WORLD/www-inet/index.html"
	echo service-8000 >"$WORLD/www-8000/index.html"
	echo service-8001 >"$WORLD/www-8001/index.html"
	start_in inet httpd-inet busybox httpd -f -p 80 -h "$WORLD/www-inet"
	start_in inet dnsd python3 "$PROJECT_ROOT/test/dnsd.py" "$INET" internet.test="$SERVER" \
		allowed.test="$ALLOWED" other.test="$OTHER"
	start_in world httpd-8000 busybox httpd -f -p 8000 -h "$WORLD/www-8000"
	start_in world httpd-8001 busybox httpd -f -p 8001 -h "$WORLD/www-8001"
	wait_listening inet tcp 80
	wait_listening inet udp 53
	wait_listening world tcp 8000
	wait_listening world tcp 8001
}

teardown_file() {
	[[ -n ${WORLD:-} ]] || return 0
	if [[ -e $WORLD/ns/mnt ]]; then
		pod rm -af -t 0 >/dev/null 2>&1
		pod network prune -f >/dev/null 2>&1
		pod rmi -af >/dev/null 2>&1
	fi
	local pid
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$WORLD/pids"
	# The namespace's own mounts (the overlay too) go with its last user.
	umount "$WORLD/ns/mnt" 2>/dev/null
	umount "$WORLD/ns" 2>/dev/null
	ip netns del "$HOST_NS" 2>/dev/null
	ip netns del "$INET_NS" 2>/dev/null
	rm -rf "$WORLD"
}

setup() {
	require_privileged
	[[ -x $TEST_BIN/sockfamily ]] || cannot_run "test helpers not built (make test-helpers)"
	command -v podman >/dev/null || cannot_run "podman is not installed (scripts/install-deps)"
	[[ -n ${WORLD:-} && -e $WORLD/ns/mnt ]] || cannot_run "setup_file could not build podman's world"
	PARENT="/jt-$$-$BATS_TEST_NUMBER"
}

teardown() {
	[[ -n ${WORLD:-} && -e $WORLD/ns/mnt ]] || return 0
	local server
	if [[ -f $BATS_TEST_TMPDIR/pids ]]; then # this test's servers
		while read -r server; do
			kill "$server" 2>/dev/null
		done <"$BATS_TEST_TMPDIR/pids"
	fi
	if [[ -f $BATS_TEST_TMPDIR/user ]]; then # the rootless test's user
		local user pid
		user=$(<"$BATS_TEST_TMPDIR/user")
		for pid in $(pgrep -u "$user"); do kill -9 "$pid" 2>/dev/null; done
		for ((attempt = 0; attempt < 50; attempt++)); do
			pgrep -u "$user" >/dev/null || break
			sleep 0.1
		done
		userdel "$user"
		rm -rf "$(<"$BATS_TEST_TMPDIR/home")"
	fi
	pod rm -af -t 0 >/dev/null 2>&1
	pod network rm -f jt-net jt-net6 >/dev/null 2>&1
	remove_parent "$PARENT"
}

# jail [POLICY-OPTION...]: the guide's steps: the seccomp profile and the
# loader argv from jail-ai-policy (run where podman runs), the parent cgroup
# made and filtered. Leaves the argv in $argv, the program ids in $programs
# and the guide's `podman run` options in $guide.
jail() {
	local policy
	world "$POLICY" --seccomp-profile "$BATS_TEST_TMPDIR/seccomp.json"
	policy=$(world "$POLICY" --cgroup-parent "$PARENT" "$@")
	mapfile -t argv <<<"$policy"
	[[ ${argv[0]} == --cgroup && ${argv[1]} == "$CG2$PARENT" ]]
	mkdir "${argv[1]}"
	load_filter "${argv[1]}" "${argv[@]:2}"
	programs=$(printf '%s\n' "${PROGRAM_IDS[@]}")
	guide=(--cgroup-parent="$PARENT" --cap-drop=NET_RAW --security-opt "seccomp=$BATS_TEST_TMPDIR/seccomp.json")
}

# In the container: "probe ADDR PORT: what nc said" for each ADDR PORT pair.
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

# has LINE...: $output has each of these exact lines. (One command, not
# "has A && has B": set -e ignores a failure before the last && of a list.)
has() {
	local line missing=0
	for line in "$@"; do
		grep -qxF -- "$line" <<<"$output" || { echo "no line \"$line\"" >&2; missing=1; }
	done
	return "$missing"
}

# net_raw FIELD: "yes" if the capability set FIELD (CapEff, CapBnd) of the
# /proc/self/status in $output holds NET_RAW (bit 13), else "no".
net_raw() {
	local mask
	mask=$(awk -v f="$1:" '$1 == f { print $2 }' <<<"$output")
	[[ -n $mask ]] || { echo "no $1 in the output" >&2; return 1; }
	if ((0x$mask & (1 << 13))); then echo yes; else echo no; fi
}

@test "podman's world has no way off this machine" {
	# Only loopback, the veth between the two namespaces and what podman
	# adds below its host: no link to the host's namespace or its uplink.
	run world ip -o link show
	[[ $(grep -cvE ": (lo|${VETH}h@[^:]*|podman[0-9]+|veth[0-9a-z]+@[^:]*): " <<<"$output") -eq 0 ]]
	run inet ip -o link show
	[[ $(grep -cvE ": (lo|${VETH}i@[^:]*): " <<<"$output") -eq 0 ]]
	# The "internet" routes nowhere but its own link.
	run inet ip route get 192.0.2.1
	[[ $status -ne 0 && $output == *"unreachable"* ]]
	run inet ip -6 route get 2001:db8::1
	[[ $status -ne 0 ]]
	# Its server is off the host's link: the host routes to it.
	run world ip route get "$SERVER"
	[[ $output == "$SERVER via $INET dev ${VETH}h "* ]]
	run world ip -6 route get "$SERVER6"
	[[ $output == "$SERVER6 from :: via $INET6 dev ${VETH}h "* ]]
}

@test "podman in the world reads the distribution's containers.conf, the suite's settings as a drop-in: a container gets Debian's capabilities, no NET_RAW" {
	run pod --log-level=debug info
	[[ $status -eq 0 ]]
	[[ $output == *'Merged system config \"/usr/share/containers/containers.conf\"'* ]]
	[[ $output == *'Merged system config \"/etc/containers/containers.conf.d/50-jt-world.conf\"'* ]]
	# The distribution's capabilities, without --cap-drop.
	run pod run --rm --network none "$IMAGE" grep ^Cap /proc/self/status
	[[ $status -eq 0 && $(net_raw CapEff) == no && $(net_raw CapBnd) == no ]]
	# The control: NET_RAW added, as podman's built-in defaults (without the
	# distribution's file) would have it.
	run pod run --rm --network none --cap-add=NET_RAW "$IMAGE" grep ^Cap /proc/self/status
	[[ $status -eq 0 && $(net_raw CapEff) == yes && $(net_raw CapBnd) == yes ]]
}

@test "default bridge: the first command is refused the gateway, the host's link and addresses, metadata and link-local; reaches the internet and resolves through the host's resolver" {
	jail --network podman
	gateway=$(pod network inspect podman | jq -r '.[0].subnets[0].gateway')
	[[ $gateway == 10.88.0.1 ]]
	# The policy names the gateway before podman0 exists, and both host addresses.
	[[ " ${argv[*]} " == *" --deny $gateway "* && " ${argv[*]} " == *" --deny $HOST "* ]]
	[[ " ${argv[*]} " == *" --deny $HOST6 "* ]]
	# The whole argv, as README.md "Callers" shows it for /jail-ai.
	expected=(--cgroup "$CG2$PARENT" --deny "$HOST" --deny 198.51.100.255 --deny "$HOST6"
		--deny 198.51.100.0/24 --deny 2001:db8:100::/64 --deny 10.88.0.0/16 --deny 10.88.0.1
		--deny 0.0.0.0/8 --deny 10.0.0.0/8 --deny 100.64.0.0/10 --deny 169.254.0.0/16
		--deny 172.16.0.0/12 --deny 192.168.0.0/16 --deny 224.0.0.0/4 --deny 240.0.0.0/4
		--deny fc00::/7 --deny fe80::/10 --deny ff00::/8 --deny 169.254.169.254
		--deny fd00:ec2::254 --deny 100.100.100.200 --deny 168.63.129.16 --allow "$INET:53")
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	run pod run --rm "${guide[@]}" "$IMAGE" sh -c "$PROBE" probe \
		"$gateway" 8000 "$HOST" 8000 "$HOST6" 8000 "$INET" 80 169.254.169.254 80 169.254.1.1 80
	echo "$output"
	[[ $status -eq 0 ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 6 ]]
	refused_all
	# podman copies the host's resolv.conf: the host's resolver, on the
	# host's link, answers through --allow INET:53.
	run pod run --rm "${guide[@]}" "$IMAGE" sh -c \
		"grep ^nameserver /etc/resolv.conf && timeout 10 wget -qO- http://$SERVER/ && nslookup internet.test"
	echo "$output"
	[[ $status -eq 0 && ${lines[0]} == "nameserver $INET" && ${lines[1]} == internet ]]
	[[ $output == *"Address: $SERVER"* ]]
}

@test "custom network with DNS: aardvark-dns on the gateway answers through --allow GATEWAY:53; the rest of the gateway, the network and the host stay closed" {
	pod network create jt-net >/dev/null
	jail --network jt-net
	gateway=$(pod network inspect jt-net | jq -r '.[0].subnets[0].gateway')
	subnet=$(pod network inspect jt-net | jq -r '.[0].subnets[0].subnet')
	[[ " ${argv[*]} " == *" --deny $gateway "* && " ${argv[*]} " == *" --allow $gateway:53 "* ]]
	[[ " ${argv[*]} " == *" --deny $subnet "* && " ${argv[*]} " == *" --deny 10.0.0.0/8 "* ]]
	pod run -d --name jt-peer --network jt-net "${guide[@]}" "$IMAGE" sleep 600
	peer=$(pod inspect jt-peer | jq -r '.[0].NetworkSettings.Networks["jt-net"].IPAddress')
	run pod run --rm --network jt-net "${guide[@]}" "$IMAGE" sh -c "grep ^nameserver /etc/resolv.conf && $PROBE"' &&
		nslookup internet.test && nslookup jt-peer && timeout 10 wget -qO- http://'"$SERVER/" probe \
		"$gateway" 8000 "$HOST" 8000 "$HOST6" 8000 "$INET" 80 169.254.169.254 80 "$peer" 80
	echo "$output"
	[[ $status -eq 0 && ${lines[0]} == "nameserver $gateway" ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 6 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* ]]
	[[ $output == *"Name:"*"jt-peer"*"Address: $peer"* ]]
	[[ ${lines[-1]} == internet ]]
}

@test "slirp4netns: 10.0.2.3 resolves through --allow 10.0.2.3:53 inside the denied 10.0.0.0/8; 10.0.2.2 and the host are refused" {
	jail --network slirp4netns
	[[ " ${argv[*]} " == *" --deny 10.0.0.0/8 "* && " ${argv[*]} " == *" --allow 10.0.2.3:53 "* ]]
	run pod run --rm --network slirp4netns "${guide[@]}" "$IMAGE" sh -c "grep ^nameserver /etc/resolv.conf && $PROBE"' &&
		nslookup internet.test && timeout 10 wget -qO- http://'"$SERVER/" probe \
		10.0.2.2 8000 "$HOST" 8000 "$HOST6" 8000 "$INET" 80 169.254.169.254 80 10.0.2.3 80
	echo "$output"
	[[ $status -eq 0 && ${lines[0]} == "nameserver 10.0.2.3" ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 6 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* ]]
	[[ ${lines[-1]} == internet ]]
}

@test "an opened host service: --allow GATEWAY:8000/tcp reaches it, and only that port" {
	jail --network podman --allow 10.88.0.1:8000/tcp
	[[ ${argv[-2]} == --allow && ${argv[-1]} == 10.88.0.1:8000/tcp ]]
	run pod run --rm "${guide[@]}" "$IMAGE" sh -c \
		"timeout 10 wget -qO- http://10.88.0.1:8000/ && $PROBE" probe \
		10.88.0.1 8001 "$HOST" 8000 10.88.0.1 22
	echo "$output"
	[[ $status -eq 0 && ${lines[0]} == service-8000 ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
}

@test "allow-list by domain: jail-ai-policy --proxy GATEWAY:3128 and tinyproxy on the host; through it the guide's container reaches allowed.test over HTTP and HTTPS, other.test gets the proxy's 403, and what ignores the proxy or the proxy's port gets EPERM" {
	# The host's address as the container sees it: the network's gateway.
	gateway=$(pod network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}')
	[[ $gateway == 10.88.0.1 ]]
	local dir="$BATS_TEST_TMPDIR/proxy"
	mkdir -m 0755 "$dir"
	chmod 0755 "$BATS_TEST_TMPDIR"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=jail-ai-proxy-test -addext "subjectAltName=DNS:allowed.test,DNS:other.test" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
	echo allowed.test >"$dir/allowlist"
	cat >"$dir/tinyproxy.conf" <<-EOF
		User nobody
		Group nogroup
		Port 3128
		Allow 10.88.0.0/16
		Timeout 60
		Filter "$dir/allowlist"
		FilterDefaultDeny Yes
		FilterType fnmatch
		ConnectPort 443
	EOF
	# (HTTP on 8080: the internet's busybox httpd has port 80)
	start_in inet web "$PYTHON" "$PROJECT_ROOT/test/webd.py" --http-port=8080 "$dir/cert.pem" "$dir/key.pem" \
		allowed.test="$ALLOWED" other.test="$OTHER"
	start_in world tinyproxy tinyproxy -d -c "$dir/tinyproxy.conf"
	wait_listening world tcp 3128
	wait_listening inet tcp 443 || { cat "$WORLD/web.log" >&2; return 1; }

	jail --network podman --proxy "$gateway:3128"
	expected=(--cgroup "$CG2$PARENT" --deny 0.0.0.0/0 --deny ::/0 --allow "$gateway:3128/tcp"
		--allow 127.0.0.0/8 --allow ::1)
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	proxy="http://$gateway:3128"
	# shellcheck disable=SC2016 # expanded by the container's sh
	run pod run --rm "${guide[@]}" --http-proxy=false --env "http_proxy=$proxy" \
		--env "https_proxy=$proxy" --env "HTTPS_PROXY=$proxy" -v "$dir/cert.pem:/cert.pem:ro" \
		"$IMAGE" sh -c 'get() { curl -sS --max-time 20 --cacert /cert.pem "$@" 2>&1; }
			echo "http: $(get http://allowed.test:8080/)"
			echo "https: $(get https://allowed.test/)"
			echo "other http: $(get -o /dev/null -w "%{http_code}" http://other.test:8080/)"
			echo "other https: $(get https://other.test/)"
			echo "no proxy: $(get -v --noproxy "*" "http://$0:8080/" | grep -F "connect fail")"
			echo "dns: $(nslookup allowed.test 2>&1 | grep -F "can'"'"'t connect")"
			'"$PROBE" "$ALLOWED" "$gateway" 8000 "$gateway" 53 "$HOST" 3128 "$INET" 53 "$SERVER" 80 "$ALLOWED" 443
	echo "$output"
	[[ $status -eq 0 ]]
	has "http: allowed.test" "https: allowed.test" "other http: 403" \
		"other https: curl: (56) CONNECT tunnel failed, response 403" \
		"no proxy: * Immediate connect fail for $ALLOWED: Operation not permitted" \
		"dns: nslookup: can't connect to remote host ($INET): Operation not permitted"
	[[ $(grep -c "^probe .*Operation not permitted" <<<"$output") -eq 6 ]]
	refused_all
	# podman's --http-proxy (on by default) copies podman's own proxy
	# variables into the container; =false copies none.
	# shellcheck disable=SC2016,SC2030,SC2031 # for podman and the container's sh
	https_proxy=http://192.0.2.99:9 NO_PROXY=example.test run pod run --rm "$IMAGE" \
		sh -c 'echo "$https_proxy|$NO_PROXY"'
	[[ $status -eq 0 && $output == "http://192.0.2.99:9|example.test" ]]
	# shellcheck disable=SC2016,SC2030,SC2031
	https_proxy=http://192.0.2.99:9 run pod run --rm --http-proxy=false "$IMAGE" \
		sh -c 'echo "[$https_proxy]"'
	[[ $status -eq 0 && $output == "[]" ]]
}

@test "podman exec: processes started later in the container are filtered too" {
	jail --network podman
	pod run -d --name jt-exec "${guide[@]}" "$IMAGE" sleep 600
	run pod exec jt-exec sh -c "$PROBE" probe 10.88.0.1 8000 "$HOST" 8000 169.254.169.254 80
	echo "$output"
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	run pod exec jt-exec timeout 10 wget -qO- "http://$SERVER/"
	[[ $status -eq 0 && $output == internet ]]
}

@test "accepted connections: a published port and the container's own address answer the host: the filter passes connections the container accepted" {
	jail --network podman
	pod run -d --name jt-web -p 8080:80 "${guide[@]}" "$IMAGE" httpd -f -p 80 -h /www
	address=$(pod inspect jt-web | jq -r '.[0].NetworkSettings.IPAddress')
	# From the "internet": the reply goes to a denied address on the host's link.
	fetch() { [[ $("$1" timeout 10 busybox wget -qO- "$2") == container ]]; }
	eventually fetch inet "http://$HOST:8080/"
	# From the host itself: replies go to a denied host address.
	fetch world "http://$HOST:8080/"
	fetch world "http://$address/"
	# The container's own new connections to the host stay refused.
	run pod exec jt-web sh -c "$PROBE" probe "$HOST" 8000 10.88.0.1 8000
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 2 ]]
}

@test "removing the container and its parent cgroup frees every program" {
	jail --network podman
	count=$(wc -w <<<"$programs")
	[[ $count -ge 5 ]]
	pod run -d --name jt-gone "${guide[@]}" "$IMAGE" sleep 600
	# bpftool's plain tree lists only direct attachments: "effective" shows
	# the parent's programs on the container's cgroup.
	scope=$(pod inspect jt-gone | jq -r '.[0].Id')
	run bpftool cgroup tree "$CG2$PARENT" effective
	[[ $output == *"libpod-$scope"* ]]
	[[ $(grep -c ' jailai_' <<<"$output") -eq $((2 * count)) ]]
	for id in $programs; do bpftool prog show id "$id" >/dev/null; done
	pod rm -f -t 0 jt-gone >/dev/null
	remove_parent "$PARENT"
	# The kernel frees them from a work queue once the cgroup is released.
	gone() { for id in $programs; do ! bpftool prog show id "$id" >/dev/null 2>&1 || return 1; done; }
	eventually gone
}

@test "jail-ai-policy: --help, usage errors, --lan refused, pasta's fixed addresses and refused options, an unknown network" {
	run "$POLICY" --help
	[[ $status -eq 0 && ${lines[0]} == "Print the jail-ai-ebpf-loader argv"* ]]
	run "$POLICY" --network
	[[ $status -eq 64 && $output == "jail-ai-policy: --network: unknown option or missing value (see --help)" ]]
	run "$POLICY" --dns resolver.example
	[[ $status -eq 64 && $output == "jail-ai-policy: --dns resolver.example: not an IP address" ]]
	# The LAN is closed by default: --lan is gone, and says so.
	run world "$POLICY" --lan
	[[ $status -eq 64 && $output == "jail-ai-policy: --lan: the LAN is closed by default now;"* ]]
	# podman 4.3 has no pasta; its addresses are fixed, so the policy needs none.
	run world "$POLICY" --network pasta --dns fd00::53
	[[ $status -eq 0 ]]
	[[ " ${lines[*]} " == *" --deny 169.254.0.0/16 "* && " ${lines[*]} " == *" --allow 169.254.1.1:53 "* ]]
	[[ " ${lines[*]} " == *" --allow [fd00::53]:53 "* && " ${lines[*]} " == *" --deny $HOST "* ]]
	# pasta options that open the host to the container are refused.
	for opts in -T,8080 -U,53 --map-gw --map-host-loopback=169.254.1.2; do
		run world "$POLICY" --network "pasta:$opts"
		[[ $status -eq 64 && $output == "jail-ai-policy: --network pasta:$opts: "*"maps this host's loopback"* ]]
	done
	run world "$POLICY" --network pasta:-T,none
	[[ $status -eq 0 ]]
	run world "$POLICY" --network host
	[[ $status -eq 64 && $output == "jail-ai-policy: --network host: "* ]]
	run world "$POLICY" --network jt-none
	[[ $status -eq 69 && $output == "jail-ai-policy: podman network inspect jt-none: "* ]]
	run world "$POLICY" --cgroup-parent jail-ai.slice
	[[ $status -eq 64 && $output == *"the cgroupfs manager takes an absolute, canonical path" ]]
}

@test "the guide's seccomp profile and --cap-drop=NET_RAW: no NET_RAW, AF_PACKET, AF_VSOCK and AF_XDP refused, UNIX, INET, INET6 and NETLINK open; without the profile AF_VSOCK opens" {
	jail --network podman
	# The profile is containers-common's with socket() narrowed.
	[[ $(jq -r .defaultAction "$BATS_TEST_TMPDIR/seccomp.json") == "$(jq -r .defaultAction /usr/share/containers/seccomp.json)" ]]
	run pod run --rm "${guide[@]}" "$IMAGE" sh -c 'grep ^Cap /proc/self/status && sockfamily families'
	echo "$output"
	[[ $status -eq 0 && $(net_raw CapEff) == no && $(net_raw CapBnd) == no ]]
	has "unix ok" "inet ok" "inet6 ok" "netlink ok"
	has "packet EAFNOSUPPORT" "vsock EAFNOSUPPORT" "xdp EAFNOSUPPORT"
	# The control: the same container under podman's default profile.
	run pod run --rm --cgroup-parent="$PARENT" --cap-drop=NET_RAW "$IMAGE" sh -c 'grep ^Cap /proc/self/status && sockfamily families'
	echo "$output"
	[[ $status -eq 0 && $(net_raw CapEff) == no && $(net_raw CapBnd) == no ]]
	has "unix ok" "inet ok" "inet6 ok" "netlink ok" "vsock ok"
	# AF_PACKET and AF_XDP need NET_RAW, which the container lacks.
	has "packet EPERM" "xdp EPERM"
}

@test "the guide's seccomp profile through the 32-bit x86 ABI: ia32 socket(AF_VSOCK) and socketcall(SYS_SOCKET) refused, ia32 socket(AF_INET) allowed; podman's default profile lets ia32 socketcall open AF_VSOCK" {
	jail --network podman
	pod run -d --name jt-profiled "${guide[@]}" "$IMAGE" sleep 600
	pod run -d --name jt-default --cgroup-parent="$PARENT" --cap-drop=NET_RAW "$IMAGE" sleep 600
	# The filters runc installed in each container, run for the calls
	# sockfamily makes: the kernel's verdict, whether or not this kernel
	# runs ia32 syscalls. The native lines must agree with the real calls.
	run world "$TEST_BIN/sockfamily" seccomp "$(pod inspect jt-profiled | jq -r '.[0].State.Pid')"
	echo "$output"
	[[ $status -eq 0 ]]
	profiled=$output
	has "ia32-socket-inet ok" "ia32-socket-vsock EAFNOSUPPORT"
	# socketcall's family is in memory, out of seccomp's sight: every
	# socketcall(SYS_SOCKET) is refused.
	has "ia32-socketcall-vsock EPERM" "ia32-socketcall-inet EPERM"
	run pod exec jt-profiled sockfamily families
	echo "$output"
	diff <(grep -v ^ia32 <<<"$profiled") <(grep -v ^ia32 <<<"$output")
	real_profiled=$output
	run world "$TEST_BIN/sockfamily" seccomp "$(pod inspect jt-default | jq -r '.[0].State.Pid')"
	echo "$output"
	[[ $status -eq 0 ]]
	has "ia32-socket-inet ok" "ia32-socketcall-vsock ok"
	default=$output
	run pod exec jt-default sockfamily families
	echo "$output"
	real_default=$output
	# seccomp allows AF_PACKET and AF_XDP there; the missing NET_RAW refuses them.
	diff <(grep -v -e ^ia32 -e ^packet -e ^xdp <<<"$default") <(grep -v -e ^ia32 -e ^packet -e ^xdp <<<"$output")
	# The calls themselves, where this kernel runs ia32 syscalls at all.
	if grep -q '^ia32-.* unavailable$' <<<"$real_default"; then
		# int $0x80 kills its caller even without seccomp: no ia32 socket
		# can be made here, with or without the profile.
		[[ $(grep -c '^ia32-.* unavailable$' <<<"$real_default") -eq 4 ]]
		[[ $(grep -c '^ia32-.* unavailable$' <<<"$real_profiled") -eq 4 ]]
		echo "# this kernel runs no ia32 syscalls (int \$0x80 gives SIGSEGV): the profile's ia32 verdicts are its filters', not real calls" >&3
	else
		diff <(grep ^ia32 <<<"$profiled") <(grep ^ia32 <<<"$real_profiled")
		diff <(grep ^ia32 <<<"$default") <(grep ^ia32 <<<"$real_default")
	fi
}

@test "broadcast, multicast and anycast from a guided container reach no host listener; from an unfiltered container they do" {
	pod network create --ipv6 --subnet 2001:db8:88::/64 jt-net6 >/dev/null
	[[ $(pod network inspect podman | jq -r '.[0].subnets[0].subnet') == 10.88.0.0/16 ]]
	bridge4=$(pod network inspect podman | jq -r '.[0].network_interface')
	# A router joins its subnets' subnet-router anycast addresses (the world's
	# host namespace; the last test checks the host's own is untouched).
	world sysctl -qw net.ipv6.conf.all.forwarding=1
	jail --network podman --network jt-net6
	[[ " ${argv[*]} " == *" --deny 224.0.0.0/4 "* && " ${argv[*]} " == *" --deny ff00::/8 "* ]]
	[[ " ${argv[*]} " == *" --deny 2001:db8:88::/64 "* ]]
	# The controls: unfiltered containers (podman's own cgroup parent); they
	# also keep both bridges up for the listeners.
	pod run -d --name jt-control4 --cap-drop=NET_RAW "$IMAGE" sleep 600
	pod run -d --name jt-control6 --network jt-net6 --cap-drop=NET_RAW "$IMAGE" sleep 600
	start_in world udp-9999 "$TEST_BIN/sockfamily" listen-udp 9999
	start_in world udp-5353 "$TEST_BIN/sockfamily" listen-udp 5353 "224.0.0.251%$bridge4"
	start_in world udp-1900 "$TEST_BIN/sockfamily" listen-udp 1900 "239.255.255.250%$bridge4"
	for port in 9999 5353 1900; do
		eventually grep -qx ready "$WORLD/udp-$port.log"
	done
	anycast=2001:db8:88:: # jt-net6's subnet-router anycast address
	# The guided containers: each datagram refused at sendto (EPERM).
	# shellcheck disable=SC2016 # expanded by the container's sh
	run pod run --rm "${guide[@]}" "$IMAGE" sh -c 'for to in "$@"; do
		sockfamily send-udp "${to% *}" "${to#* }" filtered; done' sh \
		"10.88.255.255 9999" "255.255.255.255 9999" "224.0.0.251 5353" "239.255.255.250 1900"
	echo "$output"
	[[ $status -eq 1 && $(grep -c ' EPERM$' <<<"$output") -eq 4 ]]
	run pod run --rm --network jt-net6 "${guide[@]}" "$IMAGE" sh -c "
		sockfamily send-udp ff02::1%eth0 9999 filtered; sockfamily send-udp $anycast 9999 filtered
		timeout 10 wget -qO- http://[$SERVER6]/"
	echo "$output"
	[[ $status -eq 0 && $(grep -c ' EPERM$' <<<"$output") -eq 2 && ${lines[-1]} == internet ]]
	# The controls: each datagram again until the listener has it (a link
	# just made may lose the first), so each destination is shown reachable.
	delivered() { # CONTAINER ADDR[%IF] PORT
		pod exec "$1" sockfamily send-udp "$2" "$3" control >/dev/null &&
			grep -q "^control to ${2%\%*} from " "$WORLD/udp-$3.log"
	}
	eventually delivered jt-control4 10.88.255.255 9999
	eventually delivered jt-control4 255.255.255.255 9999
	eventually delivered jt-control4 224.0.0.251 5353
	eventually delivered jt-control4 239.255.255.250 1900
	eventually delivered jt-control6 ff02::1%eth0 9999
	eventually delivered jt-control6 "$anycast" 9999
	cat "$WORLD"/udp-*.log
	[[ $(cat "$WORLD"/udp-*.log | grep -c ^filtered) -eq 0 ]]
}

@test "rootless podman on this hybrid host: run from a filtered cgroup the user owns, the same refusals, DNS, internet, host service, exec and published port" {
	# Root delegates a cgroup to the user (as a delegated systemd slice
	# would be) and starts the user's session in it; the user makes a child,
	# has it filtered, moves into it and runs podman. Rootless podman on
	# cgroup v1 cannot use --cgroup-parent: containers, conmon and
	# slirp4netns stay in the cgroup podman runs in.
	user="jt$$r$BATS_TEST_NUMBER"
	home=$(mktemp -d "/tmp/jt-$$-home.XXXXXX")
	echo "$user" >"$BATS_TEST_TMPDIR/user"
	echo "$home" >"$BATS_TEST_TMPDIR/home"
	useradd -M -d "$home" -s /bin/sh "$user"
	grep -q "^$user:" /etc/subuid || { echo "useradd gave $user no subordinate uids" >&2; return 1; }
	uid=$(id -u "$user")
	chmod 0755 "$home"
	mkdir -m 0700 "$home/run"
	cp "$POLICY" "$home/jail-ai-policy"
	# The user's podman reads the distribution's containers.conf and the
	# world's drop-in, as root's does; only storage is the user's own.
	printf '[storage]\ndriver = "vfs"\n' >"$home/storage.conf"
	chown -R "$user:" "$home"
	delegated="$CG2$PARENT"
	mkdir "$delegated"
	chown "$user:" "$delegated" "$delegated"/cgroup.{procs,subtree_control,threads}
	as_user() {
		# shellcheck disable=SC2016 # expanded by that sh
		world sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$delegated" \
			setpriv --reuid "$uid" --regid "$uid" --init-groups env -i HOME="$home" \
			XDG_RUNTIME_DIR="$home/run" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			CONTAINERS_STORAGE_CONF="$home/storage.conf" "$@"
	}
	run as_user podman --log-level=debug info
	[[ $output == *'Merged system config \"/usr/share/containers/containers.conf\"'* ]]
	[[ $output == *'Merged system config \"/etc/containers/containers.conf.d/50-jt-world.conf\"'* ]]
	tar -C "$WORLD/rootfs" -c . | as_user podman import --change CMD=/bin/sh - "$IMAGE" >/dev/null
	run_capture as_user "$home/jail-ai-policy" --network slirp4netns --cgroup-parent /jail-ai
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --cgroup-parent: rootless podman cannot place containers on a cgroup v1 or hybrid host;"* ]]

	as_user "$home/jail-ai-policy" --seccomp-profile "$home/seccomp.json"
	as_user mkdir "$delegated/box"
	policy=$(as_user "$home/jail-ai-policy" --network slirp4netns --allow "$HOST:8000/tcp")
	mapfile -t argv <<<"$policy"
	[[ " ${argv[*]} " == *" --allow 10.0.2.100 "* && ${argv[-1]} == "$HOST:8000/tcp" ]]
	# As through sudo: SUDO_UID names the caller, who must own the cgroup.
	LOADER_VIA=(env SUDO_UID="$uid")
	run_loader --cgroup "$delegated/box" "${argv[@]}"
	# shellcheck disable=SC2046 # four numbers, split on purpose
	assert_reply "$delegated/box" $(reply_counts "${argv[@]}")
	guide=(--network slirp4netns --cap-drop=NET_RAW --security-opt "seccomp=$home/seccomp.json")
	# shellcheck disable=SC2016 # expanded by that sh
	run as_user sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$delegated/box" \
		podman run --rm "${guide[@]}" "$IMAGE" sh -c \
		"grep '^0::' /proc/self/cgroup && $PROBE"' && nslookup internet.test &&
		timeout 10 wget -qO- http://'"$SERVER/" probe \
		10.0.2.2 8000 "$HOST" 8001 "$HOST6" 8000 "$INET" 80 169.254.169.254 80 10.0.2.3 80
	echo "$output"
	[[ $status -eq 0 ]]
	[[ $output == *"0::$PARENT/box"* ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 6 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* && ${lines[-1]} == internet ]]

	# The host service opened by --allow HOST:8000/tcp, podman exec and a
	# published port (rootlessport, also in the filtered cgroup).
	# shellcheck disable=SC2016 # expanded by that sh
	as_user sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$delegated/box" \
		podman run -d --name jt-rootless -p 8081:80 "${guide[@]}" \
		"$IMAGE" httpd -f -p 80 -h /www >/dev/null
	# Rootless runc on cgroup v1 leaves an exec'd process in the cgroup of
	# `podman exec` itself: exec from the filtered cgroup too.
	run as_user podman exec jt-rootless grep '^0::' /proc/self/cgroup
	[[ $output == "0::$PARENT" ]]
	# shellcheck disable=SC2016 # expanded by that sh
	run as_user sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$delegated/box" \
		podman exec jt-rootless sh -c "grep '^0::' /proc/self/cgroup &&
		timeout 10 wget -qO- http://$HOST:8000/ && $PROBE" probe \
		"$HOST" 8001 10.0.2.2 8000 169.254.169.254 80
	echo "$output"
	[[ $status -eq 0 && ${lines[0]} == "0::$PARENT/box" && ${lines[1]} == service-8000 ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	fetch() { [[ $("$1" timeout 10 busybox wget -qO- "$2") == container ]]; }
	eventually fetch inet "http://$HOST:8081/"
	fetch world "http://$HOST:8081/"
	as_user podman rm -f -t 0 jt-rootless >/dev/null
}

@test "the host's own namespace is untouched: no podman link, NAT chain, forwarding or state directory" {
	run ip -o link show
	[[ $output != *podman* ]]
	run iptables -S
	[[ $output != *NETAVARK* ]]
	run iptables -t nat -S
	[[ $output != *NETAVARK* ]]
	[[ $(sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding) == "$(<"$WORLD/host-forward")" ]]
	for path in /run/containers /run/libpod /var/lib/containers /etc/containers/networks /etc/containers/containers.conf.d; do
		[[ -e $path ]] && echo "$path"
	done >"$BATS_TEST_TMPDIR/host-paths"
	diff "$WORLD/host-paths" "$BATS_TEST_TMPDIR/host-paths"
}

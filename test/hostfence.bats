#!/usr/bin/env bats
# Host reachability end to end (issue 18, items 4 and 7): the default policy
# of scripts/jail-ai-policy, loaded by the loader, fences a jail off from
# every path to its host that real host services listen on: broadcast,
# multicast, IPv6 subnet-router anycast, each host address (every scope, TCP,
# UDP, ping, IPv4-mapped), and addresses the host gains later, while the
# internet and the allowed resolver stay open. Each test runs the same probes
# from an unfiltered cgroup in the same jail namespace, which must reach the
# host: without that control, "nothing was delivered" would prove nothing.
# The last tests run the policy's --watch mode, which reruns the loader when
# the host's addresses change.
#
# Safety (DESIGN.md §8): everything lives in three network namespaces made in
# setup_file and removed in teardown_file, linked only to each other:
#   - $HOST_NS, the "host": bridge br0 (the jail's gateway, 10.89.0.1/24,
#     2001:db8:89::1/64), the uplink to the internet (198.51.100.1/24,
#     2001:db8:100::1/64), a second bridge br1 (192.168.50.1/24) and an
#     interface "extra" with 192.0.2.10/32 scope link, 192.0.2.20/32 scope
#     host, 2001:db8:5::1/128 and 100.100.7.1/10 (CGNAT, as Tailscale); IPv4
#     and IPv6 forwarding on (its own sysctls), so the kernel adds the
#     subnet-router anycast addresses 2001:db8:89:: and 2001:db8:100::;
#   - $INET_NS, the "internet": the uplink's far end (198.51.100.2,
#     2001:db8:100::2) and the server on its lo (198.18.0.80, 2001:db8:200::80:
#     not on-link to the host, so the default policy leaves it open); it
#     routes nowhere but back to the jail's prefixes through the host;
#   - $JAIL_NS, the jail: a veth into br0 (10.89.0.2, 2001:db8:89::2),
#     default routes through the host.
# "extra" and the later interfaces are bridges without ports: they stand in
# for dummy interfaces, which some kernels here lack (no dummy module). The
# kernel gives an IPv6 address the scope its prefix implies, so
# 2001:db8:5::1 cannot be made "scope link" the way 192.0.2.10 is; the
# bridge's own fe80:: address stands for IPv6 link scope instead.
# Filters are attached only to cgroups the tests make. The jailed probes run
# as nobody (uid 65534) with an empty bounding set: no CAP_NET_RAW.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

PORT=7000       # the host listeners' TCP and UDP port (and 5353, 1900, 5355)
INET_PORT=7777  # the internet's echo server (build/test/netprobe serve)
SERVER4=198.18.0.80
SERVER6=2001:db8:200::80
RESOLVER=10.89.0.1
POLICY="$PROJECT_ROOT/scripts/jail-ai-policy"
HELPER="$PROJECT_ROOT/test/hostfence.py"
NETPROBE="$TEST_BIN/netprobe"
# The jailed probes run as nobody, who may not reach a python3 below /root
# (pyenv): the distribution's own.
PY=/usr/bin/python3

in_host() { jailed - "$HOST_NS" "$@"; }
in_inet() { jailed - "$INET_NS" "$@"; }

# start_in NS LOGNAME CMD...: a server of the suite, PID recorded.
start_in() {
	local ns=$1 log=$2
	shift 2
	jailed_bg - "$ns" /dev/null "$WORLD/$log.log" "$@"
	echo "$JAILED_PID" >>"$WORLD/pids"
	[[ $ns != "$HOST_NS" ]] || echo "$JAILED_PID" >>"$WORLD/host-pids"
}

setup_file() {
	[[ $(id -u) -eq 0 && -n "$CG2" && -x "$LOADER" && -x $PY ]] || return 0
	export WORLD="$BATS_FILE_TMPDIR/world"
	export HOST_NS="jt-$$-fhost" INET_NS="jt-$$-finet" JAIL_NS="jt-$$-fjail"
	mkdir -p "$WORLD"
	: >"$WORLD/pids"
	: >"$WORLD/host-pids"
	local ns
	for ns in "$HOST_NS" "$INET_NS" "$JAIL_NS"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		# no duplicate address detection: addresses usable at once
		nsenter --net="/run/netns/$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	in_host sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# ping sockets for any user in the jail (as a container runtime sets it)
	nsenter --net="/run/netns/$JAIL_NS" sysctl -qw net.ipv4.ping_group_range="0 2147483647"

	# The host's container bridge and the jail on it.
	ip -n "$HOST_NS" link add br0 type bridge
	ip -n "$HOST_NS" addr add 10.89.0.1/24 dev br0
	ip -n "$HOST_NS" addr add 2001:db8:89::1/64 dev br0 nodad
	ip -n "$HOST_NS" link set br0 up
	ip -n "$HOST_NS" link add vjail type veth peer name eth0 netns "$JAIL_NS"
	ip -n "$HOST_NS" link set vjail master br0 up
	ip -n "$JAIL_NS" addr add 10.89.0.2/24 dev eth0
	ip -n "$JAIL_NS" addr add 2001:db8:89::2/64 dev eth0 nodad
	ip -n "$JAIL_NS" link set eth0 up
	ip -n "$JAIL_NS" route add default via 10.89.0.1
	ip -n "$JAIL_NS" -6 route add default via 2001:db8:89::1

	# The uplink and the internet behind it.
	ip -n "$HOST_NS" link add uplink type veth peer name eth0 netns "$INET_NS"
	ip -n "$HOST_NS" addr add 198.51.100.1/24 dev uplink
	ip -n "$HOST_NS" addr add 2001:db8:100::1/64 dev uplink nodad
	ip -n "$INET_NS" addr add 198.51.100.2/24 dev eth0
	ip -n "$INET_NS" addr add 2001:db8:100::2/64 dev eth0 nodad
	ip -n "$HOST_NS" link set uplink up
	ip -n "$INET_NS" link set eth0 up
	ip -n "$INET_NS" addr add "$SERVER4/32" dev lo
	ip -n "$INET_NS" addr add "$SERVER6/128" dev lo nodad
	# (from the server's address: a reply to a connected UDP socket must
	# come from the address it connected to)
	ip -n "$INET_NS" route add 10.89.0.0/24 via 198.51.100.1 src "$SERVER4"
	ip -n "$INET_NS" -6 route add 2001:db8:89::/64 via 2001:db8:100::1 src "$SERVER6"
	ip -n "$HOST_NS" route add default via 198.51.100.2
	ip -n "$HOST_NS" -6 route add default via 2001:db8:100::2

	# A second bridge, and addresses of every scope and the CGNAT range.
	ip -n "$HOST_NS" link add br1 type bridge
	ip -n "$HOST_NS" addr add 192.168.50.1/24 dev br1
	ip -n "$HOST_NS" link set br1 up
	ip -n "$HOST_NS" link add extra type bridge
	ip -n "$HOST_NS" addr add 192.0.2.10/32 dev extra scope link
	ip -n "$HOST_NS" addr add 192.0.2.20/32 dev extra scope host
	ip -n "$HOST_NS" addr add 2001:db8:5::1/128 dev extra nodad
	ip -n "$HOST_NS" addr add 100.100.7.1/10 dev extra
	ip -n "$HOST_NS" link set extra up

	# The host's services (in the suite's cgroup, never a filtered one):
	# the listeners, the resolver; and the internet's echo server.
	start_in "$HOST_NS" listen "$PY" "$HELPER" listen "$PORT" br0
	start_in "$HOST_NS" dnsd "$PY" "$PROJECT_ROOT/test/dnsd.py" "$RESOLVER" internet.test="$SERVER4"
	start_in "$INET_NS" echo "$NETPROBE" serve "$INET_PORT"
	eventually grep -qx ready "$WORLD/listen.log"
	eventually grep -qx ready "$WORLD/dnsd.log"
	eventually grep -q '^ready' "$WORLD/echo.log"
}

teardown_file() {
	[[ -n ${WORLD:-} ]] || return 0
	local pid
	while read -r pid; do
		kill "$pid" 2>/dev/null
	done <"$WORLD/pids"
	ip netns del "$HOST_NS" 2>/dev/null
	ip netns del "$INET_NS" 2>/dev/null
	ip netns del "$JAIL_NS" 2>/dev/null
	rm -rf "$WORLD"
}

setup() {
	require_privileged
	[[ -x $PY ]] || cannot_run "$PY is missing (the jail's probes run as nobody)"
	[[ -n ${WORLD:-} && -s $WORLD/pids ]] || cannot_run "setup_file could not build the world"
	grep -qx ready "$WORLD/listen.log" || { cat "$WORLD"/*.log >&2; return 1; }
	made FENCED make_cgroup fenced
	made OPEN make_cgroup open
	# The probe tags of this test: what the host listeners log names them.
	T_FENCED="t$BATS_TEST_NUMBER-fenced"
	T_OPEN="t$BATS_TEST_NUMBER-open"
	: >"$BATS_TEST_TMPDIR/added"
}

teardown() {
	local pid dev addr
	if [[ -f $BATS_TEST_TMPDIR/watch.pid ]]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		done <"$BATS_TEST_TMPDIR/watch.pid"
	fi
	# What a test added to the host: "ADDR DEV", or "- DEV" for a link.
	if [[ -n ${HOST_NS:-} && -f $BATS_TEST_TMPDIR/added ]]; then
		while read -r addr dev; do
			if [[ $addr == - ]]; then
				ip -n "$HOST_NS" link del "$dev" 2>/dev/null
			else
				ip -n "$HOST_NS" addr del "$addr" dev "$dev" 2>/dev/null
			fi
		done <"$BATS_TEST_TMPDIR/added"
	fi
	cleanup_made
}

# add_address ADDR/LEN DEV [ip addr add options]: an address of the host,
# removed in teardown.
add_address() {
	local addr=$1 dev=$2
	shift 2
	echo "$addr $dev" >>"$BATS_TEST_TMPDIR/added"
	ip -n "$HOST_NS" addr add "$addr" dev "$dev" "$@"
}

# add_link NAME: an interface of the host (a bridge without ports, as a
# dummy interface), up; removed in teardown.
add_link() {
	echo "- $1" >>"$BATS_TEST_TMPDIR/added"
	ip -n "$HOST_NS" link add "$1" type bridge
	ip -n "$HOST_NS" link set "$1" up
}

# as_nobody CG CMD...: CMD jailed in cgroup CG and the jail's namespace, as
# nobody with no capability (no CAP_NET_RAW).
as_nobody() {
	local cg="$1"
	shift
	jailed "$cg" "$JAIL_NS" setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all --bounding-set=-all -- "$@"
}

# policy_argv: the default policy as the host computes it now, with
# --network none --dns RESOLVER; the argv in POLICY_ARGV.
policy_argv() {
	run_capture in_host "$POLICY" --network none --dns "$RESOLVER"
	[[ $status -eq 0 && -z $stderr && -n $output ]] ||
		{ echo "jail-ai-policy: status $status, stderr '$stderr'" >&2; return 1; }
	mapfile -t POLICY_ARGV <<<"$output"
}

# fence CG: the caller guide's step: the policy's argv, --cgroup CG before
# it, loaded by the loader (load_filter).
fence() {
	policy_argv
	load_filter "$1" "${POLICY_ARGV[@]}"
}

# probe_from CG TAG SPEC...: test/hostfence.py's probes, jailed in CG; one
# "SPEC OUTCOME" line each in $output.
probe_from() {
	local cg=$1
	shift
	run_capture as_nobody "$cg" "$PY" "$HELPER" probe "$@"
	[[ $status -eq 0 && -z $stderr ]] ||
		{ echo "probe: status $status, stderr '$stderr', output '$output'" >&2; return 1; }
	mapfile -t lines <<<"$output"
	echo "# probes from ${cg##*/}:" && printf '#   %s\n' "${lines[@]}"
}

# outcomes_are UDP TCP PING: every outcome in $output, by kind of probe,
# matches the pattern given for it (an extended regex).
outcomes_are() {
	local spec outcome want bad=0
	while read -r spec outcome; do
		case $spec in
		udp/*) want=$1 ;;
		tcp/*) want=$2 ;;
		ping/*) want=$3 ;;
		*) want='^$' ;;
		esac
		[[ $outcome =~ ^($want)$ ]] || { echo "unexpected: $spec $outcome (want $want)" >&2; bad=1; }
	done <<<"$output"
	return "$bad"
}
refused_all() { outcomes_are EPERM EPERM 'EPERM|noreply'; }
reached_all() { outcomes_are sent connected reply; }

# payloads: what the host listeners received so far, "TAG SPEC" a line.
payloads() { sed -n 's/^delivered .* from [^ ]*: //p' "$WORLD/listen.log"; }
delivered() { payloads | grep -Fxq -- "$1 $2"; }
deliveries() { payloads | grep -c -- "^$1 " || true; }

# fenced_and_open SPEC...: the heart of each test. Loads the default policy
# on FENCED and runs the probes from there, then the same probes from OPEN
# (no filter, same jail), and waits until a host listener has logged each
# TCP and UDP probe from OPEN: only then is it certain that FENCED's would
# have arrived. Then: FENCED's TCP and UDP probes failed with EPERM and its
# pings with EPERM or no reply, the listeners logged nothing while they ran
# and nothing of theirs since; OPEN's were sent, connected and answered.
fenced_and_open() {
	local before after spec fenced bad=0
	fence "$FENCED"
	before=$(wc -l <"$WORLD/listen.log")
	probe_from "$FENCED" "$T_FENCED" "$@"
	fenced=$output
	after=$(wc -l <"$WORLD/listen.log")

	HOSTFENCE_WAIT=30 probe_from "$OPEN" "$T_OPEN" "$@"
	reached_all || bad=1
	for spec in "$@"; do
		[[ $spec == ping/* ]] && continue
		eventually delivered "$T_OPEN" "$spec" ||
			{ echo "control: $spec never reached the host" >&2; bad=1; }
	done

	output=$fenced
	refused_all || bad=1
	[[ $after -eq $before ]] ||
		{ echo "delivered while fenced:" >&2; sed -n "$((before + 1)),${after}p" "$WORLD/listen.log" >&2; bad=1; }
	[[ $(deliveries "$T_FENCED") -eq 0 ]] ||
		{ echo "delivered from the fenced cgroup:" >&2; grep -F ": $T_FENCED " "$WORLD/listen.log" >&2; bad=1; }
	return "$bad"
}

# The jail's interface, for the scope of link-local and multicast IPv6.
IF=eth0
# Set in setup() (FENCED, OPEN: by `made`) and in the watch tests.
FENCED='' OPEN='' WATCHED='' T_FENCED='' T_OPEN=''

@test "the test world has no way off this machine, and the jail's probes hold no capability" {
	local ns
	# Only loopback, the two veths and the suite's bridges: no link to the
	# machine's own namespace.
	run in_host ip -o link show
	[[ $(grep -cvE ": (lo|br0|br1|extra|vjail@[^:]*|uplink@[^:]*): " <<<"$output") -eq 0 ]]
	for ns in "$INET_NS" "$JAIL_NS"; do
		run ip -n "$ns" -o link show
		[[ $(grep -cvE ": (lo|eth0@[^:]*): " <<<"$output") -eq 0 ]]
	done
	# The internet routes nowhere but its own link and back to the jail.
	run in_inet ip route get 192.0.2.1
	[[ $status -ne 0 && $output == *unreachable* ]]
	run in_inet ip -6 route get 2001:db8::1
	[[ $status -ne 0 ]]
	# The host forwards and has its subnet-router anycast addresses.
	[[ $(in_host sysctl -n net.ipv6.conf.all.forwarding) -eq 1 ]]
	run in_host ip -6 route show table local type anycast
	[[ $output == *"anycast 2001:db8:89:: dev br0"* && $output == *"anycast 2001:db8:100:: dev uplink"* ]]
	# A jailed process: uid 65534, no capability at all, in its cgroup.
	run as_nobody "$OPEN" grep -E '^(Uid|CapEff|CapBnd|CapAmb):' /proc/self/status
	[[ $output == *"Uid:"$'\t'"65534"* ]]
	[[ $(grep -c $'\t0000000000000000$' <<<"$output") -eq 3 ]]
	run as_nobody "$OPEN" cat /proc/self/cgroup
	[[ $output == *"::${OPEN#"$CG2"}"* ]]
}

@test "default policy: jail-ai-policy --network none --dns RESOLVER denies every on-link prefix, host address and local-use range; allows only the resolver's port 53" {
	policy_argv
	printf '# %s\n' "${POLICY_ARGV[@]}"
	argv=" ${POLICY_ARGV[*]} "
	[[ ${POLICY_ARGV[0]} != --cgroup ]]
	local want
	for want in 10.89.0.0/24 2001:db8:89::/64 198.51.100.0/24 2001:db8:100::/64 \
		192.168.50.0/24 100.64.0.0/10 \
		10.89.0.1 2001:db8:89::1 198.51.100.1 2001:db8:100::1 192.168.50.1 \
		192.0.2.10 192.0.2.20 2001:db8:5::1 100.100.7.1 \
		0.0.0.0/8 10.0.0.0/8 169.254.0.0/16 172.16.0.0/12 192.168.0.0/16 \
		224.0.0.0/4 240.0.0.0/4 fc00::/7 fe80::/10 ff00::/8 \
		169.254.169.254 fd00:ec2::254 100.100.100.200 168.63.129.16; do
		[[ $argv == *" --deny $want "* ]] || { echo "no --deny $want" >&2; return 1; }
	done
	[[ $argv == *" --allow $RESOLVER:53 "* ]]
	# every --allow is a resolver's port 53, nothing else
	local i
	for ((i = 0; i < ${#POLICY_ARGV[@]}; i += 2)); do
		[[ ${POLICY_ARGV[i]} == --deny || (${POLICY_ARGV[i]} == --allow && ${POLICY_ARGV[i + 1]} == *:53) ]] ||
			{ echo "unexpected: ${POLICY_ARGV[*]:i:2}" >&2; return 1; }
	done
	# The loader takes it, and reports every rule.
	fence "$FENCED"
}

@test "broadcast: UDP to the bridge's, the uplink's and the second bridge's broadcast addresses and to 255.255.255.255 is refused and never delivered" {
	fenced_and_open udp/10.89.0.255/$PORT udp/255.255.255.255/$PORT \
		udp/198.51.100.255/$PORT udp/192.168.50.255/$PORT \
		udp/::ffff:10.89.0.255/$PORT udp/::ffff:255.255.255.255/$PORT
}

@test "multicast: mDNS, SSDP, LLMNR and all-nodes groups (224.0.0.251, 239.255.255.250, 224.0.0.252, 224.0.0.1, ff02::fb, ff02::1:3, ff02::1) are refused and never delivered; an ICMPv6 echo to ff02::1 is not answered" {
	fenced_and_open udp/224.0.0.251/5353 udp/239.255.255.250/1900 udp/224.0.0.252/5355 \
		udp/224.0.0.1/$PORT udp/::ffff:224.0.0.251/5353 \
		"udp/ff02::fb%$IF/5353" "udp/ff02::1:3%$IF/5355" "udp/ff02::1%$IF/$PORT" \
		"ping/ff02::1%$IF"
}

@test "anycast: UDP to the forwarding host's IPv6 subnet-router anycast addresses (2001:db8:89::, 2001:db8:100::, fe80::) is refused and never delivered" {
	fenced_and_open udp/2001:db8:89::/$PORT udp/2001:db8:100::/$PORT "udp/fe80::%$IF/$PORT"
}

@test "host addresses: the bridge, uplink, second bridge, scope link, scope host, CGNAT, IPv6 and link-local addresses, also IPv4-mapped, are refused over TCP, UDP and ping and never delivered" {
	local link_local specs=() addr
	link_local=$(in_host ip -j -6 addr show dev br0 |
		jq -r '[.[].addr_info[]? | select(.scope == "link") | .local][0]')
	[[ $link_local == fe80::* ]]
	for addr in 10.89.0.1 198.51.100.1 192.168.50.1 192.0.2.10 192.0.2.20 100.100.7.1 \
		2001:db8:89::1 2001:db8:100::1 2001:db8:5::1 "$link_local%$IF"; do
		specs+=("udp/$addr/$PORT" "tcp/$addr/$PORT" "ping/$addr")
	done
	for addr in 10.89.0.1 198.51.100.1 192.168.50.1 192.0.2.10 192.0.2.20 100.100.7.1; do
		specs+=("udp/::ffff:$addr/$PORT" "tcp/::ffff:$addr/$PORT")
	done
	fenced_and_open "${specs[@]}"
}

@test "later addresses: an address added in an on-link prefix (10.89.0.77, 2001:db8:89::77) and a new private-range interface (172.31.5.1) are refused without rerunning the loader" {
	fence "$FENCED"
	add_address 10.89.0.77/24 br0
	add_address 2001:db8:89::77/64 br0 nodad
	add_link late0
	add_address 172.31.5.1/24 late0
	local specs=() addr
	for addr in 10.89.0.77 2001:db8:89::77 172.31.5.1 172.31.5.255; do
		specs+=("udp/$addr/$PORT")
		[[ $addr == *.255 ]] || specs+=("tcp/$addr/$PORT" "ping/$addr")
	done
	specs+=("udp/::ffff:10.89.0.77/$PORT" "tcp/::ffff:172.31.5.1/$PORT")
	# The filter computed before the addresses existed: first, so that the
	# control below (OPEN's deliveries awaited) bounds its deliveries too.
	local first=$FENCED before
	probe_from "$first" "$T_FENCED-before" "${specs[@]}"
	before=$output
	# Then, with a policy computed now (on a second cgroup), the same, and
	# the control from OPEN.
	made FENCED make_cgroup fenced-now
	fenced_and_open "${specs[@]}"
	output=$before
	refused_all
	[[ $(deliveries "$T_FENCED-before") -eq 0 ]]
}

@test "internet and DNS: TCP and UDP echo and ping to the internet server over IPv4 and IPv6 work from the fenced jail; the resolver answers on 10.89.0.1:53, its other ports stay refused" {
	fence "$FENCED"
	local mode addr
	for mode in tcp udp-sendto udp-connect; do
		for addr in "$SERVER4" "$SERVER6" "::ffff:$SERVER4"; do
			run as_nobody "$FENCED" "$NETPROBE" "$mode" "$addr" "$INET_PORT"
			[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
				{ echo "netprobe $mode $addr: $status '$output'" >&2; return 1; }
		done
	done
	HOSTFENCE_WAIT=30 probe_from "$FENCED" "$T_FENCED" "ping/$SERVER4" "ping/$SERVER6" \
		"dns/$RESOLVER/internet.test" "dns/$RESOLVER/nosuch.test" \
		"tcp/$RESOLVER/53" "udp/$RESOLVER/$PORT" "tcp/$RESOLVER/$PORT" "ping/$RESOLVER"
	[[ ${lines[0]} == "ping/$SERVER4 reply" && ${lines[1]} == "ping/$SERVER6 reply" ]]
	[[ ${lines[2]} == "dns/$RESOLVER/internet.test answer $SERVER4" ]]
	[[ ${lines[3]} == "dns/$RESOLVER/nosuch.test nxdomain" ]]
	# TCP port 53 is open too (nothing listens there: refused by the host's
	# kernel, not by the filter)
	[[ ${lines[4]} == "tcp/$RESOLVER/53 error ECONNREFUSED" ]]
	[[ ${lines[5]} == "udp/$RESOLVER/$PORT EPERM" && ${lines[6]} == "tcp/$RESOLVER/$PORT EPERM" ]]
	[[ ${lines[7]} == "ping/$RESOLVER EPERM" || ${lines[7]} == "ping/$RESOLVER noreply" ]]
	[[ $(deliveries "$T_FENCED") -eq 0 ]]
}

# start_watch COMMAND...: jail-ai-policy --watch -- COMMAND... as root in the
# host's namespace, in the background: its stdout in WATCH_OUT, stderr in
# WATCH_ERR, its PID in WATCH_PID (ended in teardown).
start_watch() {
	WATCH_OUT="$BATS_TEST_TMPDIR/watch.out" WATCH_ERR="$BATS_TEST_TMPDIR/watch.err"
	# nsenter execs the policy (and env, pyenv's shim, python exec in turn),
	# so $! is the watch itself
	nsenter --net="/run/netns/$HOST_NS" "$POLICY" --network none --dns "$RESOLVER" \
		--watch -- "$@" >"$WATCH_OUT" 2>"$WATCH_ERR" 3>&- 4>&- &
	WATCH_PID=$!
	echo "$WATCH_PID" >>"$BATS_TEST_TMPDIR/watch.pid"
}

# check_reply N: the watch's reply N ('$': the last) is the loader's whole
# success for cgroup $WATCHED and the argv POLICY_ARGV (is_reply).
check_reply() {
	local file="$BATS_TEST_TMPDIR/reply"
	reply "$1" >"$file"
	# shellcheck disable=SC2046 # four numbers, split on purpose
	is_reply "$file" "$WATCHED" $(reply_counts "${POLICY_ARGV[@]}")
}

# replies N: the watch has printed N replies (or more).
replies() { [[ $(wc -l <"$WATCH_OUT") -ge $1 ]]; }
reply() { sed -n "${1}p" "$WATCH_OUT"; }

# sample_in_force CG FILE: in_force CG appended to FILE, over and over, until
# FILE.stop exists; started in the background by the watch tests.
sample_in_force() {
	while [[ ! -e $2.stop ]]; do
		in_force "$1" >>"$2"
	done
}

@test "watch: an address the host gains later is open under a one-shot policy, refused once jail-ai-policy --watch has rerun the loader; the cgroup keeps our six programs throughout" {
	fence "$FENCED" # the one-shot policy, before the address exists
	made WATCHED make_cgroup watched
	start_watch "$LOADER" --cgroup "$WATCHED"
	eventually replies 1 || { cat "$WATCH_ERR" >&2; return 1; }
	policy_argv
	check_reply 1
	first=$(jq -c .programs <<<"$(reply 1)")
	[[ $(in_force "$WATCHED") == "$first" ]]
	samples="$BATS_TEST_TMPDIR/samples"
	sample_in_force "$WATCHED" "$samples" 3>&- 4>&- &
	echo $! >>"$BATS_TEST_TMPDIR/watch.pid"
	sampler=$!
	sampled() { [[ -s $samples ]]; }
	eventually sampled # a sample before the change

	# A public address on the host: no range of the default policy covers it.
	add_address 198.18.7.7/32 extra
	specs=("tcp/198.18.7.7/$PORT" "udp/198.18.7.7/$PORT" ping/198.18.7.7)
	HOSTFENCE_WAIT=30 probe_from "$FENCED" "$T_FENCED" "${specs[@]}"
	[[ $output == "tcp/198.18.7.7/$PORT connected"$'\n'"udp/198.18.7.7/$PORT sent"$'\n'"ping/198.18.7.7 reply" ]]
	eventually delivered "$T_FENCED" "tcp/198.18.7.7/$PORT"
	eventually delivered "$T_FENCED" "udp/198.18.7.7/$PORT"

	# The watch saw the change and reran the loader with the new argv.
	eventually replies 2 || { cat "$WATCH_ERR" >&2; return 1; }
	policy_argv
	[[ " ${POLICY_ARGV[*]} " == *" --deny 198.18.7.7 "* ]]
	check_reply 2
	[[ $(jq .deny <<<"$(reply 2)") -eq $(($(jq .deny <<<"$(reply 1)") + 1)) ]]
	second=$(jq -c .programs <<<"$(reply 2)")
	[[ $second != "$first" ]]
	T_WATCHED="t$BATS_TEST_NUMBER-watched"
	probe_from "$WATCHED" "$T_WATCHED" "${specs[@]}"
	refused_all
	eventually grep -qxF "$second" "$samples"
	touch "$samples.stop"
	wait "$sampler"
	# Every sample: each of the six hooks held our program of the first run
	# or of the second (the loader swaps them one hook at a time, each
	# swap atomic), never none and never another.
	echo "# $(wc -l <"$samples") samples of the hooks in force"
	[[ $(head -n 1 "$samples") == "$first" ]]
	jq -se --argjson a "$first" --argjson b "$second" \
		'all(.[]; . as $s | all(range(6); $s[.] != null and ($s[.] == $a[.] or $s[.] == $b[.])))' \
		"$samples" >/dev/null || { cat "$samples" >&2; return 1; }
	[[ $(our_programs "$WATCHED") -eq 6 ]]
	[[ $(deliveries "$T_WATCHED") -eq 0 ]]
	# One change, one rerun; nothing on stderr; still watching.
	[[ $(wc -l <"$WATCH_OUT") -eq 2 && ! -s $WATCH_ERR ]]
	kill -0 "$WATCH_PID"
}

@test "watch: a failed rerun is reported on stderr as 'jail-ai-policy: --watch: ...', the previous filter stays in force and the watch goes on; the next change recovers" {
	made WATCHED make_cgroup watched
	flag="$BATS_TEST_TMPDIR/fail"
	cat >"$BATS_TEST_TMPDIR/loader-or-fail" <<-EOF
		#!/bin/sh
		if [ -e '$flag' ]; then
		    echo 'loader-or-fail: told to fail' >&2
		    exit 70
		fi
		exec '$LOADER' "\$@"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/loader-or-fail"
	start_watch "$BATS_TEST_TMPDIR/loader-or-fail" --cgroup "$WATCHED"
	eventually replies 1 || { cat "$WATCH_ERR" >&2; return 1; }
	first=$(jq -c .programs <<<"$(reply 1)")

	touch "$flag"
	add_address 198.18.7.8/32 extra
	eventually grep -q '^jail-ai-policy: --watch: ' "$WATCH_ERR"
	echo "# stderr: $(<"$WATCH_ERR")"
	# the command's own message, then the watch's
	[[ $(head -n 1 "$WATCH_ERR") == "loader-or-fail: told to fail" ]]
	[[ $(sed -n 2p "$WATCH_ERR") == "jail-ai-policy: --watch: $BATS_TEST_TMPDIR/loader-or-fail exited 70;"* ]]
	kill -0 "$WATCH_PID"
	[[ $(wc -l <"$WATCH_OUT") -eq 1 ]]
	# The first run's filter is the one in force: the host stays closed,
	# the new address (which it does not name) is open.
	[[ $(in_force "$WATCHED") == "$first" ]]
	probe_from "$WATCHED" "$T_FENCED" tcp/10.89.0.1/$PORT udp/10.89.0.255/$PORT \
		tcp/198.18.7.8/$PORT
	[[ ${lines[0]} == "tcp/10.89.0.1/$PORT EPERM" && ${lines[1]} == "udp/10.89.0.255/$PORT EPERM" ]]
	[[ ${lines[2]} == "tcp/198.18.7.8/$PORT connected" ]]

	# The next change, with the command working again, brings both in (a
	# late part of the first change's burst may have rerun it first: the
	# last reply is the one that counts).
	rm "$flag"
	add_address 198.18.7.9/32 extra
	policy_argv
	[[ " ${POLICY_ARGV[*]} " == *" --deny 198.18.7.8 "* && " ${POLICY_ARGV[*]} " == *" --deny 198.18.7.9 "* ]]
	last_reply_is() { check_reply '$' 2>/dev/null; }
	eventually last_reply_is || { cat "$WATCH_OUT" "$WATCH_ERR" >&2; return 1; }
	check_reply '$'
	[[ $(in_force "$WATCHED") == "$(jq -c .programs <<<"$(reply '$')")" ]]
	probe_from "$WATCHED" "$T_FENCED-recovered" tcp/198.18.7.8/$PORT tcp/198.18.7.9/$PORT \
		udp/198.18.7.9/$PORT ping/198.18.7.9
	refused_all
	[[ $(deliveries "$T_FENCED-recovered") -eq 0 ]]
	kill -0 "$WATCH_PID"
}

# in_host_ns: the PIDs of every process in the host's namespace, sorted.
in_host_ns() {
	local ino
	ino=$(stat -Lc %i "/run/netns/$HOST_NS")
	find /proc/[0-9]*/ns/net -maxdepth 0 -lname "net:\[$ino\]" 2>/dev/null |
		cut -d/ -f3 | sort
}
# only_servers_in_host_ns: nothing runs in the host's namespace but the
# suite's servers.
only_servers_in_host_ns() { [[ $(in_host_ns) == "$(sort "$WORLD/host-pids")" ]]; }

@test "watch: SIGTERM ends jail-ai-policy --watch with exit 0 and leaves no process of its own behind; the filter stays" {
	made WATCHED make_cgroup watched
	start_watch "$LOADER" --cgroup "$WATCHED"
	eventually replies 1 || { cat "$WATCH_ERR" >&2; return 1; }
	# Its children while it waits for a change (an `ip monitor`, if it used
	# one; this policy reads rtnetlink itself and has none): whatever they
	# are, the SIGTERM must not leave them behind.
	children=$(pgrep -P "$WATCH_PID" || true)
	echo "# children of the watch: ${children:-none}"
	[[ " $(in_host_ns | tr '\n' ' ') " == *" $WATCH_PID "* ]]
	kill -TERM "$WATCH_PID"
	status=0
	wait "$WATCH_PID" || status=$?
	[[ $status -eq 0 ]]
	[[ ! -s $WATCH_ERR && $(wc -l <"$WATCH_OUT") -eq 1 ]]
	gone() { ! kill -0 "$1" 2>/dev/null; }
	for child in $children; do
		eventually gone "$child"
	done
	eventually only_servers_in_host_ns || { in_host_ns >&2; return 1; }
	# The filter is the kernel's: it outlives the watch.
	[[ $(in_force "$WATCHED") == "$(jq -c .programs <<<"$(reply 1)")" ]]
}

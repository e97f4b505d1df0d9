#!/usr/bin/env bats
# Allow-list by domain (README.md "Allow-list by domain", issue 22): the
# posture `jail-ai-policy --proxy` prints, loaded by the loader, leaves a
# jailed process one way out, a real proxy (tinyproxy, from Debian's
# archive) that allows one name; every other route fails at once with EPERM.
# Each test that asserts a refusal first shows the same probe succeed from
# an unfiltered cgroup in the same namespace: without that control, "it
# failed" would prove nothing.
#
# Safety (DESIGN.md §8): everything lives in three network namespaces made in
# setup_file and removed in teardown_file, linked only to each other:
#   - $JAIL_NS, the jail: 198.51.100.2/24, 2001:db8:100::2/64 on a veth to
#     the host, default routes through it (a container on its bridge), and
#     an echo server of its own on port 7777 of its loopback;
#   - $HOST_NS, the host: 198.51.100.1 and 2001:db8:100::1 on the jail's
#     link (the jail's gateway, where the proxy listens), 198.18.0.1 and
#     2001:db8:200::1 on its uplink, forwarding on (its own sysctls); it runs
#     tinyproxy on port 3128 (resolving through dnsmasq), dnsmasq on port 53
#     (the host's DNS forwarder) and an echo server on port 7777 (another
#     host service);
#   - $INET_NS, the internet: the uplink's far end (198.18.0.2,
#     2001:db8:200::2) and, on its lo, allowed.test (198.18.1.10,
#     2001:db8:300::10) and other.test (198.18.1.20, 2001:db8:300::20), each
#     with HTTP on port 80, HTTPS on 443 (a certificate made here, for both
#     names, that curl trusts by --cacert) and the echo server on 7777; its
#     routes lead back to the host only.
# Filters are attached only to cgroups the tests make. The jailed probes run
# as root, so raw sockets are tried too.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

POLICY="$PROJECT_ROOT/scripts/jail-ai-policy"
NETPROBE="$TEST_BIN/netprobe"
PROXY4=198.51.100.1
PROXY6=2001:db8:100::1
ALLOWED4=198.18.1.10
ALLOWED6=2001:db8:300::10
OTHER4=198.18.1.20
OTHER6=2001:db8:300::20
ECHO=7777

in_host() { jailed - "$HOST_NS" "$@"; }
in_inet() { jailed - "$INET_NS" "$@"; }

# start_in NS LOGNAME CMD...: a server of the suite, PID recorded.
start_in() {
	local ns=$1 log=$2
	shift 2
	jailed_bg - "$ns" /dev/null "$WORLD/$log.log" "$@"
	echo "$JAILED_PID" >>"$WORLD/pids"
}

# listening NS PROTO PORT: something in NS listens on PROTO (tcp, udp) PORT.
listening() {
	[[ -n $(jailed - "$1" ss -Hln"${2:0:1}" "sport = :$3") ]]
}

setup_file() {
	[[ $(id -u) -eq 0 && -n "$CG2" && -x "$LOADER" ]] || return 0
	command -v tinyproxy >/dev/null && command -v dnsmasq >/dev/null || return 0
	export WORLD="$BATS_FILE_TMPDIR/world"
	export HOST_NS="jt-$$-xhost" INET_NS="jt-$$-xinet" JAIL_NS="jt-$$-xjail"
	mkdir -p "$WORLD"
	: >"$WORLD/pids"
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

	# The jail on the host's link.
	ip -n "$HOST_NS" link add vjail type veth peer name eth0 netns "$JAIL_NS"
	ip -n "$HOST_NS" addr add "$PROXY4/24" dev vjail
	ip -n "$HOST_NS" addr add "$PROXY6/64" dev vjail nodad
	ip -n "$JAIL_NS" addr add 198.51.100.2/24 dev eth0
	ip -n "$JAIL_NS" addr add 2001:db8:100::2/64 dev eth0 nodad
	ip -n "$HOST_NS" link set vjail up
	ip -n "$JAIL_NS" link set eth0 up
	ip -n "$JAIL_NS" route add default via "$PROXY4"
	ip -n "$JAIL_NS" -6 route add default via "$PROXY6"

	# The uplink and the internet behind it.
	ip -n "$HOST_NS" link add uplink type veth peer name eth0 netns "$INET_NS"
	ip -n "$HOST_NS" addr add 198.18.0.1/24 dev uplink
	ip -n "$HOST_NS" addr add 2001:db8:200::1/64 dev uplink nodad
	ip -n "$INET_NS" addr add 198.18.0.2/24 dev eth0
	ip -n "$INET_NS" addr add 2001:db8:200::2/64 dev eth0 nodad
	ip -n "$HOST_NS" link set uplink up
	ip -n "$INET_NS" link set eth0 up
	local addr
	for addr in "$ALLOWED4" "$OTHER4"; do
		ip -n "$INET_NS" addr add "$addr/32" dev lo
	done
	for addr in "$ALLOWED6" "$OTHER6"; do
		ip -n "$INET_NS" addr add "$addr/128" dev lo nodad
	done
	ip -n "$HOST_NS" route add 198.18.1.0/24 via 198.18.0.2
	ip -n "$HOST_NS" -6 route add 2001:db8:300::/64 via 2001:db8:200::2
	# (from allowed.test's address: a reply to a connected UDP socket must
	# come from the address it connected to)
	ip -n "$INET_NS" route add default via 198.18.0.1 src "$ALLOWED4"
	ip -n "$INET_NS" -6 route add default via 2001:db8:200::1 src "$ALLOWED6"

	# The internet's servers, with a certificate for both names.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=jail-ai-proxy-test -addext "subjectAltName=DNS:allowed.test,DNS:other.test" \
		-keyout "$WORLD/key.pem" -out "$WORLD/cert.pem" 2>"$WORLD/openssl.log"
	start_in "$INET_NS" web "$PYTHON" "$PROJECT_ROOT/test/webd.py" "$WORLD/cert.pem" "$WORLD/key.pem" \
		allowed.test="$ALLOWED4" allowed.test="$ALLOWED6" other.test="$OTHER4" other.test="$OTHER6"
	start_in "$INET_NS" echo-inet "$NETPROBE" serve "$ECHO"
	# A service of the jail's own, on its loopback (not in a filtered cgroup).
	start_in "$JAIL_NS" echo-jail "$NETPROBE" serve "$ECHO"

	# The host's services: its DNS forwarder, the proxy, another service.
	start_in "$HOST_NS" dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--bind-interfaces --listen-address="$PROXY4,$PROXY6,127.0.0.1" --user=root \
		--pid-file= --log-facility=- \
		--host-record="allowed.test,$ALLOWED4,$ALLOWED6" --host-record="other.test,$OTHER4,$OTHER6"
	start_in "$HOST_NS" echo-host "$NETPROBE" serve "$ECHO"
	# The proxy: README's configuration, with the suite's paths; it
	# resolves through dnsmasq (a resolv.conf of its own mount namespace).
	echo allowed.test >"$WORLD/allowlist"
	cat >"$WORLD/tinyproxy.conf" <<-EOF
		User nobody
		Group nogroup
		Port 3128
		Timeout 60
		Filter "$WORLD/allowlist"
		FilterDefaultDeny Yes
		FilterType fnmatch
		ConnectPort 443
	EOF
	echo "nameserver 127.0.0.1" >"$WORLD/resolv.conf"
	chmod 0755 "$WORLD" "$BATS_FILE_TMPDIR"
	local resolv
	resolv=$(readlink -f /etc/resolv.conf)
	# shellcheck disable=SC2016 # the inner sh's positional parameters
	start_in "$HOST_NS" tinyproxy unshare --mount --propagation private sh -c \
		'mount --bind "$0" "$1" && exec tinyproxy -d -c "$2"' \
		"$WORLD/resolv.conf" "$resolv" "$WORLD/tinyproxy.conf"

	eventually grep -qx ready "$WORLD/web.log"
	eventually grep -q '^ready' "$WORLD/echo-inet.log"
	eventually grep -q '^ready' "$WORLD/echo-host.log"
	eventually grep -q '^ready' "$WORLD/echo-jail.log"
	eventually listening "$HOST_NS" udp 53
	eventually listening "$HOST_NS" tcp 3128
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
	command -v tinyproxy >/dev/null || cannot_run "tinyproxy is not installed (scripts/install-deps)"
	command -v dnsmasq >/dev/null || cannot_run "dnsmasq is not installed (scripts/install-deps)"
	[[ -x $NETPROBE ]] || cannot_run "netprobe not built (make test-helpers)"
	[[ -n ${WORLD:-} && -s $WORLD/pids ]] || cannot_run "setup_file could not build the world"
	listening "$HOST_NS" tcp 3128 || { cat "$WORLD"/*.log >&2; return 1; }
	made FENCED make_cgroup fenced
	made OPEN make_cgroup open
}

teardown() {
	cleanup_made
}

# fence: the posture jail-ai-policy --proxy prints on the host, for the
# proxy at both of its addresses, loaded on $FENCED. (--network none: the
# jail's link is no podman network; podman.bats runs the posture with one.)
fence() {
	local policy
	policy=$(in_host "$POLICY" --network none --proxy "$PROXY4:3128" --proxy "[$PROXY6]:3128")
	mapfile -t argv <<<"$policy"
	expected=(--deny 0.0.0.0/0 --deny ::/0 --allow "$PROXY4:3128/tcp" --allow "[$PROXY6]:3128/tcp"
		--allow 127.0.0.0/8 --allow ::1)
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	load_filter "$FENCED" "${argv[@]}"
}

# in_jail CG CMD...: CMD in cgroup CG and the jail's namespace; sets
# $status and $output (stdout and stderr).
in_jail() {
	local cg=$1
	shift
	run jailed "$cg" "$JAIL_NS" "$@"
}

# via_proxy CG PROXY URL: curl through the proxy (its URL), trusting the
# suite's certificate; $output is the body, or curl's error.
via_proxy() {
	in_jail "$1" curl -sS -g --max-time 20 --cacert "$WORLD/cert.pem" -x "$2" "$3"
}

# refused_at_once CG MODE ADDR [PORT]: netprobe's MODE from CG fails with EPERM.
refused_at_once() {
	in_jail "$1" "$NETPROBE" "${@:2}"
	[[ $status -eq 2 && $output =~ ^refused\ EPERM\ in\ [0-9]+\ ms$ ]] ||
		{ echo "netprobe ${*:2} from $1: expected refused EPERM, got $status: $output" >&2; return 1; }
}

# echoed CG MODE ADDR [PORT]: netprobe's MODE from CG gets its echo back.
echoed() {
	in_jail "$1" "$NETPROBE" "${@:2}"
	[[ $status -eq 0 && $output =~ ^ok\ in\ [0-9]+\ ms$ ]] ||
		{ echo "netprobe ${*:2} from $1: expected ok, got $status: $output" >&2; return 1; }
}

@test "the proxy's world has no way off this machine" {
	run jailed - "$JAIL_NS" ip -o link show
	[[ $(grep -cvE ': (lo|eth0@[^:]*): ' <<<"$output") -eq 0 ]]
	run in_inet ip -o link show
	[[ $(grep -cvE ': (lo|eth0@[^:]*): ' <<<"$output") -eq 0 ]]
	run in_host ip -o link show
	[[ $(grep -cvE ': (lo|vjail@[^:]*|uplink@[^:]*): ' <<<"$output") -eq 0 ]]
	# The internet's only routes lead back to the host.
	run in_inet ip route get 192.0.2.1
	[[ $output == "192.0.2.1 via 198.18.0.1 dev eth0 "* ]]
	run in_host ip route get 192.0.2.1
	[[ $status -ne 0 && $output == *"unreachable"* ]]
	run in_host ip -6 route get 2001:db8::1
	[[ $status -ne 0 ]]
}

@test "unfenced (the control): the jail reaches both names straight, and the proxy over IPv4 and IPv6 passes allowed.test alone: 403 for other.test, an address, a name that merely contains allowed.test" {
	for url in "http://allowed.test/" "https://allowed.test/" "http://[$ALLOWED6]/"; do
		in_jail "$OPEN" curl -sS -g --max-time 20 --cacert "$WORLD/cert.pem" --noproxy '*' \
			--resolve "allowed.test:80:$ALLOWED4" --resolve "allowed.test:443:$ALLOWED4" "$url"
		[[ $status -eq 0 && $output == allowed.test ]] || { echo "$url: $status $output" >&2; return 1; }
	done
	in_jail "$OPEN" curl -sS -g --max-time 20 --cacert "$WORLD/cert.pem" --noproxy '*' \
		--resolve "other.test:443:[$OTHER6]" https://other.test/
	[[ $status -eq 0 && $output == other.test ]]
	for proxy in "http://$PROXY4:3128" "http://[$PROXY6]:3128"; do
		via_proxy "$OPEN" "$proxy" https://allowed.test/
		[[ $status -eq 0 && $output == allowed.test ]] || { echo "$proxy: $status $output" >&2; return 1; }
	done
	for url in http://other.test/ "http://$ALLOWED4/" http://allowed.test.other.test/ http://xallowed.test/; do
		in_jail "$OPEN" curl -sS -g --max-time 20 -o /dev/null -w '%{http_code}' -x "http://$PROXY4:3128" "$url"
		[[ $status -eq 0 && $output == 403 ]] || { echo "$url: $status $output" >&2; return 1; }
	done
	via_proxy "$OPEN" "http://$PROXY4:3128" https://other.test/
	[[ $status -eq 56 && $output == *"CONNECT tunnel failed, response 403"* ]]
	# The host's resolver answers, the host's other service and the
	# internet echo, ping reaches the servers.
	in_jail "$OPEN" busybox nslookup allowed.test "$PROXY4"
	[[ $status -eq 0 && $output == *"Address: $ALLOWED4"* ]]
	echoed "$OPEN" tcp "$PROXY4" "$ECHO"
	echoed "$OPEN" udp-sendto "$PROXY6" "$ECHO"
	echoed "$OPEN" udp-connect "$ALLOWED4" "$ECHO"
	echoed "$OPEN" tcp 198.18.0.1 "$ECHO"
	echoed "$OPEN" tcp 2001:db8:200::1 "$ECHO"
	for addr in "$ALLOWED4" "$ALLOWED6" "$PROXY6"; do
		echoed "$OPEN" ping-icmp "$addr"
		echoed "$OPEN" raw-icmp "$addr"
	done
}

@test "jail-ai-policy --proxy: through the proxy, by IPv4 and IPv6, HTTP and HTTPS (CONNECT) reach allowed.test, by -x and by HTTPS_PROXY; other.test is refused by the proxy (403)" {
	fence
	for proxy in "http://$PROXY4:3128" "http://[$PROXY6]:3128"; do
		for url in http://allowed.test/ https://allowed.test/; do
			via_proxy "$FENCED" "$proxy" "$url"
			[[ $status -eq 0 && $output == allowed.test ]] || { echo "$proxy $url: $status $output" >&2; return 1; }
		done
	done
	in_jail "$FENCED" env HTTPS_PROXY="http://$PROXY4:3128" curl -sS --max-time 20 --cacert "$WORLD/cert.pem" https://allowed.test/
	[[ $status -eq 0 && $output == allowed.test ]]
	in_jail "$FENCED" curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -x "http://$PROXY4:3128" http://other.test/
	[[ $status -eq 0 && $output == 403 ]]
	via_proxy "$FENCED" "http://[$PROXY6]:3128" https://other.test/
	[[ $status -eq 56 && $output == *"CONNECT tunnel failed, response 403"* ]]
}

@test "jail-ai-policy --proxy: a client that ignores the proxy fails at once with EPERM, to either server, IPv4 and IPv6, HTTP and HTTPS" {
	fence
	for target in "allowed.test:80:$ALLOWED4" "allowed.test:443:[$ALLOWED6]" "other.test:443:$OTHER4" "other.test:80:[$OTHER6]"; do
		name=${target%%:*} port=${target#*:} port=${port%%:*} addr=${target#*:*:}
		scheme=http
		[[ $port != 443 ]] || scheme=https
		in_jail "$FENCED" curl -v -sS -g --max-time 20 --cacert "$WORLD/cert.pem" --noproxy '*' \
			--resolve "$target" "$scheme://$name/"
		addr=${addr#[} addr=${addr%]}
		[[ $status -eq 7 && $output == *"Immediate connect fail for $addr: Operation not permitted"* ]] ||
			{ echo "$target: $status $output" >&2; return 1; }
	done
}

@test "jail-ai-policy --proxy: DNS to any resolver, UDP to any address, ICMP (raw sockets, IPv4 ping sockets), TCP to the proxy host's other ports and addresses: EPERM at once, IPv4 and IPv6; an IPv6 ping gets no reply; the jail's own loopback stays open" {
	fence
	in_jail "$FENCED" busybox nslookup allowed.test "$PROXY4"
	[[ $status -ne 0 && $output == *"can't connect to remote host ($PROXY4): Operation not permitted"* ]]
	local resolver
	for resolver in "$PROXY4" "$PROXY6" 198.18.0.2 "$ALLOWED6"; do
		refused_at_once "$FENCED" udp-sendto "$resolver" 53
		refused_at_once "$FENCED" udp-connect "$resolver" 53
		refused_at_once "$FENCED" tcp "$resolver" 53
	done
	# UDP (QUIC among it) to the servers and the host's service.
	refused_at_once "$FENCED" udp-sendto "$ALLOWED4" 443
	refused_at_once "$FENCED" udp-connect "$ALLOWED6" "$ECHO"
	refused_at_once "$FENCED" udp-sendto "$PROXY6" "$ECHO"
	refused_at_once "$FENCED" udp-sendto "$PROXY4" 3128
	# ICMP. An IPv6 ping socket's echo request is dropped, not refused:
	# the kernel's IPv6 ping path does not pass the drop back to sendto()
	# (SECURITY.md, "Known limits"); the control above got its reply.
	for addr in "$ALLOWED4" "$ALLOWED6" "$PROXY4" "$PROXY6"; do
		refused_at_once "$FENCED" raw-icmp "$addr"
	done
	refused_at_once "$FENCED" ping-icmp "$ALLOWED4"
	refused_at_once "$FENCED" ping-icmp "$PROXY4"
	for addr in "$ALLOWED6" "$PROXY6"; do
		in_jail "$FENCED" "$NETPROBE" ping-icmp "$addr"
		[[ $status -eq 3 && $output =~ ^timeout\ in\ [0-9]+\ ms$ ]] ||
			{ echo "ping-icmp $addr: $status $output" >&2; return 1; }
	done
	# TCP to the proxy's host: another port, its other addresses' proxy port.
	refused_at_once "$FENCED" tcp "$PROXY4" "$ECHO"
	refused_at_once "$FENCED" tcp "$PROXY6" "$ECHO"
	refused_at_once "$FENCED" tcp "$PROXY4" 22
	refused_at_once "$FENCED" tcp 198.18.0.1 3128
	refused_at_once "$FENCED" tcp 2001:db8:200::1 3128
	# And the proxy port itself still answers, and the jail's own loopback.
	via_proxy "$FENCED" "http://$PROXY4:3128" https://allowed.test/
	[[ $status -eq 0 && $output == allowed.test ]]
	echoed "$FENCED" tcp 127.0.0.1 "$ECHO"
	echoed "$FENCED" udp-connect ::1 "$ECHO"
	echoed "$FENCED" udp-sendto 127.0.0.1 "$ECHO"
}

@test "a raw packet whose header names 127.0.0.1 but that sendto() routes to the host leaves no jail: EPERM, where unfiltered a host with route_localnet takes it to its loopback" {
	fence
	in_host sysctl -qw net.ipv4.conf.vjail.route_localnet=1
	jailed_bg - "$HOST_NS" /dev/null "$BATS_TEST_TMPDIR/udplog.log" \
		"$PYTHON" "$PROJECT_ROOT/test/udplog.py" 127.0.0.1 7778
	eventually grep -qx ready "$BATS_TEST_TMPDIR/udplog.log"
	in_jail "$OPEN" "$PYTHON" "$PROJECT_ROOT/test/hdrincl.py" "$PROXY4" 127.0.0.1 7778 open-1
	[[ $status -eq 0 && $output == sent ]]
	eventually grep -qx open-1 "$BATS_TEST_TMPDIR/udplog.log"
	in_jail "$FENCED" "$PYTHON" "$PROJECT_ROOT/test/hdrincl.py" "$PROXY4" 127.0.0.1 7778 fenced
	[[ $status -eq 2 && $output == "refused EPERM" ]]
	for dst in 127.1.2.3 0.0.0.0; do
		in_jail "$FENCED" "$PYTHON" "$PROJECT_ROOT/test/hdrincl.py" "$PROXY4" "$dst" 7778 fenced
		[[ $status -eq 2 && $output == "refused EPERM" ]] || { echo "$dst: $status $output" >&2; return 1; }
	done
	# Nothing of the jail's came: a later datagram from outside it does.
	in_jail "$OPEN" "$PYTHON" "$PROJECT_ROOT/test/hdrincl.py" "$PROXY4" 127.0.0.1 7778 open-2
	eventually grep -qx open-2 "$BATS_TEST_TMPDIR/udplog.log"
	run grep -c fenced "$BATS_TEST_TMPDIR/udplog.log"
	[[ $output == 0 ]]
	# The jail's own loopback is still its own, raw or not.
	echoed "$FENCED" raw-icmp 127.0.0.1
	echoed "$FENCED" udp-sendto 127.0.0.1 "$ECHO"
}

#!/usr/bin/env bats
# scripts/jail-ai-policy on its own (README.md "Callers"): the argv it prints
# for a host it reads, its refusals, and the seccomp profile it writes. The
# host is a network namespace made here, with addresses of every scope, and
# its resolv.conf is the test's own (a private mount namespace), so the
# argv is exact. What that argv does to real traffic is hostfence.bats; in
# real containers, podman.bats.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

POLICY="$PROJECT_ROOT/scripts/jail-ai-policy"

setup() {
	[[ $(id -u) -eq 0 ]] || cannot_run "needs root (network namespaces)"
	made NS make_netns
	# The host: a bridge with a global address and prefix, one address of
	# scope link and one of scope host (as VPNs and load balancers set),
	# a CGNAT address, and IPv6 (its link-local address is skipped).
	ip -n "$NS" link add jtb0 type bridge
	ip -n "$NS" addr add 192.0.2.10/24 brd + dev jtb0
	ip -n "$NS" addr add 198.51.100.7/32 dev jtb0 scope link
	ip -n "$NS" addr add 203.0.113.9/32 dev jtb0 scope host
	ip -n "$NS" addr add 100.100.7.1/10 dev jtb0
	ip -n "$NS" addr add 2001:db8:5::1/64 dev jtb0 nodad
	ip -n "$NS" addr add 127.0.0.2/8 dev jtb0
	ip -n "$NS" link set jtb0 up
	echo "nameserver 192.0.2.53" >"$BATS_TEST_TMPDIR/resolv.conf"
}

teardown() {
	cleanup_made
}

# policy ARG...: the script in the test's host, with the test's resolv.conf.
policy() {
	# shellcheck disable=SC2016 # the inner sh's positional parameters
	unshare --mount --propagation private sh -c \
		'mount --bind "$0" /etc/resolv.conf && ns=$1 && shift && exec nsenter --net="$ns" "$@"' \
		"$BATS_TEST_TMPDIR/resolv.conf" "/run/netns/$NS" "$POLICY" "$@"
}

# The fixed part of every default policy, after the host's own.
FIXED=(--deny 0.0.0.0/8 --deny 10.0.0.0/8 --deny 100.64.0.0/10 --deny 169.254.0.0/16
	--deny 172.16.0.0/12 --deny 192.168.0.0/16 --deny 224.0.0.0/4 --deny 240.0.0.0/4
	--deny fc00::/7 --deny fe80::/10 --deny ff00::/8
	--deny 169.254.169.254 --deny fd00:ec2::254 --deny 100.100.100.200 --deny 168.63.129.16)

@test "the default denies by range: every host address of every scope, its broadcast, each on-link prefix, the fixed ranges and metadata; it allows only ADDR:53 of each --dns, which replaces the host's resolvers" {
	run_capture policy --network none --dns 198.18.0.53
	[[ $status -eq 0 && -z $stderr ]]
	mapfile -t argv <<<"$output"
	# In ip's order (scope host, link, global); 100.64.0.0/10, on-link
	# here, once.
	expected=(--deny 203.0.113.9 --deny 198.51.100.7 --deny 192.0.2.10 --deny 192.0.2.255
		--deny 100.100.7.1 --deny 2001:db8:5::1
		--deny 192.0.2.0/24 --deny 100.64.0.0/10 --deny 2001:db8:5::/64
		"${FIXED[@]:0:4}" "${FIXED[@]:6}" --allow 198.18.0.53:53)
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	# Not listed (the exact diff above shows it): 127.0.0.2, loopback on the
	# bridge, since the container's loopback is its own; the link-local
	# fe80:: address, since link-local is denied whole.
	# The loader takes the argv as it is: every rule counted.
	made CG make_cgroup
	load_filter "$CG" "${argv[@]}"
	[[ $(jq '.deny, .allow' <<<"$output" | paste -sd' ') == "23 1" ]]
}

@test "an --allow of exactly a denied prefix replaces that deny; a broader one leaves the host's addresses and metadata denied" {
	run_capture policy --network none --allow 10.0.0.0/8 --allow 100.0.0.0/8:443/tcp --allow 192.0.2.10:8080/tcp
	[[ $status -eq 0 ]]
	mapfile -t argv <<<"$output"
	[[ " ${argv[*]} " != *" --deny 10.0.0.0/8 "* && " ${argv[*]} " == *" --allow 10.0.0.0/8 "* ]]
	[[ " ${argv[*]} " == *" --deny 100.100.7.1 "* && " ${argv[*]} " == *" --deny 100.100.100.200 "* ]]
	[[ " ${argv[*]} " == *" --deny 192.0.2.10 "* ]]
	[[ ${argv[-2]} == --allow && ${argv[-1]} == 192.0.2.10:8080/tcp ]]
	# Each rule once, however often given.
	run_capture policy --network none --allow 10.0.0.0/8 --allow 10.0.0.0/8 --dns 192.0.2.53
	[[ $(grep -cx 10.0.0.0/8 <<<"$output") -eq 1 && $(grep -cx 192.0.2.53:53 <<<"$output") -eq 1 ]]
}

@test "slirp4netns: its gateway and resolver, and the own address rootlessport needs; cidr= and enable_ipv6= move them" {
	run_capture policy --network slirp4netns
	[[ $status -eq 0 ]]
	mapfile -t argv <<<"$output"
	[[ " ${argv[*]} " == *" --deny 10.0.2.0/24 --deny 10.0.2.2 "* ]]
	[[ " ${argv[*]} " == *" --allow 10.0.2.3:53 --allow 192.0.2.53:53 --allow 10.0.2.100 " ]]
	run_capture policy --network slirp4netns:cidr=10.5.0.0/24,enable_ipv6=true
	[[ $status -eq 0 ]]
	mapfile -t argv <<<"$output"
	[[ " ${argv[*]} " == *" --deny 10.5.0.0/24 --deny 10.5.0.2 --deny fd00::/64 --deny fd00::2 "* ]]
	[[ " ${argv[*]} " == *" --allow 10.5.0.3:53 --allow [fd00::3]:53 --allow 192.0.2.53:53 --allow 10.5.0.100 " ]]
	run_capture policy --network slirp4netns:cidr=10.5.0.0/33
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --network slirp4netns:cidr=10.5.0.0/33: cidr=10.5.0.0/33: "* ]]
}

@test "pasta: 169.254.1.1:53 (or --dns-forward) is the only opening; each option that maps the host's loopback is refused (64), naming it" {
	run_capture policy --network pasta
	[[ $status -eq 0 ]]
	mapfile -t argv <<<"$output"
	[[ " ${argv[*]} " == *" --deny 169.254.0.0/16 "* && ${argv[-4]} == --allow && ${argv[-3]} == 169.254.1.1:53 ]]
	[[ $(grep -c -- --allow <<<"$output") -eq 2 ]]
	run_capture policy --network pasta:-T,none,-U,none,--no-map-gw,--dns-forward,169.254.9.9
	[[ $status -eq 0 && $output == *$'\n--allow\n169.254.9.9:53\n--allow\n192.0.2.53:53' ]]
	for pair in -T,8080:-T -T8080:-T --tcp-ns,8080:--tcp-ns --tcp-ns=auto:--tcp-ns -U,53:-U \
		-U53:-U --udp-ns,auto:--udp-ns --udp-ns=5353:--udp-ns; do
		options=${pair%:*} name=${pair##*:}
		run_capture policy --network "pasta:$options"
		[[ $status -eq 64 && -z $output &&
			$stderr == "jail-ai-policy: --network pasta:$options: $name "*" maps this host's loopback ports into the container; "* ]] ||
			{ echo "pasta:$options: $status $stderr" >&2; return 1; }
	done
	for options in --map-gw -T,none,--map-host-loopback,169.254.1.3; do
		run_capture policy --network "pasta:$options"
		[[ $status -eq 64 && $stderr == "jail-ai-policy: --network pasta:$options: --map-"*" maps this host's loopback into the container; leave it out" ]] ||
			{ echo "pasta:$options: $status $stderr" >&2; return 1; }
	done
}

@test "--proxy: everything denied but each proxy's TCP port, each --dns and the container's loopback, no resolver otherwise; the host's denials only within a broader --allow; the loader takes it" {
	run_capture policy --network slirp4netns --proxy 10.0.2.2:3128 --proxy '[2001:db8:5::1]:8080'
	[[ $status -eq 0 && -z $stderr ]]
	mapfile -t argv <<<"$output"
	# No resolver (not slirp4netns' 10.0.2.3, not the host's 192.0.2.53):
	# the container's own address only, for a published port.
	expected=(--deny 0.0.0.0/0 --deny ::/0 --allow 10.0.2.2:3128/tcp
		--allow '[2001:db8:5::1]:8080/tcp' --allow 10.0.2.100 --allow 127.0.0.0/8 --allow ::1)
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	made CG make_cgroup
	load_filter "$CG" "${argv[@]}"
	# --dns opens that resolver alone; an --allow passes through, and the
	# host's and the fixed denials within it stay, those outside it go.
	run_capture policy --network none --proxy 192.0.2.10:3128 --dns 198.18.0.53 --allow 192.0.2.0/23:443/tcp
	[[ $status -eq 0 && -z $stderr ]]
	mapfile -t argv <<<"$output"
	expected=(--deny 0.0.0.0/0 --deny ::/0 --deny 192.0.2.10 --deny 192.0.2.255 --deny 192.0.2.0/24
		--allow 192.0.2.10:3128/tcp --allow 198.18.0.53:53 --allow 127.0.0.0/8 --allow ::1
		--allow 192.0.2.0/23:443/tcp)
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	# Within 0.0.0.0/0:443 every IPv4 denial stays; within 2001:db8::/32 the
	# host's IPv6 address and prefix, not the other IPv6 ranges.
	run_capture policy --network none --proxy 192.0.2.10:3128 --allow 0.0.0.0/0:443 --allow 2001:db8::/32
	mapfile -t argv <<<"$output"
	expected=(--deny 0.0.0.0/0 --deny ::/0 --deny 203.0.113.9 --deny 198.51.100.7
		--deny 192.0.2.10 --deny 192.0.2.255 --deny 100.100.7.1 --deny 2001:db8:5::1
		--deny 192.0.2.0/24 --deny 100.64.0.0/10 --deny 2001:db8:5::/64
		"${FIXED[@]:0:4}" "${FIXED[@]:6:10}" "${FIXED[@]:22:2}" "${FIXED[@]:26}"
		--allow 192.0.2.10:3128/tcp --allow 127.0.0.0/8 --allow ::1 --allow 0.0.0.0/0:443
		--allow 2001:db8::/32)
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	load_filter "$CG" "${argv[@]}"
	# An IPv4-mapped --allow is an IPv4 rule to the loader: the IPv4
	# denials within it stay.
	run_capture policy --network none --proxy 192.0.2.10:3128 --allow '[::ffff:192.0.2.0/120]:443'
	[[ $status -eq 0 ]]
	mapfile -t argv <<<"$output"
	expected=(--deny 0.0.0.0/0 --deny ::/0 --deny 192.0.2.10 --deny 192.0.2.255
		--allow 192.0.2.10:3128/tcp --allow 127.0.0.0/8 --allow ::1 --allow '[::ffff:192.0.2.0/120]:443')
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
	load_filter "$CG" "${argv[@]}"
	# docker's embedded DNS, on the container's loopback, stays closed.
	run_capture policy --engine docker --network none --proxy 192.0.2.10:3128
	[[ $status -eq 0 ]]
	mapfile -t argv <<<"$output"
	expected=(--deny 0.0.0.0/0 --deny ::/0 --deny 127.0.0.11 --allow 192.0.2.10:3128/tcp
		--allow 127.0.0.0/8 --allow ::1)
	diff <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${argv[@]}")
}

@test "--proxy takes a literal address and a port: a name, an IPv6 address without brackets, no port, port 0 or 65536, 0.0.0.0, ::, broadcast, multicast, loopback and zones are refused (64), naming the argument; a mapped address is IPv4" {
	for bad in proxy.example:3128 2001:db8::1:3128 192.0.2.1 '[2001:db8::1]' '[fe80::1%eth0]:3128'; do
		run_capture "$POLICY" --network none --proxy "$bad"
		[[ $status -eq 64 && -z $output &&
			$stderr == "jail-ai-policy: --proxy $bad: give the proxy as a literal IP address and port, ADDR:PORT or [ADDR6]:PORT (the container resolves no names)" ]] ||
			{ echo "--proxy $bad: $status $stderr" >&2; return 1; }
	done
	for bad in 192.0.2.1:0 192.0.2.1:65536 192.0.2.1:x '[2001:db8::1]:' 192.0.2.1:03128 192.0.2.1:+80 \
		192.0.2.1:² 192.0.2.1:٣١٢٨; do
		run_capture "$POLICY" --network none --proxy "$bad"
		[[ $status -eq 64 && $stderr == "jail-ai-policy: --proxy $bad: the port must be 1 to 65535" ]] ||
			{ echo "--proxy $bad: $status $stderr" >&2; return 1; }
	done
	for bad in 0.0.0.0:3128 '[::]:3128' 224.0.0.1:3128 255.255.255.255:3128 '[::ffff:0.0.0.0]:3128' \
		'[::ffff:224.0.0.1]:3128'; do
		run_capture "$POLICY" --network none --proxy "$bad"
		[[ $status -eq 64 && $stderr == "jail-ai-policy: --proxy $bad: "*" is no host's address" ]] ||
			{ echo "--proxy $bad: $status $stderr" >&2; return 1; }
	done
	for bad in 127.0.0.1:3128 '[::1]:3128' '[::ffff:127.0.0.1]:3128'; do
		run_capture "$POLICY" --network none --proxy "$bad"
		[[ $status -eq 64 && $stderr == "jail-ai-policy: --proxy $bad: "*" is the container's own loopback, not the host; "* ]] ||
			{ echo "--proxy $bad: $status $stderr" >&2; return 1; }
	done
	# A mapped address is the IPv4 rule the loader would make of it.
	run_capture "$POLICY" --network none --proxy '[::ffff:192.0.2.1]:3128'
	[[ $status -eq 0 && $output == *$'\n--allow\n192.0.2.1:3128/tcp\n'* ]]
	run_capture "$POLICY" --network none --dns fe80::1%eth0
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --dns fe80::1%eth0: not an IP address" ]]
}

@test "usage errors exit 64 with a message naming the argument; --lan and --network host are refused" {
	run_capture "$POLICY" --network
	[[ $status -eq 64 && -z $output && $stderr == "jail-ai-policy: --network: unknown option or missing value (see --help)" ]]
	run_capture "$POLICY" --dns resolver.example
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --dns resolver.example: not an IP address" ]]
	run_capture "$POLICY" --lan
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --lan: the LAN is closed by default now; leave --lan out, and open a LAN service with --allow (see --help)" ]]
	run_capture "$POLICY" --network host
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --network host: the container would share this host's network namespace, "* ]]
	run_capture "$POLICY" --network private
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --network private: name the network podman will use "* ]]
	run_capture "$POLICY" --engine lxc
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --engine lxc: podman or docker" ]]
	run_capture "$POLICY" --engine docker --network container:web
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --network container:web: name the network docker will use (a docker network or none)" ]]
	run_capture "$POLICY" --engine docker --network host
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --network host: the container would share this host's network namespace, "* ]]
	run_capture "$POLICY" --cgroup-parent /a --cgroup-parent /b
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --cgroup-parent: given twice" ]]
	run_capture "$POLICY" --watch true
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --watch: give the command after --: --watch -- COMMAND..." ]]
	run_capture "$POLICY" --watch --
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --watch --: no command" ]]
	run_capture "$POLICY" --network none --seccomp-profile "$BATS_TEST_TMPDIR/p.json"
	[[ $status -eq 64 && $stderr == "jail-ai-policy: --seccomp-profile FILE takes no other option" ]]
	[[ ! -e $BATS_TEST_TMPDIR/p.json ]]
	run_capture "$POLICY" --help
	[[ $status -eq 0 && $output == "Print the jail-ai-ebpf-loader argv"* ]]
}

@test "--seccomp-profile: the runtime's default, every other entry and every denial kept, socket() allowed for UNIX, INET, INET6 and NETLINK only, socketcall() refused first" {
	base=/usr/share/containers/seccomp.json
	[[ -e /etc/containers/seccomp.json ]] && base=/etc/containers/seccomp.json
	[[ -e $base ]] || cannot_run "no $base (containers-common: scripts/install-deps)"
	run_capture "$POLICY" --seccomp-profile "$BATS_TEST_TMPDIR/profile.json"
	[[ $status -eq 0 && -z $output && -z $stderr ]]
	[[ $(stat -c %a "$BATS_TEST_TMPDIR/profile.json") == 644 ]]
	# Checked by an independent reading of both files (not the script's
	# code): the socket rules as the kernel will see them, per family.
	python3 - "$base" "$BATS_TEST_TMPDIR/profile.json" <<-'EOF'
		import json, sys
		base, made = (json.load(open(p)) for p in sys.argv[1:])
		def without_socket(profile):
		    out = []
		    for e in profile["syscalls"]:
		        names = [n for n in e["names"] if n not in ("socket", "socketcall")]
		        if names:
		            out.append(json.dumps({**e, "names": names}, sort_keys=True))
		    return sorted(out)
		assert {k: v for k, v in base.items() if k != "syscalls"} == \
		    {k: v for k, v in made.items() if k != "syscalls"}, "top-level keys changed"
		assert without_socket(base) == without_socket(made), "other syscalls changed"
		for e in base["syscalls"]:
		    if e["action"] != "SCMP_ACT_ALLOW":
		        assert e in made["syscalls"], f"a denial is gone: {e}"
		def holds(c, v):
		    return {"SCMP_CMP_EQ": v == c["value"], "SCMP_CMP_NE": v != c["value"],
		            "SCMP_CMP_GT": v > c["value"], "SCMP_CMP_GE": v >= c["value"],
		            "SCMP_CMP_LT": v < c["value"], "SCMP_CMP_LE": v <= c["value"],
		            "SCMP_CMP_MASKED_EQ": v & c["value"] == c["valueTwo"]}[c["op"]]
		def verdict(name, a0, a2, caps):
		    found = set()
		    for e in made["syscalls"]:
		        if name not in e["names"]:
		            continue
		        if any(c not in caps for c in e.get("includes", {}).get("caps", [])):
		            continue
		        if any(c in caps for c in e.get("excludes", {}).get("caps", [])):
		            continue
		        if all(holds(c, {0: a0, 2: a2}.get(c["index"], 0)) for c in e.get("args") or []):
		            found.add((e["action"], e.get("errnoRet")))
		    assert len(found) <= 1, f"{name}({a0}, _, {a2}): rules disagree: {found}"
		    return found.pop() if found else ("default", base.get("defaultErrnoRet"))
		for caps in ([], ["CAP_AUDIT_WRITE"]):
		    for family in list(range(0, 64)) + [2**32 + 2, 2**63]:
		        want = ("SCMP_ACT_ALLOW", None) if family in (1, 2, 10, 16) else ("SCMP_ACT_ERRNO", 97)
		        assert verdict("socket", family, 0, caps) == want, (family, caps)
		    audit = ("SCMP_ACT_ALLOW", None) if caps else ("SCMP_ACT_ERRNO", 22)
		    assert verdict("socket", 16, 9, caps) == audit, ("NETLINK_AUDIT", caps)
		    for call in range(0, 21):
		        assert verdict("socketcall", call, 0, caps) == ("SCMP_ACT_ERRNO", 1), call
		assert made["syscalls"][0] == {"names": ["socketcall"], "action": "SCMP_ACT_ERRNO",
		                               "errnoRet": 1}, "socketcall is not refused first"
	EOF
	# Written whole or not at all: a directory that does not exist (69).
	run_capture "$POLICY" --seccomp-profile "$BATS_TEST_TMPDIR/no/such/dir/p.json"
	[[ $status -eq 69 && $stderr == "jail-ai-policy: --seccomp-profile $BATS_TEST_TMPDIR/no/such/dir/p.json: No such file or directory" ]]
}

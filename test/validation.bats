#!/usr/bin/env bats
# DESIGN.md §3 on the real binary: hostile argv is refused with the right
# sysexits code, exactly one stderr line naming the offending argument,
# nothing on stdout, and before any bpf() call (§4 step 3). Refusals run
# under a strace tripwire (validation-helpers.bash): a bpf() call is both
# recorded and prevented, so a value that wrongly slips through can never
# attach anything. Success cases load for real on this test's own cgroup.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"
# shellcheck source=validation-helpers.bash
source "$BATS_TEST_DIRNAME/validation-helpers.bash"

setup() {
	require_privileged
	cg=$(make_cgroup)
}

teardown() {
	unmount_made
	cleanup_made
}

L="jail-ai-ebpf-loader"

# --- the detector itself --------------------------------------------------

@test "tripwire: a valid request under it is caught at its first bpf() and attaches nothing" {
	run_tripwire --cgroup "$cg" --deny 192.0.2.1
	[ "$status" -eq 159 ] # SIGSYS: the replaced bpf() met the seccomp filter
	grep -q 'bpf(' "$trace"
	[ "$(our_programs "$cg")" -eq 0 ]
}

# --- grammar: exit 64 -----------------------------------------------------

@test "grammar: no arguments at all (one line, no usage dump)" {
	refused 64 "$L: $WHY_NO_ARGS"
}

@test "grammar: a lone empty argument is named, not printed as nothing" {
	refused 64 "$L: '': $WHY_UNEXPECTED" ''
}

@test "grammar: unknown long option" {
	refused 64 "$L: --foo: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 --foo
}

@test "grammar: --cgroup=PATH form" {
	refused 64 "$L: --cgroup=$cg: $WHY_UNKNOWN" "--cgroup=$cg" --deny 192.0.2.1
}

@test "grammar: --deny=CIDR form" {
	refused 64 "$L: --deny=192.0.2.1: $WHY_UNKNOWN" --cgroup "$cg" --deny=192.0.2.1
}

@test "grammar: abbreviation --cg" {
	refused 64 "$L: --cg: $WHY_UNKNOWN" --cg "$cg" --deny 192.0.2.1
}

@test "grammar: abbreviation --den" {
	refused 64 "$L: --den: $WHY_UNKNOWN" --cgroup "$cg" --den 192.0.2.1
}

@test "grammar: other spellings: --CGROUP, --cgroups" {
	refused 64 "$L: --CGROUP: $WHY_UNKNOWN" --CGROUP "$cg" --deny 192.0.2.1
	refused 64 "$L: --cgroups: $WHY_UNKNOWN" --cgroups "$cg" --deny 192.0.2.1
}

@test "grammar: short option -c" {
	refused 64 "$L: -c: $WHY_UNKNOWN" -c "$cg" --deny 192.0.2.1
}

@test "grammar: short option -d" {
	refused 64 "$L: -d: $WHY_UNKNOWN" --cgroup "$cg" -d 192.0.2.1
}

@test "grammar: short options -h and -V" {
	refused 64 "$L: -h: $WHY_UNKNOWN" -h
	refused 64 "$L: -V: $WHY_UNKNOWN" -V
}

@test "grammar: a lone dash" {
	refused 64 "$L: -: $WHY_UNKNOWN" --cgroup "$cg" - --deny 192.0.2.1
}

@test "grammar: positional argument between options" {
	refused 64 "$L: foo: $WHY_UNEXPECTED" --cgroup "$cg" foo --deny 192.0.2.1
}

@test "grammar: trailing positional argument (a second address)" {
	refused 64 "$L: 192.0.2.2: $WHY_UNEXPECTED" --cgroup "$cg" --deny 192.0.2.1 192.0.2.2
}

@test "grammar: positional path instead of --cgroup" {
	refused 64 "$L: $cg: $WHY_UNEXPECTED" "$cg" --deny 192.0.2.1
}

@test "grammar: -- before the options" {
	refused 64 "$L: --: $WHY_UNKNOWN" -- --cgroup "$cg" --deny 192.0.2.1
}

@test "grammar: -- at the end" {
	refused 64 "$L: --: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 --
}

@test "grammar: missing value of --deny at the end" {
	refused 64 "$L: --deny: $WHY_MISSING" --cgroup "$cg" --deny 192.0.2.1 --deny
}

@test "grammar: missing value of --cgroup at the end" {
	refused 64 "$L: --cgroup: $WHY_MISSING" --deny 192.0.2.1 --cgroup
}

@test "grammar: --cgroup given twice (even the same path)" {
	refused 64 "$L: --cgroup: $WHY_TWICE" --cgroup "$cg" --deny 192.0.2.1 --cgroup "$cg"
}

@test "grammar: no --cgroup" {
	refused 64 "$L: --cgroup: $WHY_NO_CGROUP" --deny 192.0.2.1 --deny 192.0.2.2
}

@test "grammar: no --deny" {
	refused 64 "$L: --deny: $WHY_NO_DENY" --cgroup "$cg"
}

@test "grammar: --help with other arguments" {
	refused 64 "$L: --help: $WHY_ALONE" --help --cgroup "$cg" --deny 192.0.2.1
}

@test "grammar: --help after a complete valid request" {
	refused 64 "$L: --help: $WHY_ALONE" --cgroup "$cg" --deny 192.0.2.1 --help
}

@test "grammar: --version with other arguments" {
	refused 64 "$L: --version: $WHY_ALONE" --version --cgroup "$cg"
}

@test "grammar: --help --version and --help --help" {
	refused 64 "$L: --help: $WHY_ALONE" --help --version
	refused 64 "$L: --help: $WHY_ALONE" --help --help
}

@test "grammar: control bytes in an unknown option are escaped" {
	refused 64 "$L: --x\\x1b[2J\\x0a: $WHY_UNKNOWN" --cgroup "$cg" $'--x\e[2J\n' --deny 192.0.2.1
}

@test "grammar: the first error in argv order wins (data before grammar)" {
	refused 65 "$L: --deny 010.0.0.1: $WHY_ADDRESS" --cgroup "$cg" --deny 010.0.0.1 --bogus
	refused 64 "$L: --bogus: $WHY_UNKNOWN" --cgroup "$cg" --bogus --deny 010.0.0.1
}

@test "grammar: an option takes the next entry even if it looks like an option" {
	refused 65 "$L: --cgroup --deny: $WHY_OUTSIDE" --cgroup --deny 192.0.2.1
	refused 65 "$L: --deny --cgroup: $WHY_ADDRESS" --deny --cgroup "$cg"
	refused 65 "$L: --deny --help: $WHY_ADDRESS" --cgroup "$cg" --deny --help
}

# --- paths: exit 65 -------------------------------------------------------

@test "path: relative" {
	bad_path "${cg#/}" "$WHY_OUTSIDE"
}

@test "path: relative with ./" {
	bad_path "./x" "$WHY_OUTSIDE"
}

@test "path: empty" {
	refused 65 "$L: --cgroup '': $WHY_OUTSIDE" --cgroup '' --deny 192.0.2.1
}

@test "path: outside /sys/fs/cgroup (/tmp)" {
	bad_path /tmp "$WHY_OUTSIDE"
}

@test "path: sibling prefix /sys/fs/cgroupx/a" {
	bad_path /sys/fs/cgroupx/a "$WHY_OUTSIDE"
}

@test "path: /sys/fs/cgroup itself" {
	bad_path /sys/fs/cgroup "$WHY_OUTSIDE"
}

@test "path: /sys/fs/cgroup/ with its trailing slash" {
	bad_path /sys/fs/cgroup/ "$WHY_CANONICAL"
}

@test "path: the same directory reached from outside (/proc/self/root...)" {
	bad_path "/proc/self/root$cg" "$WHY_OUTSIDE"
}

@test "path: trailing /." {
	bad_path "$cg/." "$WHY_CANONICAL"
}

@test "path: trailing /.." {
	bad_path "$cg/.." "$WHY_CANONICAL"
}

@test "path: /../ inside (would name a sibling cgroup)" {
	bad_path "$cg/../$TAG" "$WHY_CANONICAL"
}

@test "path: /./ inside" {
	bad_path "/sys/fs/cgroup/./${cg#/sys/fs/cgroup/}" "$WHY_CANONICAL"
}

@test "path: .. before the prefix" {
	bad_path "/sys/fs/../fs/cgroup/${cg#/sys/fs/cgroup/}" "$WHY_CANONICAL"
}

@test "path: // inside" {
	bad_path "${cg%/*}//${cg##*/}" "$WHY_CANONICAL"
}

@test "path: // at the start" {
	bad_path "/$cg" "$WHY_CANONICAL"
}

@test "path: trailing /" {
	bad_path "$cg/" "$WHY_CANONICAL"
}

@test "path: space" {
	bad_path "$cg/a b" "$WHY_CHARACTER"
	[[ $stderr == *'/a\x20b: '* ]]
}

@test "path: tab" {
	bad_path "$cg/a"$'\t'"b" "$WHY_CHARACTER"
	[[ $stderr == *'/a\x09b: '* ]]
}

@test "path: newline (log injection)" {
	bad_path "$cg"$'\n'"$L: fake line" "$WHY_CHARACTER"
	[[ $stderr == *"$TAG\\x0a$L:\\x20fake\\x20line: "* ]]
}

@test "path: DEL and other control bytes" {
	bad_path "$cg/a"$'\x7f' "$WHY_CHARACTER"
	bad_path "$cg/a"$'\x01' "$WHY_CHARACTER"
	[[ $stderr == *'/a\x01: '* ]]
}

@test "path: non-ASCII UTF-8 (é) and a raw 0xff byte" {
	bad_path "$cg/caf"$'\xc3\xa9' "$WHY_CHARACTER"
	[[ $stderr == *'/caf\xc3\xa9: '* ]]
	bad_path "$cg/"$'\xff' "$WHY_CHARACTER"
}

@test "path: PATH_MAX bytes (4096) is too long, cut with ... in the message" {
	local p
	p=$(path_of_length 4096)
	[ "${#p}" -eq 4096 ]
	bad_path "$p" "$WHY_PATH_LONG"
	[[ $stderr == *"...: $WHY_PATH_LONG" ]]
	[ "${#stderr}" -lt 400 ]
}

@test "path: 100000 bytes is too long" {
	local p
	p=$(path_of_length 100000)
	bad_path "$p" "$WHY_PATH_LONG"
}

@test "path: a component of 256 bytes is too long" {
	bad_path "$cg/$(repeat 256 c)" "$WHY_COMPONENT_LONG"
}

# --- addresses: exit 65 ---------------------------------------------------

@test "address: octal 010.0.0.1" {
	bad_deny 010.0.0.1 "$WHY_ADDRESS"
}

@test "address: leading zeros 192.168.001.1 and 192.0.2.01" {
	bad_deny 192.168.001.1 "$WHY_ADDRESS"
	bad_deny 192.0.2.01 "$WHY_ADDRESS"
}

@test "address: hex 0x7f.1 and 0x7f000001" {
	bad_deny 0x7f.1 "$WHY_ADDRESS"
	bad_deny 0x7f000001 "$WHY_ADDRESS"
}

@test "address: shorthand 127.1 and one number 2130706433" {
	bad_deny 127.1 "$WHY_ADDRESS"
	bad_deny 2130706433 "$WHY_ADDRESS"
}

@test "address: leading and trailing space" {
	bad_deny ' 192.0.2.1' "$WHY_ADDRESS"
	[[ $stderr == *'--deny \x20192.0.2.1: '* ]]
	bad_deny '192.0.2.1 ' "$WHY_ADDRESS"
}

@test "address: tab and newline" {
	bad_deny $'192.0.2.1\t' "$WHY_ADDRESS"
	bad_deny $'192.0.2.1\n' "$WHY_ADDRESS"
	[[ $stderr == *'--deny 192.0.2.1\x0a: '* ]]
}

@test "address: zone id fe80::1%eth0 and fe80::1%1" {
	bad_deny 'fe80::1%eth0' "$WHY_ADDRESS"
	bad_deny 'fe80::1%1' "$WHY_ADDRESS"
}

@test "address: brackets without a port [::1] and [::1]/128" {
	bad_deny '[::1]' "$WHY_BRACKETS"
	bad_deny '[::1]/128' "$WHY_BRACKETS"
}

@test "address: host names localhost and ip6-localhost" {
	bad_deny localhost "$WHY_ADDRESS"
	bad_deny ip6-localhost "$WHY_ADDRESS"
}

@test "address: empty, and empty before a prefix" {
	refused_like 65 "^$L: --deny (''|): $WHY_ADDRESS\$" --cgroup "$cg" --deny ''
	bad_deny /8 "$WHY_ADDRESS"
}

@test "address: five parts 1.2.3.4.5 and a trailing dot" {
	bad_deny 1.2.3.4.5 "$WHY_ADDRESS"
	bad_deny 192.0.2.1. "$WHY_ADDRESS"
}

@test "address: an octet over 255" {
	bad_deny 256.0.0.1 "$WHY_ADDRESS"
}

@test "address: a host name with a port (localhost:80) is an address error" {
	bad_deny localhost:80 "$WHY_ADDRESS"
}

@test "address: IPv4-mapped forms that are not addresses" {
	bad_deny ::ffff:1.2.3 "$WHY_ADDRESS"
	bad_deny ::ffff:01.2.3.4 "$WHY_ADDRESS"
	bad_deny ::ffff:1.2.3.4.5 "$WHY_ADDRESS"
	bad_deny ::ffff:256.2.3.4 "$WHY_ADDRESS"
}

@test "address: broken IPv6 (:::, 1::2::3, 12345::, nine groups)" {
	bad_deny ::: "$WHY_ADDRESS"
	bad_deny 1::2::3 "$WHY_ADDRESS"
	bad_deny 12345:: "$WHY_ADDRESS"
	bad_deny 1:2:3:4:5:6:7:8:9 "$WHY_ADDRESS"
}

@test "address: full-width digits (UTF-8) are escaped in the message" {
	bad_deny $'\xef\xbc\x91.2.3.4' "$WHY_ADDRESS"
	[[ $stderr == *'--deny \xef\xbc\x91.2.3.4: '* ]]
}

@test "address: terminal escape sequences are escaped in the message" {
	bad_deny $'\e]0;owned\a192.0.2.1' "$WHY_ADDRESS"
	[[ $stderr != *$'\e'* ]]
}

@test "address: 100000 bytes is cut with ... in the message" {
	bad_deny "$(repeat 100000 A)" "$WHY_ADDRESS"
	[[ $stderr == "$L: --deny $(repeat 249 A)...: $WHY_ADDRESS" ]]
}

@test "address: 1000 control bytes are escaped and cut" {
	bad_deny "$(repeat 1000 $'\x01')" "$WHY_ADDRESS"
	[ "${#stderr}" -lt 400 ]
}

# --- prefixes: exit 65 ----------------------------------------------------

@test "prefix: /33 on IPv4" {
	bad_deny 10.0.0.0/33 "$WHY_PREFIX"
}

@test "prefix: /129 on IPv6 (also IPv4-mapped)" {
	bad_deny 2001:db8::/129 "$WHY_PREFIX"
	bad_deny ::ffff:192.0.2.1/129 "$WHY_PREFIX"
}

@test "prefix: signs /-1 and /+8" {
	bad_deny 10.0.0.0/-1 "$WHY_PREFIX"
	bad_deny 10.0.0.0/+8 "$WHY_PREFIX"
}

@test "prefix: leading zero /08 and /00" {
	bad_deny 10.0.0.0/08 "$WHY_PREFIX"
	bad_deny ::/00 "$WHY_PREFIX"
}

@test "prefix: empty (a lone /)" {
	bad_deny 10.0.0.0/ "$WHY_PREFIX"
}

@test "prefix: trailing junk /8x and a second /8/8" {
	bad_deny 10.0.0.0/8x "$WHY_PREFIX"
	bad_deny 10.0.0.0/8/8 "$WHY_PREFIX"
}

@test "prefix: spaces '/ 8' and '/8 '" {
	bad_deny '10.0.0.0/ 8' "$WHY_PREFIX"
	bad_deny '10.0.0.0/8 ' "$WHY_PREFIX"
}

@test "prefix: exponent /1e1 and hex /0x8" {
	bad_deny 10.0.0.0/1e1 "$WHY_PREFIX"
	bad_deny 10.0.0.0/0x8 "$WHY_PREFIX"
}

@test "prefix: huge numbers, including ones that wrap to 8" {
	bad_deny 10.0.0.0/99999999999999999999999999999 "$WHY_PREFIX"
	bad_deny 10.0.0.0/4294967304 "$WHY_PREFIX"
	bad_deny 10.0.0.0/18446744073709551624 "$WHY_PREFIX"
}

# --- host bits: exit 65, the message names the network --------------------

@test "host bits: 10.0.0.1/8 names 10.0.0.0/8" {
	bad_deny 10.0.0.1/8 "$WHY_HOST_BITS; the network is 10.0.0.0/8"
}

@test "host bits: 192.0.2.129/25 names 192.0.2.128/25" {
	bad_deny 192.0.2.129/25 "$WHY_HOST_BITS; the network is 192.0.2.128/25"
}

@test "host bits: 0.0.0.1/0 names 0.0.0.0/0" {
	bad_deny 0.0.0.1/0 "$WHY_HOST_BITS; the network is 0.0.0.0/0"
}

@test "host bits: 2001:db8::1/32 names 2001:db8::/32" {
	bad_deny 2001:db8::1/32 "$WHY_HOST_BITS; the network is 2001:db8::/32"
}

@test "host bits: fe80::1/10 names fe80::/10" {
	bad_deny fe80::1/10 "$WHY_HOST_BITS; the network is fe80::/10"
}

@test "host bits: IPv4-mapped ::ffff:192.0.2.1/120 names ::ffff:192.0.2.0/120" {
	bad_deny ::ffff:192.0.2.1/120 "$WHY_HOST_BITS; the network is ::ffff:192.0.2.0/120"
}

# --- rules with ports, protocols and --allow (DESIGN.md §3): exit 65 ------
# Every form below is refused as --deny and as --allow (bad_rule), with the
# exact message, nothing on stdout, no bpf() and nothing attached. Within a
# rule the first fault in the order address, prefix length, ports,
# protocol, host bits is the one named.

@test "rule: brackets with no port ([::1], [2001:db8::/32], [2001:db8::1]/tcp)" {
	bad_rule '[::1]' "$WHY_BRACKETS"
	bad_rule '[2001:db8::/32]' "$WHY_BRACKETS"
	bad_rule '[2001:db8::1]/tcp' "$WHY_BRACKETS"
}

@test "rule: brackets around IPv4 ([10.0.0.1]:80, [10.0.0.0/8]:80/tcp)" {
	bad_rule '[10.0.0.1]:80' "$WHY_BRACKETS"
	bad_rule '[10.0.0.0/8]:80/tcp' "$WHY_BRACKETS"
}

@test "rule: brackets not closed before the port ([2001:db8::1]80, [::1, [::1]/128:80)" {
	bad_rule '[2001:db8::1]80' "$WHY_BRACKETS"
	bad_rule '[::1' "$WHY_BRACKETS"
	bad_rule '[::ffff:10.0.0.1]/120:80' "$WHY_BRACKETS"
}

@test "rule: empty brackets []:80" {
	bad_rule '[]:80' "$WHY_BRACKETS"
}

@test "rule: doubled brackets and a zone id inside brackets are not addresses" {
	bad_rule '[[::1]]:80' "$WHY_ADDRESS"
	bad_rule '[fe80::1%eth0]:80' "$WHY_ADDRESS"
}

@test "rule: no address before the port (:80) and a protocol alone (tcp)" {
	bad_rule ':80' "$WHY_ADDRESS"
	bad_rule tcp "$WHY_ADDRESS"
	bad_rule /tcp "$WHY_ADDRESS"
}

@test "rule: the address is checked first (010.0.0.1/40:0/sctp, '192.0.2.1 :80')" {
	bad_rule 010.0.0.1/40:0/sctp "$WHY_ADDRESS"
	bad_rule '192.0.2.1 :80' "$WHY_ADDRESS"
}

@test "rule: IPv6 with a port but no brackets (2001:db8::1:80/tcp) is a bad prefix length" {
	bad_rule 2001:db8::1:80/tcp "$WHY_PREFIX"
}

@test "rule: bad prefix lengths before ports ([::1/129]:80, 10.0.0.0/33:80, 1.2.3.4/:80, /08)" {
	bad_rule '[::1/129]:80' "$WHY_PREFIX"
	bad_rule 10.0.0.0/33:80 "$WHY_PREFIX"
	bad_rule 1.2.3.4/:80 "$WHY_PREFIX"
	bad_rule 10.0.0.0/08:80/tcp "$WHY_PREFIX"
	# prefix before ports: both are wrong, the prefix is named
	bad_rule 10.0.0.0/33:0 "$WHY_PREFIX"
}

@test "rule: port 0 (IPv4 and IPv6)" {
	bad_rule 192.0.2.1:0 "$WHY_PORTS"
	bad_rule '[2001:db8::1]:0' "$WHY_PORTS"
	bad_rule 192.0.2.1:0-80 "$WHY_PORTS"
}

@test "rule: port 65536 and beyond (65536, 1-65536, a 20-digit number)" {
	bad_rule 192.0.2.1:65536 "$WHY_PORTS"
	bad_rule '[2001:db8::1]:1-65536/udp' "$WHY_PORTS"
	bad_rule 192.0.2.1:18446744073709551696 "$WHY_PORTS"
}

@test "rule: signs (-1, +80)" {
	bad_rule 192.0.2.1:-1 "$WHY_PORTS"
	bad_rule 192.0.2.1:+80 "$WHY_PORTS"
}

@test "rule: half ranges (80-, -80, a lone -)" {
	bad_rule 192.0.2.1:80- "$WHY_PORTS"
	bad_rule 192.0.2.1:-80 "$WHY_PORTS"
	bad_rule '[::1]:-' "$WHY_PORTS"
}

@test "rule: a reversed range 90-80" {
	bad_rule 192.0.2.1:90-80 "$WHY_PORTS"
	bad_rule '[2001:db8::1]:90-80/tcp' "$WHY_PORTS"
}

@test "rule: three-part and doubled ranges (1-2-3, 80--90)" {
	bad_rule '[::1]:1-2-3' "$WHY_PORTS"
	bad_rule 192.0.2.1:80--90 "$WHY_PORTS"
}

@test "rule: leading zeros (080, 80-090, 00)" {
	bad_rule 192.0.2.1:080 "$WHY_PORTS"
	bad_rule 192.0.2.1:80-090 "$WHY_PORTS"
	bad_rule 192.0.2.1:00 "$WHY_PORTS"
}

@test "rule: spaces in ports ('8 0', ': 80', '80 ', '80 - 90')" {
	bad_rule '192.0.2.1:8 0' "$WHY_PORTS"
	[[ $stderr == *'--allow 192.0.2.1:8\x200: '* ]]
	bad_rule '192.0.2.1: 80' "$WHY_PORTS"
	bad_rule '192.0.2.1:80 ' "$WHY_PORTS"
	bad_rule '192.0.2.1:80 - 90' "$WHY_PORTS"
}

@test "rule: a colon twice (1.2.3.4::80, 1.2.3.4:80:90, [::1]::80)" {
	bad_rule 1.2.3.4::80 "$WHY_PORTS"
	bad_rule 1.2.3.4:80:90 "$WHY_PORTS"
	bad_rule '[::1]::80' "$WHY_PORTS"
}

@test "rule: an empty port (1.2.3.4:, [2001:db8::1]:, 1.2.3.4:/tcp)" {
	bad_rule 1.2.3.4: "$WHY_PORTS"
	bad_rule '[2001:db8::1]:' "$WHY_PORTS"
	bad_rule 1.2.3.4:/tcp "$WHY_PORTS"
}

@test "rule: ports that are not numbers (http, 0x50, 1e2, 80,443, a stray ])" {
	bad_rule 192.0.2.1:http "$WHY_PORTS"
	bad_rule 192.0.2.1:0x50 "$WHY_PORTS"
	bad_rule 192.0.2.1:1e2 "$WHY_PORTS"
	bad_rule 192.0.2.1:80,443 "$WHY_PORTS"
	bad_rule '[::1]:80]' "$WHY_PORTS"
}

@test "rule: protocol in capitals (/TCP, /Udp)" {
	bad_rule 192.0.2.1:80/TCP "$WHY_PROTO"
	bad_rule '[2001:db8::1]:53/Udp' "$WHY_PROTO"
}

@test "rule: protocols the loader does not know (/sctp, /icmp, /6, /udp6)" {
	bad_rule 192.0.2.1:80/sctp "$WHY_PROTO"
	bad_rule 192.0.2.1:80/icmp "$WHY_PROTO"
	bad_rule 192.0.2.1:80/6 "$WHY_PROTO"
	bad_rule '[::1]:80/udp6' "$WHY_PROTO"
}

@test "rule: two protocols (/tcp/udp, /tcp,udp) and an empty one (80/)" {
	bad_rule '[::1]:80/tcp/udp' "$WHY_PROTO"
	bad_rule 192.0.2.1:80/tcp,udp "$WHY_PROTO"
	bad_rule 192.0.2.1:80/ "$WHY_PROTO"
}

@test "rule: spaces around the protocol ('/tcp ', '/ tcp')" {
	bad_rule '192.0.2.1:80/tcp ' "$WHY_PROTO"
	bad_rule '192.0.2.1:80/ tcp' "$WHY_PROTO"
}

@test "rule: host bits with ports name the network (10.0.0.1/8:80, IPv6, IPv4-mapped)" {
	bad_rule 10.0.0.1/8:80 "$WHY_HOST_BITS; the network is 10.0.0.0/8"
	bad_rule '[2001:db8::1/32]:443/tcp' "$WHY_HOST_BITS; the network is 2001:db8::/32"
	bad_rule '[::ffff:10.0.0.1/120]:80' "$WHY_HOST_BITS; the network is ::ffff:10.0.0.0/120"
}

@test "rule: host bits are checked last (ports, then protocol, are named first)" {
	bad_rule 10.0.0.1/8:0 "$WHY_PORTS"
	bad_rule 10.0.0.1/8:80/sctp "$WHY_PROTO"
}

@test "rule: a valid rule with a long tail is refused, the whole value named" {
	local tail
	tail=$(repeat 200 x)
	bad_rule "192.0.2.1:80$tail" "$WHY_PORTS"
	bad_rule "[2001:db8::1]:443/tcp$(repeat 200 ' ')" "$WHY_PROTO"
	bad_rule "192.0.2.1:1-$(repeat 115 0)1" "$WHY_PORTS"
	bad_rule "10.0.0.0/8$tail" "$WHY_PREFIX"
}

@test "rule: an empty --allow value is named ''" {
	refused 65 "$L: --allow '': $WHY_ADDRESS" --cgroup "$cg" --deny 192.0.2.1 --allow ''
}

# --- --allow grammar: exit 64 ---------------------------------------------

@test "grammar: --allow alone is not enough: --deny is required at least once" {
	refused 64 "$L: --deny: $WHY_NO_DENY" --cgroup "$cg" --allow 192.0.2.1
	refused 64 "$L: --deny: $WHY_NO_DENY" --cgroup "$cg" --allow 0.0.0.0/0 --allow ::/0
}

@test "grammar: --allow=RULE form" {
	refused 64 "$L: --allow=192.0.2.1: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 --allow=192.0.2.1
}

@test "grammar: other spellings of --allow (--Allow, --ALLOW, --allows, --allo, -a)" {
	refused 64 "$L: --Allow: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 --Allow 192.0.2.2
	refused 64 "$L: --ALLOW: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 --ALLOW 192.0.2.2
	refused 64 "$L: --allows: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 --allows 192.0.2.2
	refused 64 "$L: --allo: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 --allo 192.0.2.2
	refused 64 "$L: -a: $WHY_UNKNOWN" --cgroup "$cg" --deny 192.0.2.1 -a 192.0.2.2
}

@test "grammar: missing value of --allow at the end" {
	refused 64 "$L: --allow: $WHY_MISSING" --cgroup "$cg" --deny 192.0.2.1 --allow
}

@test "grammar: a bad --allow before a missing --deny is named first (argv order)" {
	refused 65 "$L: --allow 192.0.2.1:0: $WHY_PORTS" --cgroup "$cg" --allow 192.0.2.1:0
}

# --- limits ---------------------------------------------------------------

@test "limit: 16385 IPv4 entries are refused at the 16385th" {
	deny_v4 16385
	refused 65 "$L: --deny 127.0.64.0: $WHY_TOO_MANY" --cgroup "$cg" "${DENY[@]}"
}

@test "limit: the limit is on the total (8192 IPv4 + 8193 IPv6)" {
	deny_v4 8192
	deny_v6 8193
	refused 65 "$L: --deny 2001:db8:2000::/48: $WHY_TOO_MANY" --cgroup "$cg" "${DENY[@]}"
}

@test "limit: 16384 IPv4 entries load, and the last one is enforced" {
	deny_v4 16384
	run_plain --cgroup "$cg" "${DENY[@]}"
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 16384 0
	[ "$(our_programs "$cg")" -eq 6 ]
	run probe "$cg" "" 127.0.0.0 127.0.63.255 127.0.64.0
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "127.0.0.0 EPERM" ]
	[ "${lines[1]}" = "127.0.63.255 EPERM" ]
	[ "${lines[2]}" = "127.0.64.0 sent" ]
}

@test "limit: 16384 IPv6 entries load, and the last one is enforced" {
	make_netns >/dev/null
	DENY=()
	deny_v6 16384
	run_plain --cgroup "$cg" "${DENY[@]}"
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 0 16384
	[ "$(our_programs "$cg")" -eq 6 ]
	# In a namespace with only lo: not denied means "no route", never sent.
	run probe "$cg" "$TAG" 2001:db8::1 2001:db8:3fff::1 2001:db8:4000::1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "2001:db8::1 EPERM" ]
	[ "${lines[1]}" = "2001:db8:3fff::1 EPERM" ]
	[ "${lines[2]}" = "2001:db8:4000::1 ENETUNREACH" ]
}

@test "limit: 16385 rules mixing --allow and --deny are refused at the 16385th" {
	local i rules=()
	for ((i = 0; i < 16385; i++)); do
		if ((i % 2)); then
			rules+=(--allow "127.0.$((i >> 8)).$((i & 255)):$((i % 1000 + 1))/tcp")
		else
			rules+=(--deny "127.0.$((i >> 8)).$((i & 255))")
		fi
	done
	# the 16385th (i = 16384) is a --deny; with one rule less before it,
	# the --allow that ends the list is the one refused
	refused 65 "$L: --deny 127.0.64.0: $WHY_TOO_MANY" --cgroup "$cg" "${rules[@]}"
	unset 'rules[0]' 'rules[1]'
	rules+=(--allow '[2001:db8::1]:1-65535/udp')
	refused 65 "$L: --allow [2001:db8::1]:1-65535/udp: $WHY_TOO_MANY" --cgroup "$cg" "${rules[@]}"
}

# --- cgroup-level refusals on real directories ----------------------------

@test "cgroup: nonexistent directory (66)" {
	refused 66 "$L: --cgroup $cg/missing: $WHY_NOENT" --cgroup "$cg/missing" --deny 192.0.2.1
}

@test "cgroup: nonexistent intermediate directory (66)" {
	refused 66 "$L: --cgroup $cg/missing/deeper: $WHY_NOENT" --cgroup "$cg/missing/deeper" --deny 192.0.2.1
}

@test "cgroup: '...' is a plain name, so only 'no such directory' (66)" {
	refused 66 "$L: --cgroup $cg/...: $WHY_NOENT" --cgroup "$cg/..." --deny 192.0.2.1
}

@test "cgroup: a 255-byte component passes the syntax check (66)" {
	local p short
	p=$cg/$(repeat 255 c)
	short=$(msg_value "$p")
	# whole, or cut with "..." as other long values are
	refused_like 66 "^$L: --cgroup ($p|${short%...}\\.\\.\\.): $WHY_NOENT\$" --cgroup "$p" --deny 192.0.2.1
}

@test "cgroup: a path of PATH_MAX-1 bytes passes the syntax check; the message names it whole on one line (66)" {
	local p
	p=$(path_of_length 4095)
	[ "${#p}" -eq 4095 ]
	refused 66 "$L: --cgroup $p: $WHY_NOENT" --cgroup "$p" --deny 192.0.2.1
}

@test "cgroup: a regular file (cgroup.procs) (66)" {
	refused 66 "$L: --cgroup $cg/cgroup.procs: $WHY_NOTDIR" \
		--cgroup "$cg/cgroup.procs" --deny 192.0.2.1
}

@test "cgroup: a regular file as an intermediate component (66)" {
	refused 66 "$L: --cgroup $cg/cgroup.procs/x: $WHY_NOTDIR" \
		--cgroup "$cg/cgroup.procs/x" --deny 192.0.2.1
}

@test "cgroup: a symbolic link to a cgroup as the last component (66)" {
	make_cgroup sub >/dev/null
	in_mount_ns "mount -t tmpfs jt-tmpfs $(printf %q "$cg/sub") && ln -s $(printf %q "$cg") $(printf %q "$cg/sub/link")" \
		--cgroup "$cg/sub/link" --deny 192.0.2.1
	assert_refused 66 "$L: --cgroup $cg/sub/link: $WHY_NOTDIR" "$cg"
	no_bpf_call
}

@test "cgroup: a symbolic link as an intermediate component (66)" {
	make_cgroup sub >/dev/null
	make_cgroup child >/dev/null # $cg/sub/link/child would resolve to it
	in_mount_ns "mount -t tmpfs jt-tmpfs $(printf %q "$cg/sub") && ln -s $(printf %q "$cg") $(printf %q "$cg/sub/link")" \
		--cgroup "$cg/sub/link/child" --deny 192.0.2.1
	assert_refused 66 "$L: --cgroup $cg/sub/link/child: $WHY_NOTDIR" "$cg"
	no_bpf_call
	[ "$(our_programs "$cg/child")" -eq 0 ]
}

@test "cgroup: a plain directory on tmpfs below a cgroup (66)" {
	make_cgroup sub >/dev/null
	in_mount_ns "mount -t tmpfs jt-tmpfs $(printf %q "$cg/sub") && mkdir $(printf %q "$cg/sub/plain")" \
		--cgroup "$cg/sub/plain" --deny 192.0.2.1
	assert_refused 66 "$L: --cgroup $cg/sub/plain: $WHY_NOT_V2" "$cg"
	no_bpf_call
}

@test "cgroup: a tmpfs mounted over a cgroup directory (66)" {
	make_cgroup sub >/dev/null
	in_mount_ns "mount -t tmpfs jt-tmpfs $(printf %q "$cg/sub")" \
		--cgroup "$cg/sub" --deny 192.0.2.1
	assert_refused 66 "$L: --cgroup $cg/sub: $WHY_NOT_V2" "$cg"
	no_bpf_call
}

@test "cgroup: a cgroup v1 hierarchy (66)" {
	local v1
	v1=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup" && index($5, "/sys/fs/cgroup/") == 1) { print $5; exit } break } }' \
		/proc/self/mountinfo)
	if [[ -n $v1 ]]; then
		refused 66 "$L: --cgroup $v1: $WHY_NOT_V2" --cgroup "$v1" --deny 192.0.2.1
	else
		make_cgroup sub >/dev/null
		in_mount_ns "mount -t cgroup -o none,name=$TAG jt-v1 $(printf %q "$cg/sub")" \
			--cgroup "$cg/sub" --deny 192.0.2.1
		if grep -q 'mount' "$RUN_STDERR"; then
			cannot_run "no cgroup v1 here: $(cat "$RUN_STDERR")"
		fi
		assert_refused 66 "$L: --cgroup $cg/sub: $WHY_NOT_V2" "$cg"
		no_bpf_call
	fi
}

@test "cgroup: the cgroup2 hierarchy root (77, or 65 when mounted at /sys/fs/cgroup)" {
	if [[ $CG2 == /sys/fs/cgroup/* ]]; then
		refused 77 "$L: --cgroup $CG2: $WHY_ROOT" --cgroup "$CG2" --deny 192.0.2.1
	else
		refused 65 "$L: --cgroup $CG2: $WHY_OUTSIDE" --cgroup "$CG2" --deny 192.0.2.1
	fi
}

@test "cgroup: the cgroup2 hierarchy root mounted again below a cgroup (77)" {
	make_cgroup sub >/dev/null
	in_mount_ns "mount -t cgroup2 jt-cgroup2 $(printf %q "$cg/sub")" \
		--cgroup "$cg/sub" --deny 192.0.2.1
	assert_refused 77 "$L: --cgroup $cg/sub: $WHY_ROOT" "$cg"
	no_bpf_call
}

# --- success --------------------------------------------------------------

@test "--help: usage on stdout, exit 0, nothing else" {
	run_tripwire --help
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	no_bpf_call
	[ "${lines[0]}" = "usage: $L --cgroup PATH --deny RULE [--deny RULE | --allow RULE]..." ]
	[ "${lines[1]}" = "       $L --help | --version" ]
	[ "$(tail -c1 "$RUN_STDOUT" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "--version: one line, exit 0, nothing else" {
	run_tripwire --version
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	no_bpf_call
	[ "$(wc -l <"$RUN_STDOUT")" -eq 1 ]
	[ "$output" = "jail-ai-ebpf-loader 0.3.0" ]
}

@test "load: a mixed list is attached, reported and enforced" {
	run_traced --cgroup "$cg" \
		--deny 127.0.0.2 --deny 127.0.0.2 --deny 127.0.1.0/24 \
		--deny ::ffff:127.0.0.3 --deny ::ffff:127.0.2.0/120 --deny ::ffff:7f00:5 \
		--deny ::1 --deny 2001:db8::/32 --deny fe80::/10
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	# mapped addresses count as IPv4; duplicates count as given
	assert_reply "$cg" 6 3
	# the trace records real bpf() calls: the tripwire's silence means something
	grep -q 'bpf(BPF_PROG_ATTACH' "$trace"
	[ "$(our_programs "$cg")" -eq 6 ]
	[ "$(printf '%s\n' "${PROGRAM_IDS[@]}" | sort -n)" = "$(attached_ids "$cg")" ]
	run probe "$cg" "" 127.0.0.2 127.0.1.200 127.0.0.3 127.0.2.7 127.0.0.5 127.0.0.4 \
		::1 ::ffff:127.0.0.3 ::ffff:127.0.0.4
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.2 EPERM
127.0.1.200 EPERM
127.0.0.3 EPERM
127.0.2.7 EPERM
127.0.0.5 EPERM
127.0.0.4 sent
::1 EPERM
::ffff:127.0.0.3 EPERM
::ffff:127.0.0.4 sent" ]
}

@test "load: a cgroup name with '\"' and '\\' is escaped in valid JSON" {
	make_cgroup 'a"b\c' >/dev/null
	local path=$cg/'a"b\c'
	[ -d "$path" ]
	run_plain --cgroup "$path" --deny 192.0.2.1
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg"'/a\"b\\c' 1 0 # the JSON spelling
	[ "$(printf '%s' "$output" | "$PYTHON" -c 'import json, sys; r = json.loads(sys.stdin.read()); print(r["cgroup"])')" = "$path" ]
	[ "$(our_programs "$path")" -eq 6 ]
}

# --- accepted rules: counts per family and per action ---------------------

@test "accept: the DESIGN.md §1 example (5 IPv4, 2 IPv6; 5 deny, 2 allow)" {
	run_plain --cgroup "$cg" --deny 10.88.0.1 --deny 192.168.1.23 \
		--deny 169.254.0.0/16 --deny fe80::/10 --deny fd00:ec2::254 \
		--allow 10.88.0.1:11434/tcp --allow 169.254.1.1:53
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 5 2 5 2
	[ "$(printf '%s\n' "${PROGRAM_IDS[@]}" | sort -n)" = "$(attached_ids "$cg")" ]
}

@test "accept: the DESIGN.md §3 examples, as --deny and as --allow" {
	local examples=(10.88.0.1:11434/tcp 169.254.1.1:53 0.0.0.0/0:25/tcp
		'[fd00::/8]:443' '[2001:db8::1]:8000-8100/udp') args=() e
	for e in "${examples[@]}"; do args+=(--deny "$e"); done
	run_plain --cgroup "$cg" "${args[@]}"
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 3 2 5 0
	args=(--deny 192.0.2.1)
	for e in "${examples[@]}"; do args+=(--allow "$e"); done
	run_plain --cgroup "$cg" "${args[@]}"
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 4 2 1 5
	[ "$(our_programs "$cg")" -eq 6 ]
}

@test "accept: the DESIGN.md §6 examples (one port open, allow-list, metadata closed)" {
	run_plain --cgroup "$cg" --deny 10.88.0.1 --allow 10.88.0.1:11434/tcp
	[ "$status" -eq 0 ]
	assert_reply "$cg" 2 0 1 1
	run_plain --cgroup "$cg" --deny 0.0.0.0/0 --deny ::/0 --allow 140.82.112.0/20:443/tcp
	[ "$status" -eq 0 ]
	assert_reply "$cg" 2 1 2 1
	run_plain --cgroup "$cg" --allow 0.0.0.0/0:443 --deny 169.254.169.254
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 2 0 1 1
}

@test "accept: IPv4-mapped rules count as IPv4, with ports or without" {
	run_plain --cgroup "$cg" --deny '[::ffff:10.0.0.1]:53' \
		--allow '[::ffff:10.0.0.0/104]:1-1024/udp' --deny ::ffff:10.0.0.2 \
		--deny '[::ffff:0.0.0.0/96]:25/tcp'
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 4 0 3 1
}

@test "accept: an unbracketed IPv6 value with colons is a plain address (2001:db8::1:80)" {
	run_plain --cgroup "$cg" --deny 2001:db8::1:80 --allow 2001:db8::1:80/128
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 0 2 1 1
}

@test "accept: ranges and protocols (1, 65535, 1-65535, N-N, /tcp, /udp, both), duplicates count" {
	run_plain --cgroup "$cg" --deny 192.0.2.1:1 --deny 192.0.2.1:65535 \
		--deny 192.0.2.1:1-65535 --deny '[::/0]:1-65535/udp' \
		--allow 192.0.2.0/24:80-80/tcp --allow '[2001:db8::/32]:32768-65535/udp' \
		--allow 192.0.2.1:443/tcp --deny 192.0.2.1:443/udp --deny 192.0.2.1:443/udp
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 7 2 6 3
}

@test "accept: port rules are enforced per port and protocol (UDP on loopback)" {
	run_plain --cgroup "$cg" --deny 127.0.0.2 --allow 127.0.0.2:9/udp \
		--deny 127.0.0.3:9/udp --deny 127.0.0.4:9/tcp --deny 127.0.0.5:1-8 \
		--deny 127.0.0.6:9-10/udp --deny 127.0.0.7:1-65535
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" 7 0 6 1
	run probe "$cg" "" 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.2 sent
127.0.0.3 EPERM
127.0.0.4 sent
127.0.0.5 sent
127.0.0.6 EPERM
127.0.0.7 EPERM
127.0.0.8 sent" ]
}

@test "limit: 16384 mixed rules (ports, ranges, allows, IPv4-mapped, IPv6) load and are enforced" {
	local i k rules=(--deny 127.2.0.0/16) v4=1 v6=0 deny=1 allow=0 x
	make_netns >/dev/null
	for ((i = 1; i < 16384; i++)); do
		k="$((i >> 8)).$((i & 255))"
		case $((i % 4)) in
		0) rules+=(--deny "127.1.$k") v4=$((v4 + 1)) deny=$((deny + 1)) ;;
		1) rules+=(--allow "127.2.$k:9/udp") v4=$((v4 + 1)) allow=$((allow + 1)) ;;
		2)
			printf -v x '%x' "$i"
			rules+=(--deny "[2001:db8:$x::/48]:1-100/udp") v6=$((v6 + 1)) deny=$((deny + 1))
			;;
		3) rules+=(--deny "[::ffff:127.4.$k]:9") v4=$((v4 + 1)) deny=$((deny + 1)) ;;
		esac
	done
	[ $((${#rules[@]} / 2)) -eq 16384 ]
	run_plain --cgroup "$cg" "${rules[@]}"
	[ "$status" -eq 0 ]
	[ ! -s "$RUN_STDERR" ]
	assert_reply "$cg" "$v4" "$v6" "$deny" "$allow"
	[ "$v4" -eq 12288 ] && [ "$v6" -eq 4096 ] && [ "$allow" -eq 4096 ]
	[ "$(our_programs "$cg")" -eq 6 ]
	# In a namespace with only lo: an IPv6 destination not denied has no
	# route. UDP to port 9: the last rule of each kind, and its neighbours.
	run probe "$cg" "$TAG" 127.1.63.252 127.1.63.253 127.2.0.1 127.2.63.253 \
		127.2.63.254 2001:db8:3ffe::1 2001:db8:3fff::1 127.4.63.255 127.4.64.0
	[ "$status" -eq 0 ]
	[ "$output" = "127.1.63.252 EPERM
127.1.63.253 sent
127.2.0.1 sent
127.2.63.253 sent
127.2.63.254 EPERM
2001:db8:3ffe::1 EPERM
2001:db8:3fff::1 ENETUNREACH
127.4.63.255 EPERM
127.4.64.0 sent" ]
}

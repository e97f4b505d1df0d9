#!/usr/bin/env bats
# DESIGN.md §3 on the real binary: hostile argv is refused with the right
# sysexits code, exactly one stderr line naming the offending argument,
# nothing on stdout, and before any bpf() call (§4 step 3). Refusals run
# under a strace tripwire (validation-helpers.bash): a bpf() call is both
# recorded and prevented, so a value that wrongly slips through can never
# attach anything. Success cases load for real on this test's own cgroup.

load helpers
load validation-helpers

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
	refused 65 "$L: --cgroup --deny: $WHY_ABSOLUTE" --cgroup --deny 192.0.2.1
	refused 65 "$L: --deny --cgroup: $WHY_ADDRESS" --deny --cgroup "$cg"
	refused 65 "$L: --deny --help: $WHY_ADDRESS" --cgroup "$cg" --deny --help
}

# --- paths: exit 65 -------------------------------------------------------

@test "path: relative" {
	bad_path "${cg#/}" "$WHY_ABSOLUTE"
}

@test "path: relative with ./" {
	bad_path "./x" "$WHY_ABSOLUTE"
}

@test "path: empty" {
	refused_like 65 "^$L: --cgroup (''|): $WHY_ABSOLUTE\$" --cgroup '' --deny 192.0.2.1
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

@test "address: brackets [::1] and [::1]/128" {
	bad_deny '[::1]' "$WHY_ADDRESS"
	bad_deny '[::1]/128' "$WHY_ADDRESS"
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

@test "address: with a port (192.0.2.1:80)" {
	bad_deny 192.0.2.1:80 "$WHY_ADDRESS"
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
	[ ! -s "$err_file" ]
	assert_reply "$cg" 16384 0
	[ "$(our_programs "$cg")" -eq 5 ]
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
	[ ! -s "$err_file" ]
	assert_reply "$cg" 0 16384
	[ "$(our_programs "$cg")" -eq 5 ]
	# In a namespace with only lo: not denied means "no route", never sent.
	run probe "$cg" "$TAG" 2001:db8::1 2001:db8:3fff::1 2001:db8:4000::1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "2001:db8::1 EPERM" ]
	[ "${lines[1]}" = "2001:db8:3fff::1 EPERM" ]
	[ "${lines[2]}" = "2001:db8:4000::1 ENETUNREACH" ]
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
	assert_refused 66 "$L: --cgroup $cg/sub/link: $WHY_NOTDIR"
}

@test "cgroup: a symbolic link as an intermediate component (66)" {
	make_cgroup sub >/dev/null
	make_cgroup child >/dev/null # $cg/sub/link/child would resolve to it
	in_mount_ns "mount -t tmpfs jt-tmpfs $(printf %q "$cg/sub") && ln -s $(printf %q "$cg") $(printf %q "$cg/sub/link")" \
		--cgroup "$cg/sub/link/child" --deny 192.0.2.1
	assert_refused 66 "$L: --cgroup $cg/sub/link/child: $WHY_NOTDIR"
	[ "$(our_programs "$cg/child")" -eq 0 ]
}

@test "cgroup: a plain directory on tmpfs below a cgroup (66)" {
	make_cgroup sub >/dev/null
	in_mount_ns "mount -t tmpfs jt-tmpfs $(printf %q "$cg/sub") && mkdir $(printf %q "$cg/sub/plain")" \
		--cgroup "$cg/sub/plain" --deny 192.0.2.1
	assert_refused 66 "$L: --cgroup $cg/sub/plain: $WHY_NOT_V2"
}

@test "cgroup: a tmpfs mounted over a cgroup directory (66)" {
	make_cgroup sub >/dev/null
	in_mount_ns "mount -t tmpfs jt-tmpfs $(printf %q "$cg/sub")" \
		--cgroup "$cg/sub" --deny 192.0.2.1
	assert_refused 66 "$L: --cgroup $cg/sub: $WHY_NOT_V2"
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
		if grep -q 'mount' "$err_file"; then
			cannot_run "no cgroup v1 here: $(cat "$err_file")"
		fi
		assert_refused 66 "$L: --cgroup $cg/sub: $WHY_NOT_V2"
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
	assert_refused 77 "$L: --cgroup $cg/sub: $WHY_ROOT"
}

# --- success --------------------------------------------------------------

@test "--help: usage on stdout, exit 0, nothing else" {
	run_tripwire --help
	[ "$status" -eq 0 ]
	[ ! -s "$err_file" ]
	no_bpf_call
	[ "${lines[0]}" = "usage: $L --cgroup PATH --deny CIDR [--deny CIDR]..." ]
	[ "${lines[1]}" = "       $L --help | --version" ]
	[ "$(tail -c1 "$out_file" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "--version: one line, exit 0, nothing else" {
	run_tripwire --version
	[ "$status" -eq 0 ]
	[ ! -s "$err_file" ]
	no_bpf_call
	[ "$(wc -l <"$out_file")" -eq 1 ]
	[[ $output =~ ^jail-ai-ebpf-loader\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "load: a mixed list is attached, reported and enforced" {
	run_traced --cgroup "$cg" \
		--deny 127.0.0.2 --deny 127.0.0.2 --deny 127.0.1.0/24 \
		--deny ::ffff:127.0.0.3 --deny ::ffff:127.0.2.0/120 --deny ::ffff:7f00:5 \
		--deny ::1 --deny 2001:db8::/32 --deny fe80::/10
	[ "$status" -eq 0 ]
	[ ! -s "$err_file" ]
	# mapped addresses count as IPv4; duplicates count as given
	assert_reply "$cg" 6 3
	# the trace records real bpf() calls: the tripwire's silence means something
	grep -q 'bpf(BPF_PROG_ATTACH' "$trace"
	[ "$(our_programs "$cg")" -eq 5 ]
	[ "$(printf '%s\n' "${program_ids[@]}" | sort -n)" = "$(attached_ids "$cg")" ]
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
	[ ! -s "$err_file" ]
	assert_reply "${cg}/a\\\\\"b\\\\\\\\c" 1 0
	[ "$(printf '%s' "$output" | "$PYTHON" -c 'import json, sys; r = json.loads(sys.stdin.read()); print(r["cgroup"])')" = "$path" ]
	[ "$(our_programs "$path")" -eq 5 ]
}

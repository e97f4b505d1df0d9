#!/usr/bin/env bats
# Unit tests of validate.c (test/unit/test_validate.c), built with ASan and
# UBSan, -fno-sanitize-recover=all: one bats test per group, and every C
# check prints its own "ok"/"not ok" line, shown here when a group fails.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

UNIT="$PROJECT_ROOT/build/unit/test_validate"
FUZZER="$PROJECT_ROOT/build/fuzz/fuzz_validate"

GROUPS_HERE=(cidr_ipv4 cidr_ipv6 cidr_bad_address cidr_bad_prefix
	cidr_host_bits cidr_mapped rule_ports rule_bad_ports rule_bad_protocol
	rule_brackets rule_order path_syntax path_length decimal
	args_grammar args_store args_limits escape_message escape_json)

setup() {
	[[ -x $UNIT ]] || cannot_run "unit tests not built (make test-helpers)"
}

# group NAME: run one group; fail (showing every check) unless all passed.
group() {
	run "$UNIT" "$1"
	printf '%s\n' "$output"
	[[ $status -eq 0 ]]
	[[ ${lines[-1]} == "$1: 0 failed" ]]
	# A group that checks nothing proves nothing.
	grep -q '^ok - ' <<<"$output"
	! grep -q '^not ok' <<<"$output" || false
}

@test "unit: every group of test_validate has a test here" {
	run "$UNIT" --list
	[[ $status -eq 0 ]]
	[[ $output == "$(printf '%s\n' "${GROUPS_HERE[@]}")" ]]
}

@test "unit: the sanitizers are compiled in (ASan and UBSan canaries die)" {
	run "$UNIT" --asan-canary
	[[ $status -ne 0 ]]
	[[ $output == *"ERROR: AddressSanitizer: heap-use-after-free"* ]]
	run "$UNIT" --ubsan-canary
	[[ $status -ne 0 ]]
	[[ $output == *"runtime error: signed integer overflow"* ]]
}

@test "unit: parse_rule IPv4 CIDRs and prefix 0..32" { group cidr_ipv4; }
@test "unit: parse_rule IPv6 CIDRs and prefix 0..128" { group cidr_ipv6; }
@test "unit: parse_rule refuses what inet_pton refuses (octal, hex, shorthand, zones, spaces)" { group cidr_bad_address; }
@test "unit: parse_rule prefix is plain decimal in range" { group cidr_bad_prefix; }
@test "unit: parse_rule host bits, every bit at every prefix, canonical network" { group cidr_host_bits; }
@test "unit: parse_rule IPv4-mapped ::ffff:a.b.c.d/96+n becomes a.b.c.d/n" { group cidr_mapped; }
@test "unit: parse_rule CIDR4:PORTS[/PROTO] and [CIDR6]:PORTS[/PROTO], the DESIGN examples, ranges, mapped" { group rule_ports; }
@test "unit: parse_rule ports: 0, 65536, signs, half and reversed ranges, leading zeros, spaces, two colons" { group rule_bad_ports; }
@test "unit: parse_rule protocol is exactly tcp or udp" { group rule_bad_protocol; }
@test "unit: parse_rule brackets around an IPv6 CIDR before :PORTS, only there" { group rule_brackets; }
@test "unit: parse_rule names the first fault: address, prefix, ports, protocol, host bits; long values never pass" { group rule_order; }
@test "unit: check_cgroup_path syntax verdicts" { group path_syntax; }
@test "unit: check_cgroup_path PATH_MAX-1 vs PATH_MAX, NAME_MAX vs NAME_MAX+1" { group path_length; }
@test "unit: parse_decimal (SUDO_UID and prefix recipe) bounds and no wrap-around" { group decimal; }
@test "unit: parse_args grammar, messages, first error wins" { group args_grammar; }
@test "unit: parse_args stores the keys, values and levels of filter.h (keys contract)" { group args_store; }
@test "unit: parse_args 16384 rules pass (deny-only, mixed, worst case for keys), 16385 do not" { group args_limits; }
@test "unit: escape for messages: \\xNN, cut with ... on a boundary, never overruns" { group escape_message; }
@test "unit: escape for JSON: quotes and backslashes, the loader's worst case fits" { group escape_json; }

@test "unit: the fuzz harness's contract checks pass on every seed input" {
	[[ -x $FUZZER ]] || cannot_run "fuzzer not built (make test-helpers)"
	run "$FUZZER" -runs=0 "$PROJECT_ROOT"/fuzz/corpus/*
	printf '%s\n' "$output" | tail -n 5
	[[ $status -eq 0 ]]
	[[ $output == *"Executed $PROJECT_ROOT/fuzz/corpus/"* ]]
	! grep -qE 'ERROR:|runtime error:|contract broken' <<<"$output" || false
}

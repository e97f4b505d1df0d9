#!/usr/bin/env bats
# parse_rule (validate.c, through build/unit/rule_oracle, ASan+UBSan)
# against an independent model of DESIGN.md section 3 in Python
# (test/reference_rule.py: socket.inet_pton, a grammar of what inet_pton
# accepts, ipaddress for the canonical network, the rule grammar of ports,
# brackets and protocols written from the contract) over 100,000 valid and
# near-valid rules from a fixed seed: the same verdict, message, family,
# prefix, network, protocols and port range for every one.
#
# ShellCheck: bats runs each @test in a subshell of its own, and the helpers
# below read the status and output that the test calling them set with run:
# shellcheck disable=SC2030,SC2031 # not values lost in a subshell

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

ORACLE="$PROJECT_ROOT/build/unit/rule_oracle"
REFERENCE="$PROJECT_ROOT/test/reference_rule.py"

setup() {
	[[ -x $ORACLE ]] || cannot_run "oracle not built (make test-helpers)"
	command -v python3 >/dev/null || cannot_run "python3 missing"
}

@test "differential: parse_rule agrees with the reference on 100000 strings" {
	run python3 "$REFERENCE" --oracle "$ORACLE" --seed 20240605 --count 100000
	printf '%s\n' "$output"
	[[ $status -eq 0 ]]
	[[ ${lines[0]} =~ ^differential:\ 100000\ strings ]]
	[[ $output == *"reference grammar vs inet_pton: 0 disagreements"* ]]
	[[ $output == *"reference vs parse_rule: 0 disagreements"* ]]
	# The mix really covers every outcome, in numbers.
	[[ ${lines[0]} =~ ([0-9]+)\ accepted\ \(([0-9]+)\ of\ them\ IPv4-mapped,\ ([0-9]+)\ with\ ports\),\ ([0-9]+)\ host\ bits,\ ([0-9]+)\ bad\ address,\ ([0-9]+)\ bad\ prefix,\ ([0-9]+)\ bad\ ports,\ ([0-9]+)\ bad\ protocol,\ ([0-9]+)\ brackets\;\ ([0-9]+)\ longer\ than\ 127\ bytes ]]
	for n in "${BASH_REMATCH[@]:1}"; do
		[[ $n -ge 1000 ]]
	done
}

# fake_oracle SED: a stand-in for the oracle whose answers SED rewrites.
fake_oracle() {
	fake=$BATS_TEST_TMPDIR/fake-oracle
	cat >"$fake" <<-EOF2
	#!/bin/sh
	"$ORACLE" | sed '$1'
	EOF2
	chmod +x "$fake"
	run python3 "$REFERENCE" --oracle "$fake" --seed 20240605 --count 20000
	printf '%s\n' "$output" | head -n 8
	[[ $status -eq 1 ]]
	[[ $output =~ reference\ vs\ parse_rule:\ [1-9][0-9]*\ disagreements ]]
}

@test "differential: the comparison catches a parse_rule that keeps IPv4-mapped rules IPv6" {
	fake_oracle 's/^OK 4 \([0-9]*\) \([0-9a-f]\{8\}\) /OK 6 \1 00000000000000000000ffff\2 /'
}

@test "differential: the comparison catches a parse_rule that drops a protocol or a range end" {
	fake_oracle 's/^\(OK .*\) 1 \([0-9]*\) [0-9]*$/\1 3 \2 \2/'
}

@test "differential: the comparison catches a parse_rule with the wrong message" {
	fake_oracle 's/^BAD protocol must be tcp or udp$/BAD ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535/'
}

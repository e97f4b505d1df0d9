#!/usr/bin/env bats
# parse_cidr (validate.c, through build/unit/cidr_oracle, ASan+UBSan)
# against an independent model of DESIGN.md section 3 in Python
# (test/reference_cidr.py: socket.inet_pton, a grammar of what inet_pton
# accepts, ipaddress for the canonical network) over 100,000 valid and
# near-valid strings from a fixed seed: the same verdict, family, prefix
# and network for every one.

load helpers

ORACLE="$PROJECT_ROOT/build/unit/cidr_oracle"
REFERENCE="$PROJECT_ROOT/test/reference_cidr.py"

setup() {
	[[ -x $ORACLE ]] || cannot_run "oracle not built (make test-helpers)"
	command -v python3 >/dev/null || cannot_run "python3 missing"
}

@test "differential: parse_cidr agrees with the reference on 100000 strings" {
	run python3 "$REFERENCE" --oracle "$ORACLE" --seed 20240605 --count 100000
	printf '%s\n' "$output"
	[[ $status -eq 0 ]]
	[[ ${lines[0]} =~ ^differential:\ 100000\ strings ]]
	[[ $output == *"reference grammar vs inet_pton: 0 disagreements"* ]]
	[[ $output == *"reference vs parse_cidr: 0 disagreements"* ]]
	# The mix really covers every outcome, in numbers.
	[[ ${lines[0]} =~ ([0-9]+)\ accepted\ \(([0-9]+)\ of\ them\ IPv4-mapped\),\ ([0-9]+)\ host\ bits,\ ([0-9]+)\ bad\ address,\ ([0-9]+)\ bad\ prefix ]]
	for n in "${BASH_REMATCH[@]:1}"; do
		[[ $n -ge 1000 ]]
	done
}

@test "differential: the comparison catches a parse_cidr that differs" {
	# A stand-in oracle that gets IPv4-mapped entries wrong (keeps them
	# IPv6) must be caught: proof that the comparison can fail.
	fake=$BATS_TEST_TMPDIR/fake-oracle
	cat >"$fake" <<-EOF2
	#!/bin/sh
	"$ORACLE" | sed 's/^OK 4 \([0-9]*\) \([0-9a-f]\{8\}\)$/OK 6 \1 00000000000000000000ffff\2/'
	EOF2
	chmod +x "$fake"
	run python3 "$REFERENCE" --oracle "$fake" --seed 20240605 --count 20000
	printf '%s\n' "$output" | head -n 8
	[[ $status -eq 1 ]]
	[[ $output =~ reference\ vs\ parse_cidr:\ [1-9][0-9]*\ disagreements ]]
}

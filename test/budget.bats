#!/usr/bin/env bats
# The privileged code stays small enough to audit in one sitting (DESIGN.md §2).

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

# Lines of code: no blank lines, no comment-only lines (// and /* */
# removed); the counter `make lint` prints too.
count_loc() { "$PROJECT_ROOT/scripts/count-loc" "$@"; }

@test "the line counter counts code, not comments or blank lines" {
	printf '%s\n' '/* a' ' * comment */' '' 'int x; // note' '	return 0;' >"$BATS_TEST_TMPDIR/t.c"
	[ "$(count_loc "$BATS_TEST_TMPDIR/t.c")" -eq 2 ]
}

@test "loader.c + validate.c stay under 500 lines of code" {
	local n
	n=$(count_loc "$PROJECT_ROOT/loader.c" "$PROJECT_ROOT/validate.c")
	echo "# loader.c + validate.c: $n lines of code" >&3
	[ "$n" -lt 500 ]
}

@test "the build tracks filter.h: touching it rebuilds the BPF object, the loader, the unit tests and the fuzzer" {
	# make -W FILE: as if FILE were modified, without touching it.
	run make -C "$PROJECT_ROOT" -n -W filter.h jail-ai-ebpf-loader test-helpers
	[ "$status" -eq 0 ]
	for target in build/filter.bpf.o build/filter.lskel.h build/loader.o build/validate.o \
		jail-ai-ebpf-loader build/unit/test_validate build/fuzz/fuzz_validate; do
		grep -qE -- "(-o |> )$target( |$)" <<<"$output" || { echo "not rebuilt: $target"; return 1; }
	done
}

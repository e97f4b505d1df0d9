#!/usr/bin/env bats
# The privileged code stays small enough to audit in one sitting (DESIGN.md §2).

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

# Lines of code: no blank lines, no comment-only lines (// and /* */ removed).
count_loc() {
	sed -e 's#//.*##' "$@" | awk '
	BEGIN { c = 0 }
	{
		line = $0
		while (1) {
			if (c) { e = index(line, "*/"); if (!e) { line = ""; break } line = substr(line, e + 2); c = 0 }
			s = index(line, "/*"); if (!s) break
			rest = substr(line, s + 2); e = index(rest, "*/")
			if (e) { line = substr(line, 1, s - 1) substr(rest, e + 2) } else { line = substr(line, 1, s - 1); c = 1; break }
		}
		if (line ~ /[^[:space:]]/) n++
	}
	END { print n + 0 }'
}

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

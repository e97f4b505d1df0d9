#!/usr/bin/env bats
# README.md's recipes are the scripts the suites run: each
# test/distro/recipe-NAME holds, between its "# README begins" and
# "# README ends" lines, a block that README prints as is, apart from the
# script's plumbing: its lines ending in "# test" (they keep the argv for
# the suite), the extra policy options it passes ("${extra[@]}") and the
# container it is given ("$@" for README's IMAGE CMD...).

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

# readme_has_recipe FILE: README.md holds FILE's recipe block, line for line.
readme_has_recipe() {
	python3 - "$1" "$PROJECT_ROOT/README.md" <<'PY'
import sys
script, readme = (open(p).read().splitlines() for p in sys.argv[1:])
block = script[script.index("# README begins") + 1:script.index("# README ends")]
want = [l.replace(' "${extra[@]}"', "").replace('"$@"', "IMAGE CMD...").strip()
        for l in block if not l.endswith("# test")]
text = [l.strip() for l in readme]
starts = [i for i in range(len(text)) if text[i:i + len(want)] == want]
if len(starts) != 1:
    sys.exit("README.md has %d copies of:\n%s" % (len(starts), "\n".join(want)))
PY
}

@test "docs: README.md prints each recipe test/distro runs, line for line" {
	local recipes=("$PROJECT_ROOT"/test/distro/recipe-*)
	[[ ${#recipes[@]} -eq 3 ]]
	for recipe in "${recipes[@]}"; do
		readme_has_recipe "$recipe"
	done
}

@test "docs: the check refuses a recipe README does not print" {
	sed 's/--cap-drop=NET_RAW/--cap-drop=ALL/' "$PROJECT_ROOT/test/distro/recipe-docker" >"$BATS_TEST_TMPDIR/recipe"
	run readme_has_recipe "$BATS_TEST_TMPDIR/recipe"
	[[ $status -eq 1 && $output == "README.md has 0 copies of:"*"--cap-drop=ALL"* ]]
}

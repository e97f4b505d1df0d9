#!/usr/bin/env bats
# The built loader carries the hardening DESIGN.md section 9 asks for. Every check
# reads the ELF file ./jail-ai-ebpf-loader (readelf), not the Makefile text;
# only "warnings are errors" reads make's own database (make -pn), because a
# binary does not record which warnings were errors.

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

setup() {
	[[ -f $LOADER ]] || cannot_run "loader not built (run make)"
	command -v readelf >/dev/null || cannot_run "readelf missing (binutils)"
}

@test "hardening: position-independent executable (ELF DYN + DF_1_PIE)" {
	run readelf -hW "$LOADER"
	[[ $status -eq 0 ]]
	[[ $output =~ Type:\ +DYN ]]
	run readelf -dW "$LOADER"
	[[ $status -eq 0 ]]
	grep -E '\(FLAGS_1\) +Flags:.* PIE( |$)' <<<"$output"
	# A PIE has no text relocations and no interposable search path.
	! grep -E '\((TEXTREL|RPATH|RUNPATH)\)' <<<"$output" || false
}

@test "hardening: full RELRO (GNU_RELRO segment and BIND_NOW)" {
	run readelf -lW "$LOADER"
	[[ $status -eq 0 ]]
	grep -E '^ +GNU_RELRO ' <<<"$output"
	run readelf -dW "$LOADER"
	[[ $status -eq 0 ]]
	# -z now: DT_BIND_NOW, DF_BIND_NOW in DT_FLAGS or DF_1_NOW in DT_FLAGS_1.
	grep -E '\(BIND_NOW\)|\(FLAGS\) +.*BIND_NOW|\(FLAGS_1\) +Flags:.* NOW( |$)' <<<"$output"
}

@test "hardening: non-executable stack (GNU_STACK is RW, not RWE)" {
	run readelf -lW "$LOADER"
	[[ $status -eq 0 ]]
	line=$(grep -E '^ +GNU_STACK ' <<<"$output")
	echo "$line"
	# Fields: type offset vaddr paddr filesz memsz flags align.
	read -r _ _ _ _ _ _ flags _ <<<"$line"
	[[ $flags == RW ]]
	# And no other segment is both writable and executable.
	! grep -E '^ +[A-Z_]+ .* RWE ' <<<"$output" || false
}

@test "hardening: stack protector (__stack_chk_fail referenced, -fstack-protector-strong in every unit)" {
	run readelf --dyn-syms -W "$LOADER"
	[[ $status -eq 0 ]]
	grep -E ' UND __stack_chk_fail(@|$)' <<<"$output"
	# gcc records its code-generation switches per compilation unit.
	run readelf --debug-dump=info "$LOADER"
	[[ $status -eq 0 ]]
	producers=$(grep -E 'DW_AT_producer.*GNU C' <<<"$output")
	[[ -n $producers ]] || { echo "no DWARF producer: built without -g?"; false; }
	echo "$producers"
	! grep -v -e '-fstack-protector-strong' <<<"$producers" || false
	! grep -v -e '-fstack-clash-protection' <<<"$producers" || false
}

@test "hardening: FORTIFY_SOURCE (checked __*_chk libc calls referenced)" {
	run readelf --dyn-syms -W "$LOADER"
	[[ $status -eq 0 ]]
	chk=$(grep -oE ' UND __[a-z0-9_]+_chk' <<<"$output" | grep -v __stack_chk_fail || true)
	echo "fortified calls: ${chk//$'\n'/ }"
	[[ -n $chk ]]
	# The loader formats its messages and reply with snprintf: fortified.
	grep -E '__v?snprintf_chk' <<<"$chk"
}

@test "hardening: warnings are errors (-Werror in the CFLAGS make uses)" {
	run make -C "$PROJECT_ROOT" --no-print-directory -pn "$(basename "$LOADER")"
	[[ $status -eq 0 ]]
	cflags=$(grep -E '^CFLAGS :?= ' <<<"$output" | tail -n 1)
	echo "$cflags"
	[[ " $cflags " == *" -Werror "* ]]
	for flag in -Wall -Wextra -Wformat=2 -Wconversion -D_FORTIFY_SOURCE=3; do
		[[ " $cflags " == *" $flag "* ]] || { echo "missing $flag"; false; }
	done
}

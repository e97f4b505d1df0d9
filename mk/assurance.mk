# Assurance (issue 5): validate.c under sanitizers, a differential oracle,
# a valgrind build of the loader, fuzzing and static analysis.
#   make test-helpers  also builds, for `make check` (test/unit.bats,
#                      test/differential.bats, test/valgrind.bats):
#                        build/unit/test_validate   unit tests, ASan+UBSan
#                        build/unit/rule_oracle     parse_rule line by line
#                        build/fuzz/fuzz_validate   the libFuzzer harness
#                        build/valgrind/jail-ai-ebpf-loader  (see its shim)
#   make fuzz          run the harness for FUZZ_SECONDS (60); fails on any
#                      crash, leak or sanitizer report
#   make lint          scripts/lint: gcc -fanalyzer, clang-tidy, cppcheck,
#                      clang-format over every C file, shellcheck over
#                      every shell script
.PHONY: fuzz lint

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
# No _FORTIFY_SOURCE here: ASan's own checks of the same calls are stricter.
SAN_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN) $(SANITIZE)

ASSURANCE_PROGS := $(BUILD)/unit/test_validate $(BUILD)/unit/rule_oracle \
	$(BUILD)/fuzz/fuzz_validate $(BUILD)/valgrind/$(BIN)

$(BUILD)/unit/%: test/unit/%.c validate.c $(VALIDATE_H) test/unit/escape_contract.h \
		test/unit/keys_contract.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/unit
	$(Q)$(CC) $(SAN_CFLAGS) $< validate.c -o $@

$(BUILD)/fuzz/fuzz_validate: fuzz/fuzz_validate.c validate.c $(VALIDATE_H) \
		test/unit/escape_contract.h test/unit/keys_contract.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/fuzz
	$(Q)$(FUZZ_CC) $(SAN_CFLAGS) -fsanitize=fuzzer $< validate.c -o $@

# The same objects as $(BIN), with the seccomp filter left uninstalled.
$(BUILD)/valgrind/$(BIN): $(BUILD)/loader.o $(BUILD)/validate.o \
		test/unit/valgrind_shim.c | $(BUILD)
	$(Q)mkdir -p $(BUILD)/valgrind
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--wrap=seccomp_load $^ $(LDLIBS) -o $@

test-helpers: $(ASSURANCE_PROGS)

fuzz: $(BUILD)/fuzz/fuzz_validate
	$(Q)./fuzz/run $< $(FUZZ_SECONDS)

lint: $(BUILD)/filter.lskel.h
	$(Q)CC='$(CC)' CFLAGS='$(CFLAGS)' BUILD='$(BUILD)' \
		MULTIARCH='$(MULTIARCH)' ./scripts/lint

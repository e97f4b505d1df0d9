# jail-ai-ebpf-loader: filter.bpf.c -> light skeleton -> one static-free binary.
PREFIX ?= /usr/local
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
BUILD := build
BIN := jail-ai-ebpf-loader

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wconversion
HARDEN := -O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE \
	-fstack-clash-protection -fcf-protection
# The one version: debian/changelog's (--version prints it).
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
override CFLAGS := -std=gnu11 -g $(WARN) $(HARDEN) $(CFLAGS)
override LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack $(LDFLAGS)
LDLIBS += -lseccomp -lbpf
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.DELETE_ON_ERROR:
.PHONY: all deps check demo clean test-helpers

all: $(BIN)

deps:
	$(Q)./scripts/install-deps

# Headers are listed by hand: filter.h is the format the BPF object, the
# loader, validate.c, the unit tests, the fuzzer and bench/ share, so
# touching it rebuilds all of them (test/budget.bats checks with make -W).
VALIDATE_H := validate.h filter.h

# The BPF object and its light skeleton; mk/bench.mk builds the log-less
# filter for the bench with these same commands.
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -I/usr/include/$(MULTIARCH)
LSKEL := $(BPFTOOL) gen skeleton -L

$(BUILD)/filter.bpf.o: filter.bpf.c filter.h | $(BUILD)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/filter.lskel.h: $(BUILD)/filter.bpf.o
	$(Q)$(LSKEL) $< name filter > $@

$(BUILD)/validate.o: validate.c $(VALIDATE_H) | $(BUILD)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/loader.o: loader.c $(VALIDATE_H) $(BUILD)/filter.lskel.h debian/changelog | $(BUILD)
	$(Q)$(CC) $(CFLAGS) -DVERSION='"$(VERSION)"' -I$(BUILD) -c $< -o $@

$(BIN): $(BUILD)/loader.o $(BUILD)/validate.o
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD):
	$(Q)mkdir -p $@

# Test helpers in C: every test/*.c becomes build/test/NAME.
TEST_HELPERS := $(patsubst test/%.c,$(BUILD)/test/%,$(wildcard test/*.c))

$(BUILD)/test/%: test/%.c | $(BUILD)
	$(Q)mkdir -p $(BUILD)/test
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

# Those that include test/sock.h rebuild when it changes.
$(BUILD)/test/peer $(BUILD)/test/netprobe $(BUILD)/test/refuser: test/sock.h

test-helpers: $(TEST_HELPERS)

# T=test/x.bats runs one suite; the last line is "N passed, N failed".
check: deps
	$(Q)$(MAKE) --no-print-directory $(BIN) test-helpers
	$(Q)./test/run $(T)

demo: deps
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)./scripts/demo

-include $(wildcard mk/*.mk)

clean:
	rm -rf $(BUILD) $(BIN)

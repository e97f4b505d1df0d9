# `make bench`: measure the loader against stock bpftool, a minimal C floor
# and the firewalls users would write instead (nftables, iptables + ipset:
# bench/peers.py, bench/peer.sh), and the filter's cost to traffic beside
# theirs; prints one table (BENCHMARKS.md). Root only: it loads and attaches
# for real, in cgroups and network namespaces it makes and removes.
BENCH_PROGS := $(addprefix $(BUILD)/bench/,latency floor netload stats genlist \
	breakdown)

.PHONY: bench bench-programs

# floor and genlist make the trie's keys with bench/rules.h (filter.h)
$(BUILD)/bench/floor: bench/floor.c bench/rules.h filter.h $(BUILD)/filter.lskel.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(CC) $(CFLAGS) -I. -I$(BUILD) $(LDFLAGS) $< -o $@

# breakdown times floor's steps with the same skeleton and keys, and loads
# the object with libbpf for the verifier's statistics
$(BUILD)/bench/breakdown: bench/breakdown.c bench/rules.h filter.h $(BUILD)/filter.lskel.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(CC) $(CFLAGS) -I. -I$(BUILD) $(LDFLAGS) $< -lbpf -o $@

$(BUILD)/bench/genlist: bench/genlist.c bench/rules.h filter.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(CC) $(CFLAGS) -I. $(LDFLAGS) $< -o $@

$(BUILD)/bench/%: bench/%.c | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

# The log-less loader, for the refusal log's cost only (BENCHMARKS.md): the
# same loader.c and validate.o, its skeleton made from filter.bpf.c built
# with -DNO_REFUSAL_LOG (judge() without the log write), by the Makefile's
# own commands, into build/bench/nolog/. The main build's outputs are not
# touched.
NOLOG := $(BUILD)/bench/nolog
NOLOG_BIN := $(BUILD)/bench/$(BIN)-nolog

$(NOLOG)/filter.bpf.o: filter.bpf.c filter.h | $(BUILD)
	$(Q)mkdir -p $(NOLOG)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DNO_REFUSAL_LOG -c $< -o $@

$(NOLOG)/filter.lskel.h: $(NOLOG)/filter.bpf.o
	$(Q)$(LSKEL) $< name filter > $@

$(NOLOG)/loader.o: loader.c $(VALIDATE_H) $(NOLOG)/filter.lskel.h debian/changelog | $(BUILD)
	$(Q)$(CC) $(CFLAGS) -DVERSION='"$(VERSION)"' -I$(NOLOG) -c $< -o $@

$(NOLOG_BIN): $(NOLOG)/loader.o $(BUILD)/validate.o
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

bench-programs: $(BIN) $(BENCH_PROGS) $(NOLOG_BIN)

# Like check: deps first, then (recursively, so never in parallel with deps)
# the loader $(BIN) and the bench programs, then the run.
bench: deps
	$(Q)$(MAKE) --no-print-directory bench-programs
	$(Q)./bench/run

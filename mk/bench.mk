# `make bench`: measure the loader against stock bpftool and a minimal C
# floor, and the filter's cost to traffic; prints one table (BENCHMARKS.md).
# Root only: it loads and attaches for real, in cgroups and a network
# namespace it makes and removes.
BENCH_PROGS := $(addprefix $(BUILD)/bench/,latency floor netload stats genlist)

.PHONY: bench bench-programs

# floor and genlist make the trie's keys with bench/rules.h (filter.h)
$(BUILD)/bench/floor: bench/floor.c bench/rules.h filter.h $(BUILD)/filter.lskel.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(CC) $(CFLAGS) -I. -I$(BUILD) $(LDFLAGS) $< -o $@

$(BUILD)/bench/genlist: bench/genlist.c bench/rules.h filter.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(CC) $(CFLAGS) -I. $(LDFLAGS) $< -o $@

$(BUILD)/bench/%: bench/%.c | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

bench-programs: $(BIN) $(BENCH_PROGS)

# Like check: deps first, then (recursively, so never in parallel with deps)
# the loader $(BIN) and the bench programs, then the run.
bench: deps
	$(Q)$(MAKE) --no-print-directory bench-programs
	$(Q)./bench/run

# LD_PRELOAD shims for test/confinement.bats: test/shim/NAME.c becomes
# build/test/shim-NAME.so, built by `make test-helpers` (so by `make check`)
# with the project's strict flags, as position-independent shared objects.
CONFINEMENT_SHIMS := $(patsubst test/shim/%.c,$(BUILD)/test/shim-%.so,$(wildcard test/shim/*.c))

$(BUILD)/test/shim-%.so: test/shim/%.c | $(BUILD)
	$(Q)mkdir -p $(BUILD)/test
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -Wl,-z,relro,-z,now,-z,noexecstack $< -ldl -o $@

test-helpers: $(CONFINEMENT_SHIMS)

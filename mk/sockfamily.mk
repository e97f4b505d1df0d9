# test/sockfamily.c runs inside test/podman.bats' busybox image, which has no
# C library: linked statically, so not as a PIE (the pattern rule's -pie).
$(BUILD)/test/sockfamily: test/sockfamily.c test/sock.h | $(BUILD)
	$(Q)mkdir -p $(BUILD)/test
	$(Q)$(CC) $(CFLAGS) $(filter-out -pie,$(LDFLAGS)) -static $< -o $@

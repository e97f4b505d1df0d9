# Kernel matrix (issue 14): `make check-kernels` boots each kernel of
# KERNEL_MATRIX under qemu and runs KERNEL_SUITES inside it (see
# scripts/check-kernels and test/kernel/). The one list of the suites that
# exercise the kernel: add a suite here to have it run on every kernel.
.PHONY: check-kernels

KERNEL_SUITES ?= test/enforcement.bats test/lifecycle.bats \
	test/replacement.bats test/rollback.bats test/confinement.bats

# NAME:META-PACKAGE:CGROUP[:BOOT-OPTIONS] (see scripts/check-kernels).
KERNEL_MATRIX ?= 6.1:linux-image-amd64:hybrid 6.12:linux-image-6.12-amd64:v2

check-kernels: deps
	$(Q)$(MAKE) --no-print-directory $(BIN) test-helpers
	$(Q)KERNEL_MATRIX='$(KERNEL_MATRIX)' KERNEL_SUITES='$(KERNEL_SUITES)' \
		./scripts/check-kernels

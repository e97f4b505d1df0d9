# Kernel matrix (issue 14): `make check-kernels` boots each kernel of
# KERNEL_MATRIX under qemu and runs KERNEL_SUITES inside it (see
# scripts/check-kernels and test/kernel/). The one list of the suites that
# exercise the kernel: add a suite here to have it run on every kernel.
.PHONY: check-kernels check-kernels-all

# accepted.bats: the sockops mark is the most kernel-dependent program;
# refusals.bats: the refusal log (LRU map, atomic counts, boot-time clock).
KERNEL_SUITES ?= test/enforcement.bats test/lifecycle.bats \
	test/rollback.bats test/confinement.bats test/accepted.bats test/refusals.bats

# `make check-kernels-all` runs these too. replacement.bats is too slow under
# TCG for CI's budget (hundreds of loader runs, half of them beside a UDP
# flood: over 30 minutes on one emulated CPU); verdict.bats and oracle.bats
# are not yet timed under TCG.
KERNEL_SLOW_SUITES ?= test/replacement.bats test/verdict.bats test/oracle.bats

# NAME:META-PACKAGE:CGROUP[:BOOT-OPTIONS] (see scripts/check-kernels).
# Debian 12's stock kernel with a hybrid cgroup layout (v1 controllers,
# cgroup2 at /sys/fs/cgroup/unified) and Debian's LSM list, BPF LSM
# included; Debian 13's (also in Debian 12's archive) with cgroup2 alone and
# BPF LSM left out of lsm=, so nothing may depend on it.
KERNEL_MATRIX ?= 6.1:linux-image-amd64:hybrid \
	6.12:linux-image-6.12-amd64:v2:lsm=lockdown,capability,landlock,yama,apparmor,tomoyo

check-kernels-all: KERNEL_SUITES += $(KERNEL_SLOW_SUITES)
check-kernels-all: check-kernels

# Only what the guests run: the loader, test/*.c and the confinement shims.
check-kernels: deps
	$(Q)$(MAKE) --no-print-directory $(BIN) $(TEST_HELPERS) $(CONFINEMENT_SHIMS)
	$(Q)KERNEL_MATRIX='$(KERNEL_MATRIX)' KERNEL_SUITES='$(KERNEL_SUITES)' \
		./scripts/check-kernels

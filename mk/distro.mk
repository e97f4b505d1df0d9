# A real host in a VM (issue 19): `make check-distro` boots Debian 13 with
# systemd as PID 1 on cgroup v2 alone, its stock kernel, podman 5 with pasta
# and Docker, installs this project's package and runs test/distro/*.bats
# inside it (see scripts/check-distro and test/distro/).
.PHONY: check-distro

# In this order: Docker last, since dockerd leaves its firewall rules behind.
DISTRO_SUITES ?= test/distro/sudo.bats test/distro/podman.bats \
	test/distro/rootless.bats test/distro/docker.bats

# Beyond Debian's "important" set, with their Recommends (as `apt install`
# gives them): the init and session stack, the stock kernel, both container
# engines with their network helpers, both sudo implementations, and what
# the suites run. Changing the list rebuilds the cached image.
DISTRO_PACKAGES ?= systemd systemd-sysv libpam-systemd udev dbus \
	dbus-user-session linux-image-amd64 \
	podman passt netavark aardvark-dns crun uidmap slirp4netns \
	golang-github-containers-common \
	docker.io containerd runc \
	sudo sudo-rs \
	iproute2 iputils-ping nftables iptables procps util-linux kmod \
	python3 bats busybox-static bpftool jq libbpf1 tinyproxy-bin

# The guest installs the package `make deb` (mk/deb.mk) builds, with apt; the
# suites use build/test/sockfamily (static) inside the containers.
check-distro: deps
	$(Q)$(MAKE) --no-print-directory $(BIN) $(BUILD)/test/sockfamily deb
	$(Q)DISTRO_PACKAGES='$(DISTRO_PACKAGES)' DISTRO_SUITES='$(DISTRO_SUITES)' \
		./scripts/check-distro

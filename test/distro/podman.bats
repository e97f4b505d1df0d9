#!/usr/bin/env bats
# Root podman 5 on a systemd host (the `make check-distro` guest): Debian 13's
# podman with its own configuration (systemd cgroup manager, netavark,
# aardvark-dns, crun, journald), untouched, runs README.md's recipe for root
# podman on a systemd host (test/distro/recipe-podman): a slice of our own,
# started first, jail-ai-policy resolves its cgroup with systemctl, the
# loader (through sudo -n) filters it, and
# `podman run --cgroup-parent=jailai.slice` starts the container below it. Real traffic shows what the container reaches.
#
# ShellCheck: setup() sets RECIPE* for recipe (helpers.bash), which sets argv
# and programs for the tests:
# shellcheck disable=SC2034,SC2154 # set and read across helpers.bash

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

SLICE=jailai.slice

setup_file() {
	[[ -x $LOADER ]] || return 0
	world_up
	tar -C "$WORLD/rootfs" -c . | podman import --change CMD=/bin/sh - "$IMAGE" >/dev/null
}

teardown_file() {
	podman rm -af -t 0 >/dev/null 2>&1
	podman rmi -af >/dev/null 2>&1
	rm -f /etc/jail-ai-seccomp.json /root/argv
	world_down
}

setup() {
	[[ -x $LOADER ]] || cannot_run "the package did not install $LOADER"
	[[ -n ${WORLD:-} ]] || cannot_run "setup_file could not build the world"
	RECIPE=podman RECIPE_AS=() RECIPE_CGROUP=$CG2/$SLICE
}

teardown() {
	stop_test_servers
	podman rm -af -t 0 >/dev/null 2>&1
	podman network rm -f jt-net >/dev/null 2>&1
	systemctl stop "$SLICE" 2>/dev/null
	true
}

# The recipe's `podman run` options, for a second container below the slice.
GUIDE=(--cgroup-parent="$SLICE" --cap-drop=NET_RAW --security-opt seccomp=/etc/jail-ai-seccomp.json)

@test "root podman reads Debian's configuration: systemd cgroup manager, netavark, crun; without --cgroup-parent a container lands in machine.slice" {
	run podman info --format '{{.Host.CgroupManager}} {{.Host.CgroupsVersion}} {{.Host.NetworkBackend}} {{.Host.OCIRuntime.Name}}'
	echo "$output"
	[[ $output == "systemd v2 netavark crun" ]]
	podman run -d --name jt-default --network none "$IMAGE" sleep 600
	cgroup=$(cgroup_of "$(podman inspect -f '{{.State.Pid}}' jt-default)")
	echo "# root podman without --cgroup-parent: $cgroup" >&3
	[[ $cgroup == "/machine.slice/libpod-"*".scope/container" || $cgroup == "/machine.slice/libpod-"*".scope" ]]
}

@test "slice names: systemctl start makes the slice's cgroup at once; a \"-\" nests (jail-ai.slice is jail.slice/jail-ai.slice), and jail-ai-policy follows systemd" {
	systemctl start "$SLICE"
	[[ -d $CG2/$SLICE ]]
	run "$POLICY" --network podman --cgroup-parent "$SLICE"
	[[ $status -eq 0 && ${lines[1]} == "$CG2/$SLICE" ]]
	systemctl start jail-ai.slice
	[[ $(systemctl show -P ControlGroup jail-ai.slice) == /jail.slice/jail-ai.slice ]]
	run "$POLICY" --network podman --cgroup-parent jail-ai.slice
	systemctl stop jail-ai.slice jail.slice
	[[ $status -eq 0 && ${lines[1]} == "$CG2/jail.slice/jail-ai.slice" ]]
	# A slice that is not started: the policy says so.
	run "$POLICY" --network podman --cgroup-parent jt-absent.slice
	echo "# an absent slice: $output" >&3
	[[ $status -ne 0 && $output == *"jt-absent.slice is not loaded"* ]]
}

@test "default network: the first command is refused the gateway, the host's link and addresses, metadata and link-local at once, and jail-ai-refusals shows each; reaches the internet and resolves through the host's resolver" {
	gateway=$(podman network inspect podman | jq -r '.[0].subnets[0].gateway')
	recipe --network podman -- --rm "$IMAGE" sh -c "$PROBE" probe \
		"$gateway" 8000 "$HOST" 8000 "$HOST6" 8000 "$INET" 80 169.254.169.254 80 169.254.1.1 80
	[[ $status -eq 0 ]]
	[[ " ${argv[*]} " == *" --deny $gateway "* && " ${argv[*]} " == *" --deny $HOST "* ]]
	[[ " ${argv[*]} " == *" --deny $HOST6 "* && " ${argv[*]} " == *" --allow $INET:53 "* ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 6 ]]
	refused_all
	# The admin sees each refusal in the filter's log: the package's
	# jail-ai-refusals, on the slice (the filter in force on the container).
	run jail-ai-refusals --cgroup "$CG2/$SLICE" --json
	echo "$output"
	[[ $status -eq 0 ]]
	jq -se --arg gw "$gateway" --arg host "$HOST" --arg host6 "$HOST6" '
		def refused($d; $port; $hook): any(.[]; .destination == $d and .port == $port and
			.protocol == "tcp" and .hook == $hook and .rule_action == "deny" and .count >= 1);
		refused($gw; 8000; "connect4") and refused($host; 8000; "connect4") and
		refused($host6; 8000; "connect6") and refused("169.254.169.254"; 80; "connect4") and
		refused("169.254.1.1"; 80; "connect4")' <<<"$output"
	jq -se 'any(.[]; .destination == "169.254.169.254" and .rule == "deny 169.254.169.254/32")' <<<"$output"
	# podman copies the host's resolv.conf: its resolver answers through
	# --allow INET:53.
	run podman run --rm "${GUIDE[@]}" "$IMAGE" sh -c \
		"grep ^nameserver /etc/resolv.conf && timeout 20 wget -qO- http://$SERVER/ && nslookup internet.test"
	echo "$output"
	[[ $status -eq 0 && ${lines[0]} == "nameserver $INET" && ${lines[1]} == internet ]]
	[[ $output == *"Address: $SERVER"* ]]
}

@test "a network of its own with aardvark-dns: its DNS answers through --allow GATEWAY:53; the rest of the gateway and the host stay closed" {
	podman network create jt-net >/dev/null
	gateway=$(podman network inspect jt-net | jq -r '.[0].subnets[0].gateway')
	recipe --network jt-net -- --rm --network jt-net "$IMAGE" sh -c "grep ^nameserver /etc/resolv.conf && $PROBE"' &&
		nslookup internet.test && timeout 20 wget -qO- http://'"$SERVER/" probe \
		"$gateway" 8000 "$HOST" 8000 169.254.169.254 80
	[[ " ${argv[*]} " == *" --allow $gateway:53 "* ]]
	[[ $status -eq 0 && ${lines[0]} == "nameserver $gateway" ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* && ${lines[-1]} == internet ]]
}

@test "podman exec: a process started later is filtered too, and runs below the slice" {
	recipe --network podman -- -d --name jt-exec "$IMAGE" sleep 600
	[[ $status -eq 0 ]]
	cgroup=$(cgroup_of "$(podman inspect -f '{{.State.Pid}}' jt-exec)")
	echo "# the container's cgroup: $cgroup" >&3
	[[ $cgroup == "/$SLICE/libpod-"*".scope"* ]]
	conmon=$(podman inspect -f '{{.State.ConmonPid}}' jt-exec)
	echo "# its conmon: $(cgroup_of "$conmon")" >&3
	podman exec -d jt-exec sleep 601
	exec_pid=$(eventually pgrep -x -f 'sleep 601')
	echo "# podman exec's process: $(cgroup_of "$exec_pid")" >&3
	[[ $(cgroup_of "$exec_pid") == "/$SLICE/libpod-"*".scope"* ]]
	run podman exec jt-exec sh -c "$PROBE" probe 10.88.0.1 8000 "$HOST" 8000 169.254.169.254 80
	echo "$output"
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	run podman exec jt-exec timeout 20 wget -qO- "http://$SERVER/"
	[[ $status -eq 0 && $output == internet ]]
}

@test "a published port answers the host and the internet: the filter passes connections the container accepted; its own connections to the host stay refused" {
	recipe --network podman -- -d --name jt-web -p 8080:80 "$IMAGE" httpd -f -p 80 -h /www
	[[ $status -eq 0 ]]
	fetch() { [[ $("$@") == container ]]; }
	eventually fetch inet busybox wget -qO- -T 10 "http://$HOST:8080/"
	fetch busybox wget -qO- -T 10 "http://$HOST:8080/"
	run podman exec jt-web sh -c "$PROBE" probe "$HOST" 8000 10.88.0.1 8000
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 2 ]]
}

@test "broadcast and multicast from a guided container reach no host listener; from an unfiltered container they do" {
	# The control: podman's default parent, unfiltered; it keeps podman0 up.
	podman run -d --name jt-control --cap-drop=NET_RAW "$IMAGE" sleep 600
	bridge=$(podman network inspect podman | jq -r '.[0].network_interface')
	start_bg udp-9999 "$TEST_BIN/sockfamily" listen-udp 9999
	start_bg udp-5353 "$TEST_BIN/sockfamily" listen-udp 5353 "224.0.0.251%$bridge"
	start_bg udp-1900 "$TEST_BIN/sockfamily" listen-udp 1900 "239.255.255.250%$bridge"
	for port in 9999 5353 1900; do
		eventually grep -qx ready "$WORLD/udp-$port.log"
	done
	# shellcheck disable=SC2016 # expanded by the container's sh
	recipe --network podman -- --rm "$IMAGE" sh -c 'for to in "$@"; do
		sockfamily send-udp "${to% *}" "${to#* }" filtered; done' sh \
		"10.88.255.255 9999" "255.255.255.255 9999" "224.0.0.251 5353" "239.255.255.250 1900"
	[[ $status -eq 1 && $(grep -c ' EPERM$' <<<"$output") -eq 4 ]]
	delivered() { # ADDR PORT
		podman exec jt-control sockfamily send-udp "$1" "$2" control >/dev/null &&
			grep -q "^control to $1 from " "$WORLD/udp-$2.log"
	}
	eventually delivered 10.88.255.255 9999
	eventually delivered 255.255.255.255 9999
	eventually delivered 224.0.0.251 5353
	eventually delivered 239.255.255.250 1900
	[[ $(cat "$WORLD"/udp-*.log | grep -c ^filtered) -eq 0 ]]
}

@test "removing the container and stopping the slice frees every program" {
	recipe --network podman -- -d --name jt-gone "$IMAGE" sleep 600
	[[ $status -eq 0 ]]
	id=$(podman inspect jt-gone | jq -r '.[0].Id')
	run bpftool cgroup tree "$CG2/$SLICE" effective
	echo "$output"
	[[ $output == *"libpod-$id"* ]]
	# shellcheck disable=SC2086 # ids
	loaded $programs
	podman rm -f -t 0 jt-gone >/dev/null
	systemctl stop "$SLICE"
	[[ ! -d $CG2/$SLICE ]]
	# shellcheck disable=SC2086 # ids
	eventually freed $programs
}

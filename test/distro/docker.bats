#!/usr/bin/env bats
# Docker on a systemd host (the `make check-distro` guest; dockerd runs only
# there): Debian 13's docker.io with its own configuration (systemd cgroup
# driver, containerd, runc, iptables, the userland proxy), started by this
# suite. README.md's Docker recipe (test/distro/recipe-docker): a slice of
# our own, `jail-ai-policy --engine docker` for the docker network, the loader
# through sudo, and `docker run --cgroup-parent=jailai.slice` with the
# guide's seccomp profile and --cap-drop=NET_RAW. Runs last: dockerd leaves
# its firewall rules.
#
# ShellCheck: setup() sets RECIPE* for recipe (helpers.bash), which sets argv
# and programs for the tests:
# shellcheck disable=SC2034,SC2154 # set and read across helpers.bash

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

SLICE=jailai.slice
DIMAGE=jt-busybox

setup_file() {
	[[ -x $LOADER ]] || return 0
	world_up
	systemctl start docker.service
	eventually docker info >/dev/null
	tar -C "$WORLD/rootfs" -c . | docker import --change 'CMD ["/bin/sh"]' - "$DIMAGE" >/dev/null
}

teardown_file() {
	if [[ -n ${WORLD:-} ]]; then
		docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1
		docker network rm jt-dnet >/dev/null 2>&1
		docker rmi -f "$DIMAGE" >/dev/null 2>&1
		systemctl stop docker.service docker.socket containerd.service
		rm -f /etc/jail-ai-seccomp.json /root/argv
	fi
	world_down
}

setup() {
	[[ -x $LOADER ]] || cannot_run "the package did not install $LOADER"
	[[ -n ${WORLD:-} ]] || cannot_run "setup_file could not build the world"
	RECIPE=docker RECIPE_AS=() RECIPE_CGROUP=$CG2/$SLICE
}

teardown() {
	stop_test_servers
	docker rm -f jt-web jt-gone jt-control >/dev/null 2>&1
	systemctl stop "$SLICE" 2>/dev/null
	true
}

@test "Debian's dockerd: systemd cgroup driver on cgroup v2, docker0 172.17.0.1/16; jail-ai-policy --engine docker denies the bridge and opens the host's resolver" {
	run docker info --format '{{.CgroupDriver}} {{.CgroupVersion}} {{.DefaultRuntime}} {{.SecurityOptions}}'
	echo "$output"
	[[ $output == "systemd 2 runc "* ]]
	echo "# docker info: $output" >&3
	run ip -4 -o addr show docker0
	[[ $output == *" 172.17.0.1/16 "* ]]
	systemctl start "$SLICE"
	run "$POLICY" --engine docker --cgroup-parent "$SLICE"
	echo "# jail-ai-policy --engine docker: $(tr '\n' ' ' <<<"$output")" >&3
	[[ $status -eq 0 && ${lines[1]} == "$CG2/$SLICE" ]]
	[[ " ${lines[*]} " == *" --deny 172.17.0.0/16 "* && " ${lines[*]} " == *" --deny 172.17.0.1 "* ]]
	[[ " ${lines[*]} " == *" --allow $INET:53 "* && " ${lines[*]} " == *" --deny 172.16.0.0/12 "* ]]
}

@test "default bridge: the first command is refused docker0's gateway, the host and metadata; reaches the internet and resolves through the host's resolver" {
	recipe -- --rm "$DIMAGE" sh -c "grep ^nameserver /etc/resolv.conf && $PROBE"' &&
		nslookup internet.test && timeout 20 wget -qO- http://'"$SERVER/" probe \
		172.17.0.1 8000 "$HOST" 8000 "$HOST6" 8000 "$INET" 80 169.254.169.254 80
	[[ $status -eq 0 ]]
	[[ ${lines[0]} == "nameserver $INET" ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 5 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* && ${lines[-1]} == internet ]]
}

@test "a user network: Docker's embedded DNS at 127.0.0.11 answers (the container's own loopback, open); its gateway and the host stay closed" {
	docker network create jt-dnet >/dev/null
	gateway=$(docker network inspect jt-dnet | jq -r '.[0].IPAM.Config[0].Gateway')
	subnet=$(docker network inspect jt-dnet | jq -r '.[0].IPAM.Config[0].Subnet')
	recipe --network jt-dnet -- --rm --network jt-dnet "$DIMAGE" sh -c "grep ^nameserver /etc/resolv.conf && $PROBE"' &&
		nslookup internet.test && timeout 20 wget -qO- http://'"$SERVER/" probe \
		"$gateway" 8000 "$HOST" 8000 169.254.169.254 80
	[[ " ${argv[*]} " == *" --deny $subnet "* && " ${argv[*]} " == *" --deny $gateway "* ]]
	# No resolver to open: the embedded DNS is the container's own loopback.
	[[ " ${argv[*]} " != *":53 "* ]]
	[[ $status -eq 0 && ${lines[0]} == "nameserver 127.0.0.11" ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* && ${lines[-1]} == internet ]]
	# Who sends the embedded DNS server's queries upstream: dockerd.
	echo "# dockerd's cgroup: $(sed -n 's/^0:://p' "/proc/$(pgrep -x dockerd)/cgroup")" >&3
}

@test "docker exec is filtered; a published port answers the host and the internet" {
	recipe -- -d --name jt-web -p 8083:80 "$DIMAGE" httpd -f -p 80 -h /www
	[[ $status -eq 0 ]]
	cgroup=$(cgroup_of "$(docker inspect -f '{{.State.Pid}}' jt-web)")
	echo "# the Docker container's cgroup: $cgroup" >&3
	[[ $cgroup == "/$SLICE/docker-"*".scope" ]]
	docker exec -d jt-web sleep 603
	exec_pid=$(eventually pgrep -x -f 'sleep 603')
	echo "# docker exec's process: $(cgroup_of "$exec_pid")" >&3
	[[ $(cgroup_of "$exec_pid") == "/$SLICE/docker-"*".scope" ]]
	run docker exec jt-web sh -c "$PROBE" probe 172.17.0.1 8000 "$HOST" 8000 169.254.169.254 80
	echo "$output"
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	fetch() { [[ $("$@") == container ]]; }
	eventually fetch busybox wget -qO- -T 10 "http://$HOST:8083/"
	eventually fetch busybox wget -qO- -T 10 "http://127.0.0.1:8083/"
	eventually fetch inet busybox wget -qO- -T 10 "http://$HOST:8083/"
}

@test "broadcast and multicast from a filtered Docker container are refused at sendto" {
	start_bg udp-9999 "$TEST_BIN/sockfamily" listen-udp 9999
	start_bg udp-5353 "$TEST_BIN/sockfamily" listen-udp 5353 "224.0.0.251%docker0"
	for port in 9999 5353; do
		eventually grep -qx ready "$WORLD/udp-$port.log"
	done
	# shellcheck disable=SC2016 # expanded by the container's sh
	recipe -- --rm "$DIMAGE" sh -c 'for to in "$@"; do
		sockfamily send-udp "${to% *}" "${to#* }" filtered; done' sh \
		"172.17.255.255 9999" "255.255.255.255 9999" "224.0.0.251 5353"
	[[ $(grep -c ' EPERM$' <<<"$output") -eq 3 ]]
	docker run -d --name jt-control --cap-drop=NET_RAW "$DIMAGE" sleep 600 >/dev/null
	delivered() { # ADDR PORT: from the unfiltered container
		docker exec jt-control sockfamily send-udp "$1" "$2" control >/dev/null &&
			grep -q "^control to $1 from " "$WORLD/udp-$2.log"
	}
	eventually delivered 172.17.255.255 9999
	eventually delivered 224.0.0.251 5353
	[[ $(cat "$WORLD"/udp-*.log | grep -c ^filtered) -eq 0 ]]
}

@test "removing the Docker container and stopping the slice frees every program" {
	recipe -- -d --name jt-gone "$DIMAGE" sleep 600
	[[ $status -eq 0 ]]
	# shellcheck disable=SC2086 # ids
	loaded $programs
	docker rm -f jt-gone >/dev/null
	systemctl stop "$SLICE"
	# shellcheck disable=SC2086 # ids
	eventually freed $programs
}

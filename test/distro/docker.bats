#!/usr/bin/env bats
# Docker on a systemd host (the `make check-distro` guest; dockerd runs only
# there): Debian 13's docker.io with its own configuration (systemd cgroup
# driver, containerd, runc, iptables, the userland proxy), started by this
# suite. The guide's steps with `jail-ai-policy --engine docker`: a slice of
# our own, the policy for the docker network, the loader through sudo, and
# `docker run --cgroup-parent=jailai.slice` with the guide's seccomp profile
# and --cap-drop=NET_RAW. Runs last: dockerd leaves its firewall rules.

load helpers

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
	fi
	world_down
}

setup() {
	[[ -x $LOADER ]] || cannot_run "the package did not install $LOADER"
	[[ -n ${WORLD:-} ]] || cannot_run "setup_file could not build the world"
}

teardown() {
	stop_test_servers
	docker rm -f jt-web jt-gone jt-control >/dev/null 2>&1
	systemctl stop "$SLICE" 2>/dev/null
	true
}

# jail [POLICY-OPTION...]: the slice, the profile, jail-ai-policy's argv for
# Docker, the loader through sudo. Leaves $argv, $programs and the
# `docker run` options in $guide.
jail() {
	local policy counts
	systemctl start "$SLICE"
	"$POLICY" --seccomp-profile "$BATS_TEST_TMPDIR/seccomp.json"
	policy=$("$POLICY" --engine docker --cgroup-parent "$SLICE" "$@")
	mapfile -t argv <<<"$policy"
	[[ ${argv[0]} == --cgroup && ${argv[1]} == "$CG2/$SLICE" ]]
	run_capture sudo -n "$LOADER" "${argv[@]}"
	[[ $status -eq 0 ]] || { echo "loader: $stderr" >&2; return 1; }
	counts=$(count_rules "${argv[@]}")
	# shellcheck disable=SC2086 # two numbers
	programs=$(check_reply "$output" $counts)
	guide=(--cgroup-parent="$SLICE" --cap-drop=NET_RAW --security-opt "seccomp=$BATS_TEST_TMPDIR/seccomp.json")
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
	jail
	run docker run --rm "${guide[@]}" "$DIMAGE" sh -c "grep ^nameserver /etc/resolv.conf && $PROBE"' &&
		nslookup internet.test && timeout 20 wget -qO- http://'"$SERVER/" probe \
		172.17.0.1 8000 "$HOST" 8000 "$HOST6" 8000 "$INET" 80 169.254.169.254 80
	echo "$output"
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
	jail --network jt-dnet
	[[ " ${argv[*]} " == *" --deny $subnet "* && " ${argv[*]} " == *" --deny $gateway "* ]]
	# No resolver to open: the embedded DNS is the container's own loopback.
	[[ " ${argv[*]} " != *":53 "* ]]
	run docker run --rm --network jt-dnet "${guide[@]}" "$DIMAGE" sh -c "grep ^nameserver /etc/resolv.conf && $PROBE"' &&
		nslookup internet.test && timeout 20 wget -qO- http://'"$SERVER/" probe \
		"$gateway" 8000 "$HOST" 8000 169.254.169.254 80
	echo "$output"
	[[ $status -eq 0 && ${lines[0]} == "nameserver 127.0.0.11" ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* && ${lines[-1]} == internet ]]
	# Who sends the embedded DNS server's queries upstream: dockerd.
	echo "# dockerd's cgroup: $(sed -n 's/^0:://p' "/proc/$(pgrep -x dockerd)/cgroup")" >&3
}

@test "docker exec is filtered; a published port answers the host and the internet" {
	jail
	docker run -d --name jt-web -p 8083:80 "${guide[@]}" "$DIMAGE" httpd -f -p 80 -h /www >/dev/null
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
	jail
	start_bg udp-9999 "$TEST_BIN/sockfamily" listen-udp 9999
	start_bg udp-5353 "$TEST_BIN/sockfamily" listen-udp 5353 "224.0.0.251%docker0"
	for port in 9999 5353; do
		eventually grep -qx ready "$WORLD/udp-$port.log"
	done
	# shellcheck disable=SC2016 # expanded by the container's sh
	run docker run --rm "${guide[@]}" "$DIMAGE" sh -c 'for to in "$@"; do
		sockfamily send-udp "${to% *}" "${to#* }" filtered; done' sh \
		"172.17.255.255 9999" "255.255.255.255 9999" "224.0.0.251 5353"
	echo "$output"
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
	jail
	docker run -d --name jt-gone "${guide[@]}" "$DIMAGE" sleep 600 >/dev/null
	# shellcheck disable=SC2086 # ids
	loaded $programs
	docker rm -f jt-gone >/dev/null
	systemctl stop "$SLICE"
	# shellcheck disable=SC2086 # ids
	eventually freed $programs
}

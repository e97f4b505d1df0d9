#!/usr/bin/env bats
# Rootless podman 5 with pasta, its default rootless network, on a systemd
# host (the `make check-distro` guest): a member of jail-ai with lingering
# enabled runs README.md's systemd recipe (test/distro/recipe-rootless) in a
# login session (su -l: PAM and logind, as an ssh login). Real traffic shows
# what the container reaches; the cgroups podman 5, conmon and pasta really
# use are printed as TAP comments.
#
# ShellCheck: setup() sets RECIPE* for recipe (helpers.bash), which sets argv
# and programs for the tests:
# shellcheck disable=SC2034,SC2154 # set and read across helpers.bash

# shellcheck source=helpers.bash
source "$BATS_TEST_DIRNAME/helpers.bash"

USER_NAME=jtrootless

setup_file() {
	[[ -x $LOADER ]] || return 0
	world_up
	add_user "$USER_NAME" jail-ai
	linger "$USER_NAME"
	local home
	home=$(getent passwd "$USER_NAME" | cut -d: -f6)
	tar -C "$WORLD/rootfs" -c . >"$home/rootfs.tar"
	chown "$USER_NAME:" "$home/rootfs.tar"
	login_as "$USER_NAME" podman import --change CMD=/bin/sh "$home/rootfs.tar" "$IMAGE" >/dev/null
	login_as "$USER_NAME" mkdir -p "$home/.config"
	login_as "$USER_NAME" jail-ai-policy --seccomp-profile "$home/.config/jail-ai-seccomp.json"
}

teardown_file() {
	[[ -n ${WORLD:-} ]] && login_as "$USER_NAME" podman rm -af -t 0 >/dev/null 2>&1
	del_users
	world_down
}

setup() {
	[[ -x $LOADER ]] || cannot_run "the package did not install $LOADER"
	[[ -n ${WORLD:-} ]] || cannot_run "setup_file could not build the world"
	UID_N=$(id -u "$USER_NAME")
	SLICE_CG="$CG2/user.slice/user-$UID_N.slice/user@$UID_N.service/jailai.slice"
	RECIPE=rootless RECIPE_AS=(u) RECIPE_USER=$USER_NAME RECIPE_CGROUP=$SLICE_CG
}

teardown() {
	stop_test_servers
	login_as "$USER_NAME" podman rm -af -t 0 >/dev/null 2>&1
	login_as "$USER_NAME" systemctl --user stop jailai.slice 2>/dev/null
	true
}

u() { login_as "$USER_NAME" "$@"; }

@test "rootless podman reads Debian's configuration: systemd cgroup manager, pasta by default, crun; the slice is the user's own" {
	run u podman info --format '{{.Host.CgroupManager}} {{.Host.CgroupsVersion}} {{.Host.NetworkBackend}} {{.Host.OCIRuntime.Name}} {{.Host.RootlessNetworkCmd}}'
	echo "$output"
	[[ $output == "systemd v2 netavark crun pasta" ]]
	u systemctl --user start jailai.slice
	run u systemctl --user show -P ControlGroup jailai.slice
	[[ $output == "${SLICE_CG#"$CG2"}" ]]
	[[ $(stat -c %U "$SLICE_CG") == "$USER_NAME" ]]
	# shellcheck disable=SC2016 # expanded by the user's sh
	run u sh -c 'echo "$(cat /proc/self/cgroup) $XDG_RUNTIME_DIR $DBUS_SESSION_BUS_ADDRESS"'
	echo "# a login shell of the user: $output" >&3
}

@test "the recipe: the first command is refused the host, its link, the gateway, host.containers.internal, metadata and link-local at once; reaches the internet and resolves through pasta's 169.254.1.1" {
	recipe -- --rm "$IMAGE" sh -c "grep ^nameserver /etc/resolv.conf && ip -4 -o addr show && $PROBE"' &&
		nslookup internet.test && timeout 20 wget -qO- http://'"$SERVER/" probe \
		"$HOST" 8000 "$HOST6" 8000 "$INET" 80 169.254.1.2 8000 169.254.169.254 80 169.254.1.1 80
	[[ $status -eq 0 ]]
	[[ " ${argv[*]} " == *" --allow 169.254.1.1:53 "* && " ${argv[*]} " == *" --deny 169.254.0.0/16 "* ]]
	[[ $output == *"nameserver 169.254.1.1"* ]]
	# pasta copies the host's uplink address into the container.
	[[ $output == *" inet $HOST/24 "* ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 6 ]]
	refused_all
	[[ $output == *"Address: $SERVER"* && ${lines[-1]} == internet ]]
}

@test "host.containers.internal (169.254.1.2) opens one port with --allow 169.254.1.2:8000/tcp, and only that one" {
	recipe --allow 169.254.1.2:8000/tcp -- --rm "$IMAGE" sh -c \
		"grep host.containers.internal /etc/hosts; timeout 20 wget -qO- http://169.254.1.2:8000/ && $PROBE" probe \
		169.254.1.2 8001 "$HOST" 8000
	[[ $status -eq 0 ]]
	[[ ${lines[0]} == "169.254.1.2"*"host.containers.internal"* ]]
	[[ ${lines[1]} == service-8000 ]]
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 2 ]]
	refused_all
}

@test "allow-list by domain with pasta: --proxy 169.254.1.2:3128 and tinyproxy on the host's address allowing internet.test: the container reaches it through the proxy, another name gets 403; DNS, the host's other ports and the internet straight get EPERM at once" {
	# README.md "Allow-list by domain": with pasta the proxy sees pasta, on
	# the host, connect from the host's address.
	echo internet.test >"$WORLD/allowlist"
	cat >"$WORLD/tinyproxy.conf" <<-EOF
		User nobody
		Group nogroup
		Port 3128
		Listen $HOST
		Allow $HOST
		Timeout 60
		Filter "$WORLD/allowlist"
		FilterDefaultDeny Yes
		FilterType fnmatch
		ConnectPort 443
	EOF
	chmod 0755 "$BATS_FILE_TMPDIR" "$WORLD"
	start_bg tinyproxy tinyproxy -d -c "$WORLD/tinyproxy.conf"
	eventually wait_listening env tcp 3128
	# shellcheck disable=SC2016 # expanded by the container's sh
	recipe --proxy 169.254.1.2:3128 -- --rm --http-proxy=false --env http_proxy=http://169.254.1.2:3128 \
		"$IMAGE" sh -c 'echo "proxy: $(timeout 20 wget -qO- http://internet.test/ 2>&1)"
			echo "other: $(timeout 20 wget -qO- http://other.test/ 2>&1)"
			echo "dns: $(nslookup internet.test 2>&1 | grep -F "can'"'"'t connect")"
			'"$PROBE" probe 169.254.1.2 8000 "$SERVER" 80 169.254.1.1 53 "$HOST" 3128
	[[ $status -eq 0 ]]
	[[ " ${argv[*]:2} " == " --deny 0.0.0.0/0 --deny ::/0 --allow 169.254.1.2:3128/tcp --allow 127.0.0.0/8 --allow ::1 " ]]
	has "proxy: internet" "dns: nslookup: can't connect to remote host (169.254.1.1): Operation not permitted"
	[[ $output == *"other: wget: server returned error: HTTP/1."?" 403 Filtered"* ]]
	[[ $(grep -c "^probe .*Operation not permitted" <<<"$output") -eq 4 ]]
	refused_all
}

@test "podman exec, a published port and where pasta, conmon and the exec'd process run" {
	recipe -- -d --name jt-web -p 8082:80 "$IMAGE" httpd -f -p 80 -h /www
	[[ $status -eq 0 ]]
	cgroup=$(cgroup_of "$(u podman inspect -f '{{.State.Pid}}' jt-web)")
	echo "# the container's cgroup (rootless): $cgroup" >&3
	[[ $cgroup == "${SLICE_CG#"$CG2"}/libpod-"*".scope"* ]]
	u podman exec -d jt-web sleep 602
	exec_pid=$(eventually pgrep -x -f 'sleep 602')
	echo "# podman exec's process (rootless): $(cgroup_of "$exec_pid")" >&3
	[[ $(cgroup_of "$exec_pid") == "${SLICE_CG#"$CG2"}/libpod-"*".scope"* ]]
	run u podman exec jt-web sh -c "$PROBE" probe "$HOST" 8000 169.254.1.2 8000 169.254.169.254 80
	echo "$output"
	[[ $(grep -c "Operation not permitted" <<<"$output") -eq 3 ]]
	refused_all
	run u podman exec jt-web timeout 20 wget -qO- "http://$SERVER/"
	[[ $status -eq 0 && $output == internet ]]
	# The published port, from the host and from the internet.
	fetch() { [[ $("$@") == container ]]; }
	eventually fetch busybox wget -qO- -T 10 "http://127.0.0.1:8082/"
	eventually fetch busybox wget -qO- -T 10 "http://$HOST:8082/"
	eventually fetch inet busybox wget -qO- -T 10 "http://$HOST:8082/"
	# Who runs where.
	for name in pasta pasta.avx2 conmon rootlessport catatonit podman; do
		for pid in $(pgrep -u "$USER_NAME" -x "$name"); do
			echo "# $name (pid $pid): $(sed -n 's/^0:://p' "/proc/$pid/cgroup")  $(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-400)" >&3
		done
	done
	# pasta is not in the filtered slice: its own sockets are not judged.
	for pid in $(pgrep -u "$USER_NAME" '^pasta'); do
		[[ $(sed -n 's/^0:://p' "/proc/$pid/cgroup") != "${SLICE_CG#"$CG2"}"* ]]
	done
}

@test "broadcast and multicast from the recipe's container are refused at sendto; from an unfiltered one, pasta carries multicast to a host listener" {
	start_bg udp-9999 "$TEST_BIN/sockfamily" listen-udp 9999
	start_bg udp-5353 "$TEST_BIN/sockfamily" listen-udp 5353 "224.0.0.251%$UPLINK"
	for port in 9999 5353; do
		eventually grep -qx ready "$WORLD/udp-$port.log"
	done
	# shellcheck disable=SC2016 # expanded by the container's sh
	recipe -- --rm "$IMAGE" sh -c 'for to in "$@"; do
		sockfamily send-udp "${to% *}" "${to#* }" filtered; done' sh \
		"198.51.100.255 9999" "255.255.255.255 9999" "224.0.0.251 5353" "239.255.255.250 1900" "169.254.1.2 9999"
	[[ $(grep -c ' EPERM$' <<<"$output") -eq 5 ]]
	# The control: an unfiltered rootless container. pasta sends its
	# datagrams from the host's side: multicast and host.containers.internal
	# reach the host's listeners (broadcast does not get through pasta).
	u podman run -d --name jt-control --cap-drop=NET_RAW "$IMAGE" sleep 600 >/dev/null
	delivered() { # ADDR PORT ARRIVES-AS
		u podman exec jt-control sockfamily send-udp "$1" "$2" control >/dev/null &&
			grep -q "^control to $3 from " "$WORLD/udp-$2.log"
	}
	eventually delivered 224.0.0.251 5353 224.0.0.251
	eventually delivered 169.254.1.2 9999 "$HOST"
	u podman exec jt-control sh -c 'sockfamily send-udp 198.51.100.255 9999 control; sockfamily send-udp 255.255.255.255 9999 control'
	echo "# host listeners got: $(cat "$WORLD"/udp-*.log | grep -v ^ready | sort -u | tr '\n' ';')" >&3
	[[ $(cat "$WORLD"/udp-*.log | grep -c ^filtered) -eq 0 ]]
}

@test "removing the container and stopping the user's slice frees every program" {
	recipe -- -d --name jt-gone "$IMAGE" sleep 600
	[[ $status -eq 0 ]]
	# shellcheck disable=SC2086 # ids
	loaded $programs
	run bpftool cgroup tree "$SLICE_CG" effective
	echo "$output"
	[[ $output == *libpod-* ]]
	u podman rm -f -t 0 jt-gone >/dev/null
	u systemctl --user stop jailai.slice
	[[ ! -d $SLICE_CG ]]
	# shellcheck disable=SC2086 # ids
	eventually freed $programs
}

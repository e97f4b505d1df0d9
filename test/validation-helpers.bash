# Helpers of test/validation.bats (source after helpers.bash): run the real loader
# under strace so a test can prove that a refusal happened before any bpf().

# ShellCheck: $cg is the test cgroup that test/validation.bats' setup makes,
# and the suite reads the WHY_* reasons and what run_* set.
# shellcheck disable=SC2154,SC2034 # (see above)

# Byte-wise string handling: hostile values carry non-ASCII and control bytes.
export LC_ALL=C

# run_tripwire | run_traced | run_plain ARGS...: run_loader with ARGS
# (status, output, stderr, lines, RUN_STDOUT, RUN_STDERR) and $trace, the
# file where strace records every bpf():
#  tripwire: every bpf() is recorded and, instead of reaching the kernel, is
#            replaced by strace, which the loader's seccomp filter answers
#            with SIGSYS. A hostile argv that slipped through validation can
#            therefore never load or attach anything, anywhere.
#  traced:   recorded, but real (for loads that must succeed).
#  plain:    no strace at all.
# $launcher (an array, normally empty) goes in front: e.g. unshare.
launcher=()
_run_mode() {
	local mode=$1
	local -a LOADER_VIA=("${launcher[@]}")
	shift
	trace=$BATS_TEST_TMPDIR/trace
	rm -f "$trace"
	case $mode in
	tripwire) LOADER_VIA+=(strace -f -qq -e trace=bpf -e inject=bpf:error=EPERM -o "$trace") ;;
	traced) LOADER_VIA+=(strace -f -qq -e trace=bpf -o "$trace") ;;
	esac
	run_loader "$@"
}

run_tripwire() { _run_mode tripwire "$@"; }
run_traced() { _run_mode traced "$@"; }
run_plain() { _run_mode plain "$@"; }

# in_mount_ns SETUP ARGS...: run_tripwire ARGS in a private mount namespace
# after the shell commands SETUP. Mounts made there vanish with the loader,
# so nothing can be left mounted on the host even if the test dies.
in_mount_ns() {
	local setup=$1
	shift
	launcher=(unshare --mount --propagation private -- bash -c "$setup"' && exec "$@"' setup)
	run_tripwire "$@"
	launcher=()
}

# No bpf() call was recorded (and strace did run).
no_bpf_call() {
	if [[ ! -f $trace ]]; then
		echo "strace left no record ($trace): it did not run"
		return 1
	fi
	if grep -q 'bpf(' "$trace"; then
		echo "bpf() was called:"
		head -5 "$trace"
		return 1
	fi
}

# refused CODE LINE ARGS...: run ARGS under the tripwire: assert_refused
# (CODE, exactly LINE, nothing attached to the test cgroup $cg) and no
# bpf() at all.
refused() {
	local code=$1 want=$2
	shift 2
	run_tripwire "$@"
	assert_refused "$code" "$want" "$cg" || return 1
	no_bpf_call
}

# refused_like CODE ERE ARGS...: refused, the line matching ERE.
refused_like() {
	local code=$1 regex=$2
	shift 2
	run_tripwire "$@"
	assert_refused_like "$code" "$regex" "$cg" || return 1
	no_bpf_call
}

# bad_deny VALUE WHY: --deny VALUE (after a valid rule) is refused with 65.
bad_deny() {
	refused 65 "jail-ai-ebpf-loader: --deny $(msg_value "$1"): $2" \
		--cgroup "$cg" --deny 192.0.2.1 --deny "$1"
}

# bad_allow VALUE WHY: --allow VALUE (after a valid rule) is refused with 65.
bad_allow() {
	refused 65 "jail-ai-ebpf-loader: --allow $(msg_value "$1"): $2" \
		--cgroup "$cg" --deny 192.0.2.1 --allow "$1"
}

# bad_rule VALUE WHY: both bad_deny and bad_allow (the grammar is shared).
bad_rule() {
	bad_deny "$1" "$2" && bad_allow "$1" "$2"
}

# The loader's reasons, as validate.c and loader.c word them.
WHY_NO_ARGS="no arguments (try --help)"
WHY_UNKNOWN="unknown option"
WHY_UNEXPECTED="unexpected argument"
WHY_MISSING="missing value"
WHY_TWICE="given more than once"
WHY_NO_CGROUP="required"
WHY_NO_DENY="required at least once"
WHY_ALONE="must stand alone"
WHY_TOO_MANY="too many rules (at most 16384)"
WHY_NOENT="no such directory"
WHY_NOTDIR="not a directory, or a symbolic link"
WHY_NOT_V2="not a cgroup v2 directory"
WHY_ROOT="a hierarchy root is refused"
WHY_ADDRESS="not an IPv4 or IPv6 address"
WHY_PREFIX="prefix length must be plain decimal, 0..32 or 0..128"
WHY_HOST_BITS="host bits set beyond the prefix length"
WHY_BRACKETS="brackets go around an IPv6 CIDR before :PORTS, only there"
WHY_PORTS="ports must be N or N-M, plain decimal, 1 <= N <= M <= 65535"
WHY_PROTO="protocol must be tcp or udp"
WHY_OUTSIDE="not below /sys/fs/cgroup/"
WHY_CANONICAL="not canonical (no '.', '..', '//' or trailing '/')"
WHY_CHARACTER="only printable ASCII without spaces is allowed"
WHY_PATH_LONG="path too long"
WHY_COMPONENT_LONG="path component too long"

# bad_path VALUE WHY: --cgroup VALUE is refused with 65.
bad_path() {
	refused 65 "jail-ai-ebpf-loader: --cgroup $(msg_value "$1"): $2" \
		--cgroup "$1" --deny 192.0.2.1
}

# msg_value TEXT: TEXT as the loader echoes a value in a message: printable
# ASCII stays, every other byte and '\' become \xNN, and the value is cut
# with "..." where its 256-byte buffer would overflow (print_parse_error).
msg_value() {
	local text=$1 out="" used=0 i c n
	for ((i = 0; i < ${#text}; i++)); do
		if ((used + 4 + 4 > 256)); then
			out+="..."
			break
		fi
		c=${text:i:1}
		printf -v n '%d' "'$c"
		((n < 0)) && n=$((n + 256))
		if ((n > 32 && n < 127 && n != 92)); then
			out+=$c
			used=$((used + 1))
		else
			printf -v c '\\x%02x' "$n"
			out+=$c
			used=$((used + 4))
		fi
	done
	printf '%s' "$out"
}

# repeat N CHAR: CHAR N times.
repeat() {
	local s
	printf -v s '%*s' "$1" ''
	printf '%s' "${s// /$2}"
}

# path_of_length N: a path of exactly N bytes below the test cgroup $cg,
# made of 200-byte components (none exists).
path_of_length() {
	local n=$1 p=$cg a200
	a200=$(repeat 200 a)
	while ((n - ${#p} - 1 > 255)); do
		p+=/$a200
	done
	printf '%s/%s' "$p" "$(repeat $((n - ${#p} - 1)) b)"
}

# deny_v4 N [FIRST]: fills array DENY with N "--deny 127.0.X.Y" pairs,
# distinct loopback /32 addresses counted from FIRST (default 0).
deny_v4() {
	local i first=${2:-0}
	DENY=()
	for ((i = first; i < first + $1; i++)); do
		DENY+=(--deny "127.0.$((i >> 8)).$((i & 255))")
	done
}

# deny_v6 N: appends to DENY N "--deny 2001:db8:X::/48" pairs, X = 0, 1, ...
deny_v6() {
	local i x
	for ((i = 0; i < $1; i++)); do
		printf -v x '%x' "$i"
		DENY+=(--deny "2001:db8:$x::/48")
	done
}

# One UDP datagram to port 9 of each address; prints "ADDR sent" or
# "ADDR <errno name>" per address.
PROBE_PY='
import errno, socket, sys
for addr in sys.argv[1:]:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(b"x", (addr, 9))
            result = "sent"
        except OSError as e:
            result = errno.errorcode.get(e.errno, str(e.errno))
    print(addr, result)
'

# probe CGROUP NETNS ADDR...: PROBE_PY run by a process in CGROUP and, if
# NETNS is not empty, in that network namespace.
probe() {
	local cgroup=$1 ns=${2:--}
	shift 2
	jailed "$cgroup" "$ns" "$PYTHON" -c "$PROBE_PY" "$@"
}

# The ids of the programs attached to cgroup $1 whose names are ours, sorted.
attached_ids() {
	bpftool cgroup show "$1" | awk '$NF ~ /^jailai_/ { print $1 }' | sort -n
}

# Undo mounts below this test's cgroups on the host (only a test that went
# wrong leaves any: mounts are made in private mount namespaces).
unmount_made() {
	local mnt
	[[ -n ${CG2:-} && -n ${TAG:-} ]] || return 0
	awk -v top="$CG2/$TAG" '$5 == top || index($5, top "/") == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r | while read -r mnt; do
		umount -l "$mnt"
	done
}

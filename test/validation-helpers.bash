# Helpers of test/validation.bats (load after helpers): run the real loader
# under strace so a test can prove that a refusal happened before any bpf().

# Byte-wise string handling: hostile values carry non-ASCII and control bytes.
export LC_ALL=C

PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

# _run_loader MODE ARGS...: the loader with ARGS; sets status, output, stderr
# and the files out_file, err_file, trace (strace's record of every bpf()).
#  tripwire: every bpf() is recorded and, instead of reaching the kernel, is
#            replaced by strace, which the loader's seccomp filter answers
#            with SIGSYS. A hostile argv that slipped through validation can
#            therefore never load or attach anything, anywhere.
#  traced:   recorded, but real (for loads that must succeed).
#  plain:    no strace at all.
# $launcher (an array, normally empty) goes in front: e.g. unshare.
launcher=()
_run_loader() {
	local mode=$1
	local -a tracer=()
	shift
	out_file=$BATS_TEST_TMPDIR/stdout
	err_file=$BATS_TEST_TMPDIR/stderr
	trace=$BATS_TEST_TMPDIR/trace
	rm -f "$out_file" "$err_file" "$trace"
	case $mode in
	tripwire) tracer=(strace -f -qq -e trace=bpf -e inject=bpf:error=EPERM -o "$trace") ;;
	traced) tracer=(strace -f -qq -e trace=bpf -o "$trace") ;;
	esac
	status=0
	"${launcher[@]}" "${tracer[@]}" "$LOADER" "$@" >"$out_file" 2>"$err_file" || status=$?
	output=$(<"$out_file")
	stderr=$(<"$err_file")
	mapfile -t lines <"$out_file"
}

run_tripwire() { _run_loader tripwire "$@"; }
run_traced() { _run_loader traced "$@"; }
run_plain() { _run_loader plain "$@"; }

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

# None of our programs on the test cgroup $cg.
nothing_attached() {
	local n
	n=$(our_programs "$cg")
	if [[ $n -ne 0 ]]; then
		echo "$n of our programs attached to $cg"
		return 1
	fi
}

# The single stderr line, or fail if stderr is not exactly one line.
_one_stderr_line() {
	local content
	content=$(cat "$err_file" && printf x)
	content=${content%x}
	if [[ $content != *$'\n' || ${content%$'\n'} == *$'\n'* ]]; then
		echo "stderr is not exactly one line:"
		cat -A "$err_file" | head -20
		return 1
	fi
	printf '%s' "${content%$'\n'}"
}

# _refusal CODE: exit code, empty stdout, no bpf(), nothing attached.
_refusal() {
	local code=$1 ok=1
	if [[ $status -ne $code ]]; then
		echo "exit status $status, expected $code"
		ok=0
	fi
	if [[ -s $out_file ]]; then
		echo "stdout is not empty:"
		cat -A "$out_file" | head -5
		ok=0
	fi
	no_bpf_call || ok=0
	nothing_attached || ok=0
	((ok))
}

# assert_refused CODE LINE: the last run exited CODE with exactly LINE (and
# a newline) on stderr, nothing on stdout, no bpf(), nothing attached.
assert_refused() {
	local code=$1 want=$2 got ok=1
	_refusal "$code" || ok=0
	if ! got=$(_one_stderr_line); then
		echo "$got"
		ok=0
	elif [[ $got != "$want" ]]; then
		echo "stderr:   $(printf '%s' "$got" | cat -A)"
		echo "expected: $(printf '%s' "$want" | cat -A)"
		ok=0
	fi
	((ok))
}

# assert_refused_like CODE REGEX: as assert_refused, the line matching REGEX.
assert_refused_like() {
	local code=$1 regex=$2 got ok=1
	_refusal "$code" || ok=0
	if ! got=$(_one_stderr_line); then
		echo "$got"
		ok=0
	elif [[ ! $got =~ $regex ]]; then
		echo "stderr:   $(printf '%s' "$got" | cat -A | cut -c1-2000)"
		echo "expected: /$regex/"
		ok=0
	fi
	((ok))
}

# refused CODE LINE ARGS...: run ARGS under the tripwire; assert_refused.
refused() {
	local code=$1 want=$2
	shift 2
	run_tripwire "$@"
	assert_refused "$code" "$want"
}

# refused_like CODE REGEX ARGS...
refused_like() {
	local code=$1 regex=$2
	shift 2
	run_tripwire "$@"
	assert_refused_like "$code" "$regex"
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
# NETNS is not empty, in that network namespace (joined after the cgroup:
# `ip netns exec` would hide the cgroup tree).
probe() {
	local cgroup=$1 ns=$2
	shift 2
	(
		echo "$BASHPID" >"$cgroup/cgroup.procs"
		if [[ -n $ns ]]; then
			exec nsenter --net="/run/netns/$ns" "$PYTHON" -c "$PROBE_PY" "$@"
		fi
		exec "$PYTHON" -c "$PROBE_PY" "$@"
	)
}

# The JSON reply of a load: one line; sets program_ids to its 6 ids.
# assert_reply CGROUP_JSON IPV4 IPV6 [DENY ALLOW]: the counts per family and
# per action (DENY defaults to IPV4 + IPV6, ALLOW to 0: a deny-only load).
assert_reply() {
	local re id='([1-9][0-9]*)'
	local deny=${4:-$(($2 + $3))} allow=${5:-0}
	re='^\{"success":true,"cgroup":"'"$1"'","ipv4":'"$2"',"ipv6":'"$3"
	re+=',"deny":'"$deny"',"allow":'"$allow"
	re+=',"programs":\['"$id,$id,$id,$id,$id,$id"'\]\}$'
	if [[ $(wc -l <"$out_file") -ne 1 ]] || [[ ! $output =~ $re ]]; then
		echo "reply:    $(cat -A "$out_file")"
		echo "expected: /$re/"
		return 1
	fi
	program_ids=("${BASH_REMATCH[@]:1}")
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

# sudo-rs for the suites (source after helpers.bash): Debian 13's binary, from the
# cache that scripts/fetch-sudo-rs fills (install-deps runs it), installed for
# one test setuid root under /opt/jt-PID-N-sudo-rs/ (with its visudo, which
# may not run on this C library), and removed in teardown. sudo-rs reads
# /etc/sudoers and /etc/sudoers.d like classic sudo, and uses classic sudo's
# PAM service "sudo" (/etc/pam.d/sudo, from the sudo package): nothing else
# to install.
#
# sudo-rs logs only to syslog, so a test can also listen on /dev/log itself:
# whatever was there (a syslog daemon's socket or symlink) is moved aside
# and put back in teardown.

SUDO_RS_CACHE=${SUDO_RS_CACHE:-/var/cache/jail-ai-ebpf-loader/sudo-rs}

# install_sudo_rs: sets SUDO_RS (the setuid binary) and SUDO_RS_DIR.
install_sudo_rs() {
	local from="$SUDO_RS_CACHE/usr/lib/cargo/bin"
	[[ -x $from/sudo ]] || {
		cannot_run "no sudo-rs in $SUDO_RS_CACHE (scripts/fetch-sudo-rs fetches it)"
		return
	}
	SUDO_RS_DIR="/opt/$TAG-sudo-rs"
	mkdir -m 0755 "$SUDO_RS_DIR"
	_made_sudo_rs_dir=$SUDO_RS_DIR
	install -o 0 -g 0 -m 4755 "$from/sudo" "$SUDO_RS_DIR/sudo-rs"
	install -o 0 -g 0 -m 0755 "$from/visudo" "$SUDO_RS_DIR/visudo-rs"
	SUDO_RS="$SUDO_RS_DIR/sudo-rs"
	[[ $("$SUDO_RS" -V 2>&1) == "sudo-rs "* ]]
}

remove_sudo_rs() {
	[[ -n ${_made_sudo_rs_dir:-} ]] && rm -rf "$_made_sudo_rs_dir"
	_made_sudo_rs_dir=''
	return 0
}

# listen_syslog: from now on every datagram sent to /dev/log is appended to
# $SYSLOG_FILE, each followed by a NUL byte.
listen_syslog() {
	SYSLOG_FILE="$BATS_TEST_TMPDIR/syslog"
	: >"$SYSLOG_FILE"
	if [[ -e /dev/log || -L /dev/log ]]; then
		mv /dev/log "/dev/log.$TAG"
		_moved_dev_log="/dev/log.$TAG"
	fi
	# shellcheck disable=SC2016 # python, not shell
	python3 -c '
import os, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(sock.recv(65536) + b"\0")
' "$SYSLOG_FILE" </dev/null >/dev/null 2>&1 3>&- &
	_syslog_pid=$!
	eventually test -S /dev/log
}

unlisten_syslog() {
	if [[ -n ${_syslog_pid:-} ]]; then
		kill "$_syslog_pid" 2>/dev/null
		wait "$_syslog_pid" 2>/dev/null
		rm -f /dev/log
	fi
	if [[ -n ${_moved_dev_log:-} ]]; then
		rm -f /dev/log
		mv "$_moved_dev_log" /dev/log
	fi
	_syslog_pid='' _moved_dev_log=''
	return 0
}

# sudo_rs_messages: what sudo-rs sent to syslog, one message a line as
# "PRIORITY MESSAGE", with a message that sudo-rs split into pieces of 960
# bytes (" [...]" ending one, "[...] " starting the next) joined again.
sudo_rs_messages() {
	python3 -c '
import re, sys
records = open(sys.argv[1], "rb").read().split(b"\0")
header = re.compile(rb"<([0-9]+)>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} sudo-rs: (.*)\Z", re.S)
messages, cont = [], False
for record in records:
    m = header.match(record)
    if not m:
        continue
    text = m.group(2)
    if cont and text.startswith(b"[...] "):
        messages[-1][1] += text[6:]
    else:
        messages.append([m.group(1), text])
    cont = messages[-1][1].endswith(b" [...]")
    if cont:
        messages[-1][1] = messages[-1][1][:-6]
for priority, text in messages:
    sys.stdout.buffer.write(priority + b" " + text + b"\n")
' "$SYSLOG_FILE"
}

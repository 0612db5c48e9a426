# The interop tests' shared part: tern against the Linux kernel over a
# TUN or TAP device, all inside a network namespace the test creates and
# deletes. Traffic goes only to addresses inside that namespace.
#
# Each test: `. "$(dirname "$0")/lib.sh"`, then ns_up, dev_up, tern_bg ...
# Skipped (exit 77) unless root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: interop tests need root (namespaces, TUN/TAP devices)"
	exit 77
fi

TERN=${TERN:-${TERN_BUILD_DIR:-$(pwd)}/tern}
if [ ! -x "$TERN" ]; then
	echo "FAIL: no tern binary at $TERN (set TERN or TERN_BUILD_DIR)" >&2
	exit 1
fi
NAME=$(basename "$0" .sh)
NS="tern-${NAME#test_}-$$"
NS=${NS:0:40}
WORK=$(mktemp -d /tmp/tern-interop.XXXXXX)
PY=/usr/bin/python3 # scapy lives under Debian's python
KADDR=10.77.0.1     # the kernel's side of the device
TADDR=10.77.0.2     # tern's
PIDS=()

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

nsx() {
	ip netns exec "$NS" "$@"
}

cleanup() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

ns_up() {
	ip netns add "$NS"
	nsx ip link set lo up
}

# dev_up tun|tap DEV [N]: the device, the kernel's address on it
# (10.77.N.1/24, N = 0 by default: $KADDR), link up. tern is 10.77.N.2.
dev_up() {
	local n=${3:-0}
	nsx ip tuntap add dev "$2" mode "$1"
	nsx sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
	nsx ip addr add "10.77.$n.1/24" dev "$2"
	nsx ip link set "$2" up
}

# ns_bg CMD...: CMD in the namespace, in the background, its PID in
# BG_PID and in PIDS (for the cleanup). Not through nsx: a backgrounded
# function is a subshell, and its PID is not the command's (ip netns exec
# execs the command, so this one is). Redirect at the call.
ns_bg() {
	ip netns exec "$NS" "$@" &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

# tern_bg LOG ARGS...: tern in the namespace, in the background; its PID
# in TERN_PID.
tern_bg() {
	local log=$1
	shift
	ns_bg "$TERN" "$@" >"$log" 2>&1
	TERN_PID=$BG_PID
}

# tern_stop PID LOG: SIGTERM; it must end on its own, with status 0.
tern_stop() {
	kill -TERM "$1"
	local rc=0
	wait "$1" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$2" >&2; fail "tern exited with $rc"; }
}

# wait_port ADDR PORT: until something accepts there (at most 5 s).
wait_port() {
	local i
	for i in $(seq 50); do
		if nsx bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "nothing listening on $1:$2"
}

# wait_listen PORT: until a Linux socket listens there (at most 5 s).
wait_listen() {
	local i
	for i in $(seq 50); do
		nsx ss -ltnH "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	fail "the Linux server on port $1 did not start"
}

random_file() { # FILE MB
	head -c $(($2 * 1024 * 1024)) /dev/urandom >"$1"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

same_file() { # A B WHAT
	[ "$(sha "$1")" = "$(sha "$2")" ] || fail "$3: sha256 differs"
}

now() {
	date +%s.%N
}

# rate LABEL BYTES START: prints the transfer rate in Mbit/s.
rate() {
	awk -v b="$2" -v s="$3" -v e="$(now)" -v l="$1" \
		'BEGIN { printf "RATE %-40s %8.1f Mbit/s (%.2f s)\n", l, b * 8 / (e - s) / 1e6, e - s }'
}

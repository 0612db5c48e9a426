#!/usr/bin/env bash
# The errors a user meets with a real device, each named clearly and
# each ending with a non-zero status: a device in use, no permission, no
# /dev/net/tun, and `tern connect` refused and reset by the Linux kernel.
# A failed start leaves the file --recv names as it was.
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"

ns_up
dev_up tun tern0

# expect_error STATUS PATTERN CMD...: CMD (in the namespace) exits with
# STATUS and its stderr matches PATTERN.
expect_error() {
	local want=$1 pattern=$2 rc=0
	shift 2
	nsx "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "$*: exit status $rc, expected $want ($(cat "$WORK/err"))"
	grep -qE "^tern: .*($pattern)" "$WORK/err" ||
		fail "$*: stderr '$(cat "$WORK/err")' does not match /$pattern/"
	echo "refused as expected: $(head -n 1 "$WORK/err")"
}

# A device already attached to a tern (a TUN device takes one reader
# unless made multi-queue).
tern_bg "$WORK/serve.log" serve --tun tern0 --addr "$TADDR/24" --port 7 \
	--app echo
wait_port "$TADDR" 7
echo keep >"$WORK/keep"
expect_error 1 "--tun tern0: the device is in use" \
	"$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:7" \
	--recv "$WORK/keep"
[ "$(cat "$WORK/keep")" = keep ] || fail "a failed start truncated --recv"
tern_stop "$TERN_PID" "$WORK/serve.log"

# No CAP_NET_ADMIN: an unprivileged user, running a copy of tern it can
# reach wherever the build tree is.
chmod 711 "$WORK"
install -m 755 "$TERN" "$WORK/tern-copy"
expect_error 1 "--tun tern1: no permission.*CAP_NET_ADMIN" \
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$WORK/tern-copy" serve --tun tern1 --addr "$TADDR/24" --port 7 --app echo

# No /dev/net/tun: hidden under an empty tmpfs in a mount namespace of
# its own.
expect_error 1 "--tun tern1: /dev/net/tun does not exist" \
	unshare -m sh -c 'mount -t tmpfs none /dev/net && exec "$@"' sh \
	"$TERN" serve --tun tern1 --addr "$TADDR/24" --port 7 --app echo

# The other kind: tern0 is a TUN device, so it cannot be a TAP.
expect_error 1 "--tap tern0: the device is in use, or exists as the other kind" \
	"$TERN" serve --tap tern0 --addr "$TADDR/24" --port 7 --app echo

# Refused: nothing listens on the Linux side.
expect_error 1 "connect to $KADDR:9: connection refused" \
	"$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:9"

# Reset: the Linux server aborts while tern is sending.
random_file "$WORK/up" 20
ns_bg $H resetter 5005
wait_listen 5005
expect_error 1 "connect to $KADDR:5005: connection reset by peer" \
	"$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:5005" \
	--send "$WORK/up"
wait "$BG_PID" || fail "the resetting server failed"
echo PASS

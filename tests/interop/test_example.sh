#!/usr/bin/env bash
# examples/echo_server.c, the socket API in threaded mode as the README
# shows it: a Linux client echoes 2 MB through it, twice (one client at a
# time, so the second proves the first was closed and the listener lives).
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"
EXAMPLE=$(dirname "$TERN")/echo_server
[ -x "$EXAMPLE" ] || fail "no example binary at $EXAMPLE"

ns_up
dev_up tun tern0
ns_bg "$EXAMPLE" tern0 "$TADDR" 7 >"$WORK/example.log" 2>&1
wait_port "$TADDR" 7
for i in 1 2; do
	nsx timeout 60 $H echo "$TADDR" 7 2 || fail "echo through the example ($i)"
done
kill -0 "$BG_PID" || fail "the example died: $(cat "$WORK/example.log")"
echo PASS

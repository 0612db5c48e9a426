#!/usr/bin/env bash
# The states on both sides, and both ends of the connection's life:
# - tern closes first: Linux's socket passes through CLOSE_WAIT and
#   LAST_ACK (as `ss -tan` shows it) while tern's trace shows FIN_WAIT_1,
#   FIN_WAIT_2, TIME_WAIT;
# - Linux closes first: Linux's socket ends in TIME_WAIT;
# - simultaneous open between tern and a Linux socket, both on fixed
#   ports, both connecting;
# - a Linux connect to a closed tern port fails with ECONNREFUSED at
#   once; ping (small, and large enough to go in fragments) answers.
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"

ns_up
dev_up tun tern0
echo hello >"$WORK/hello"

# tern closes first. Its link delays frames 200 ms each way, so that
# Linux's LAST_ACK lasts long enough for ss to see it.
ns_bg $H observer 5001 >"$WORK/observed"
obs=$BG_PID
wait_listen 5001
nsx "$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:5001" \
	--send "$WORK/hello" --delay 200 --json "$WORK/close.jsonl" ||
	fail "tern connect (tern closes first)"
wait $obs
read -r -a seen <"$WORK/observed"
echo "Linux's socket: ${seen[*]}"
[ "${seen[0]}" = CLOSE-WAIT ] || fail "Linux was not in CLOSE-WAIT: ${seen[*]}"
[[ " ${seen[*]} " == *" LAST-ACK "* ]] || fail "no LAST-ACK seen: ${seen[*]}"
tern_states=$(grep '"ev":"state"' "$WORK/close.jsonl" | grep -v LISTEN |
	sed 's/.*"to":"\([A-Z_0-9]*\)".*/\1/' | tr '\n' ' ')
echo "tern's connection: $tern_states"
[ "$tern_states" = "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT " ] ||
	fail "tern's states: $tern_states"
# tern draw on that one-sided trace: the kernel's side is headed "(not
# traced)", each segment tern sent or received is one arrow, none lost
"$TERN" draw seq "$WORK/close.jsonl" -o "$WORK/close.svg" ||
	fail "tern draw seq of tern's trace"
grep -q '(not traced)' "$WORK/close.svg" || fail "draw seq: no '(not traced)' side"
arrows=$(grep -c '<g class="seg ' "$WORK/close.svg")
segs=$(grep -c '"ev":"seg"' "$WORK/close.jsonl")
[ "$arrows" -eq "$segs" ] || fail "draw seq: $arrows arrows for $segs segments"
grep -q '<g class="seg [^"]*lost' "$WORK/close.svg" && fail "draw seq: a segment drawn lost"
"$TERN" draw states "$WORK/close.jsonl" -o "$WORK/close-states.svg" ||
	fail "tern draw states of tern's trace"
grep -q 'data-from="FIN_WAIT_2" data-to="TIME_WAIT" data-count="1"' "$WORK/close-states.svg" ||
	fail "draw states: FIN_WAIT_2 → TIME_WAIT not counted once"

# Linux closes first: TIME_WAIT is Linux's.
tern_bg "$WORK/discard.log" serve --tun tern0 --addr "$TADDR/24" \
	--port 9 --app discard
wait_port "$TADDR" 9
st=$(nsx $H closer "$TADDR" 9)
[ "$st" = TIME-WAIT ] || fail "Linux closed first but is in '$st'"
echo "Linux closed first: its socket is in $st"

# A closed port: refused at once. ping: answered, also in fragments.
nsx $H refused "$TADDR" 81 || fail "connect to a closed port"
nsx ping -c 3 -i 0.2 -W 1 -q "$TADDR" >/dev/null || fail "ping"
nsx ping -c 2 -i 0.2 -W 1 -q -s 5000 "$TADDR" >/dev/null ||
	fail "ping of 5000 bytes (fragmented both ways)"
tern_stop "$TERN_PID" "$WORK/discard.log"

# Simultaneous open: tern's link delays frames 300 ms each way, so the
# two SYNs cross (tern connects first; Linux 100 ms later).
tern_bg "$WORK/simopen.log" connect --tun tern0 --addr "$TADDR/24" \
	--local-port 6000 --to "$KADDR:6001" --send "$WORK/hello" \
	--recv "$WORK/pong" --delay 300 --json "$WORK/simopen.jsonl"
sleep 0.1
got=$(nsx $H simopen 6001 "$TADDR" 6000) || fail "Linux side of the simultaneous open"
wait "$TERN_PID" || fail "tern side of the simultaneous open"
[ "$got" = hello ] || fail "simultaneous open: Linux got '$got'"
[ "$(cat "$WORK/pong")" = pong ] || fail "simultaneous open: tern got '$(cat "$WORK/pong")'"
path=$(grep '"ev":"state"' "$WORK/simopen.jsonl" |
	sed 's/.*"to":"\([A-Z_0-9]*\)".*/\1/' | head -3 | tr '\n' ' ')
[ "$path" = "SYN_SENT SYN_RECEIVED ESTABLISHED " ] ||
	fail "simultaneous open: tern's states were $path"
echo "simultaneous open: tern went $path"
echo PASS

#!/usr/bin/env bash
# tern connect's generated data (the bytes 0 to 255, repeating) to a Linux
# server that hashes and counts what it receives: --send-size 20 MB arrives
# exactly, byte for byte; --send-for 2 s sends for about 2 s, and with
# --stats tern prints what it sent, which is exactly what arrived.
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"

# the sha256 of the first N bytes of the pattern
pattern_sha() {
	$PY -c 'import hashlib, sys
n, h, block = int(sys.argv[1]), hashlib.sha256(), bytes(range(256)) * 256
while n > 0:
    h.update(block[:min(n, len(block))])
    n -= len(block)
print(h.hexdigest())' "$1"
}

ns_up
dev_up tun tern0

size=20000000
ns_bg $H sink 5001 "$WORK/sink1.txt"
wait_listen 5001
nsx "$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:5001" \
	--send-size $size >"$WORK/out1.txt" || fail "tern connect --send-size"
wait "${PIDS[-1]}"
[ ! -s "$WORK/out1.txt" ] || fail "--send-size without --stats printed: $(cat "$WORK/out1.txt")"
read -r got_sha got_n <"$WORK/sink1.txt"
[ "$got_n" -eq $size ] || fail "--send-size $size: $got_n bytes arrived"
[ "$got_sha" = "$(pattern_sha $size)" ] || fail "--send-size: not the pattern"

ns_bg $H sink 5002 "$WORK/sink2.txt"
wait_listen 5002
start=$(now)
nsx timeout 30 "$TERN" connect --tun tern0 --addr "$TADDR/24" \
	--to "$KADDR:5002" --send-for 2 --stats "$WORK/stats.json" \
	>"$WORK/out2.txt" || fail "tern connect --send-for"
took=$(awk -v s="$start" -v e="$(now)" 'BEGIN { print e - s }')
wait "${PIDS[-1]}"
read -r got_sha got_n <"$WORK/sink2.txt"
sent=$(sed -n 's/^sent \([0-9]*\) bytes, received 0 bytes in [0-9.]* s: .*/\1/p' "$WORK/out2.txt")
[ -n "$sent" ] || fail "--send-for with --stats: no 'sent N bytes' line: $(cat "$WORK/out2.txt")"
[ "$got_n" -eq "$sent" ] || fail "--send-for: tern sent $sent bytes, $got_n arrived"
[ "$got_n" -gt 0 ] || fail "--send-for: nothing arrived"
[ "$got_sha" = "$(pattern_sha "$got_n")" ] || fail "--send-for: not the pattern"
awk -v t="$took" 'BEGIN { exit !(t >= 2 && t < 10) }' ||
	fail "--send-for 2 took $took s"
[ -s "$WORK/stats.json" ] || fail "--stats: no file"
echo "RATE --send-for 2: $(cat "$WORK/out2.txt")"
echo PASS

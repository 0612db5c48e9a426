#!/usr/bin/env bash
# Hostile input from the Linux side while curl downloads 150 MB from
# `tern serve --app http` (rate-limited to 10 MB/s, so it outlasts the
# attack):
# hostile.py writes malformed packets byte for byte onto the TUN device
# (truncated IP and TCP headers, IHL 4 and 15, bad lengths and checksums,
# data offsets 3 and 15, option lengths 0 and 1, options past the header,
# an MSS of length 3, overlapping fragments, random bytes), then a RST and
# a SYN in the window of the download's connection, which tern must answer
# with challenge ACKs (RFC 5961 3.2, 4.2), and a RST outside it.
# The download completes, sha256 equal; tern answers a new request; its
# --stats count every drop under its reason, and its --json trace shows
# the challenge ACKs and no connection closed by the attack.
. "$(dirname "$0")/lib.sh"
H=("$PY" "$(dirname "$0")/hostile.py")
start=$(now)

ns_up
dev_up tun tern0
mkdir -p "$WORK/www"
random_file "$WORK/www/big" 150
echo small >"$WORK/www/small"

tern_bg "$WORK/tern.log" serve --tun tern0 --addr "$TADDR/24" --port 80 \
	--app http --root "$WORK/www" --stats "$WORK/stats.json" \
	--json "$WORK/trace.jsonl"
wait_port "$TADDR" 80

ns_bg curl -sSf --max-time 40 --limit-rate 10M \
	-o "$WORK/got" "http://$TADDR/big"
CURL_PID=$BG_PID

nsx timeout 30 "${H[@]}" attack tern0 "$TADDR" "$KADDR" 80 "$WORK/sent.json" ||
	fail "the attack (see above)"
kill -0 "$CURL_PID" 2>/dev/null ||
	echo "note: the download ended before the attack did"
wait "$CURL_PID" || fail "the download during the attack failed"
same_file "$WORK/www/big" "$WORK/got" "the download during the attack"
echo "checked: the download during the attack completed, sha256 equal"

out=$(nsx curl -sSf --max-time 5 "http://$TADDR/small") ||
	fail "no answer to a request after the attack"
[ "$out" = small ] || fail "after the attack: '$out'"
echo "checked: a new request after the attack is answered"

kill -0 "$TERN_PID" 2>/dev/null || {
	cat "$WORK/tern.log" >&2
	fail "tern died during the test"
}
tern_stop "$TERN_PID" "$WORK/tern.log"
echo "checked: tern stopped cleanly"
[ -s "$WORK/stats.json" ] || fail "tern wrote no --stats file"
"${H[@]}" check "$WORK/sent.json" "$WORK/stats.json" "$WORK/trace.jsonl" ||
	fail "tern's counters or trace (see above)"
rate "test_hostile, whole test" $((150 << 20)) "$start"
echo PASS

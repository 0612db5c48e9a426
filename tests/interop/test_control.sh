#!/usr/bin/env bash
# The control socket: `tern serve --control` answers `tern stat` while it
# serves; the counters rise between two calls (the delta), -a shows the
# absolute values; 50 concurrent queries during a 50 MB download leave it
# intact; the socket is 0600 and goes when tern exits.
. "$(dirname "$0")/lib.sh"

ns_up
mkdir -p "$WORK/www"
random_file "$WORK/www/big" 50
echo small >"$WORK/www/small"
CTL=$WORK/ctl
HIST=$WORK/hist

stat_of() { # NAME FILE: the value column of NAME in a `tern stat` listing
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

dev_up tun tern0
tern_bg "$WORK/tun.log" serve --tun tern0 --addr "$TADDR/24" --port 80 \
	--app http --root "$WORK/www" --control "$CTL"
wait_port "$TADDR" 80
[ -S "$CTL" ] || fail "no control socket at $CTL"
[ "$(stat -c %a "$CTL")" = 600 ] || fail "control socket mode $(stat -c %a "$CTL")"

"$TERN" stat --control "$CTL" --history "$HIST" >"$WORK/s0" ||
	fail "the first tern stat failed"
head -n 1 "$WORK/s0" | grep -qx '#tern' || fail "no #tern header"
for i in 1 2 3; do
	nsx curl -sSf --max-time 10 -o /dev/null "http://$TADDR/small"
done
"$TERN" stat --control "$CTL" --history "$HIST" >"$WORK/s1" ||
	fail "the second tern stat failed"
opens=$(stat_of TcpPassiveOpens "$WORK/s1")
segs=$(stat_of TcpInSegs "$WORK/s1")
[ "${opens:-0}" -eq 3 ] || fail "TcpPassiveOpens rose by '$opens', not 3"
[ "${segs:-0}" -ge 9 ] || fail "TcpInSegs rose by '$segs', not at least 9"
"$TERN" stat --control "$CTL" --history "$HIST" -a >"$WORK/s2"
abs=$(stat_of TcpPassiveOpens "$WORK/s2")
[ "${abs:-0}" -ge 4 ] || fail "-a: TcpPassiveOpens '$abs' (wait_port's + 3)"
grep -qE '^TernLink_rx_frames +[1-9]' "$WORK/s2" || fail "-a: no link rx_frames"
"$TERN" stat --control "$CTL" --json | grep -q '"TcpPassiveOpens"' ||
	fail "--json: no counters"

# 50 queries at once while a 50 MB download runs: it completes, intact;
# every query is answered, at once or "busy" (at most 16 at a time).
start=$(now)
nsx curl -sSf --max-time 120 -o "$WORK/got" "http://$TADDR/big" &
curl_pid=$!
PIDS+=("$curl_pid")
qpids=()
for i in $(seq 50); do
	"$TERN" stat --control "$CTL" --json >"$WORK/q$i" 2>"$WORK/q$i.err" &
	qpids+=($!)
done
answered=0
for i in $(seq 50); do
	if wait "${qpids[$((i - 1))]}"; then
		answered=$((answered + 1))
	else
		grep -q 'busy' "$WORK/q$i.err" ||
			fail "query $i: $(cat "$WORK/q$i.err")"
	fi
done
[ "$answered" -ge 16 ] || fail "only $answered of 50 queries answered"
wait "$curl_pid" || fail "the download failed during the queries"
rate "http download with 50 stat queries" $((50 << 20)) "$start"
same_file "$WORK/www/big" "$WORK/got" "download during queries"
echo "queries answered: $answered of 50 (the rest: busy)"

tern_stop "$TERN_PID" "$WORK/tun.log"
[ -e "$CTL" ] && fail "the control socket is still there after exit"
"$TERN" stat --control "$CTL" 2>"$WORK/gone.err" && fail "stat after exit worked"
grep -q 'cannot connect' "$WORK/gone.err" || fail "stat after exit: $(cat "$WORK/gone.err")"
echo PASS

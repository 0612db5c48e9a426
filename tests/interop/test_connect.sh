#!/usr/bin/env bash
# tern to Linux: `tern connect --send` uploads 100 MB to a Linux server
# that hashes what it receives, and `tern connect --recv` downloads 100 MB
# from a Linux server; sha256 equal. A python client echoes 10 MB through
# `tern serve --app echo`. An iperf2 client sends to `--app discard` for
# 3 s.
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"

ns_up
dev_up tun tern0
random_file "$WORK/up" 100
random_file "$WORK/down" 100

ns_bg $H sink 5001 "$WORK/sink.txt"
wait_listen 5001
start=$(now)
nsx "$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:5001" \
	--send "$WORK/up" || fail "tern connect --send"
rate "upload to Linux" $((100 << 20)) "$start"
wait "${PIDS[-1]}"
[ "$(cut -d' ' -f1 "$WORK/sink.txt")" = "$(sha "$WORK/up")" ] ||
	fail "upload: sha256 differs ($(cat "$WORK/sink.txt"))"

ns_bg $H source 5002 "$WORK/down"
wait_listen 5002
start=$(now)
nsx "$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:5002" \
	--recv "$WORK/got" || fail "tern connect --recv"
rate "download from Linux" $((100 << 20)) "$start"
same_file "$WORK/down" "$WORK/got" "download from Linux"

tern_bg "$WORK/echo.log" serve --tun tern0 --addr "$TADDR/24" --port 7 \
	--app echo
wait_port "$TADDR" 7
start=$(now)
nsx $H echo "$TADDR" 7 10 || fail "echo"
rate "echo, each way" $((10 << 20)) "$start"
tern_stop "$TERN_PID" "$WORK/echo.log"

tern_bg "$WORK/discard.log" serve --tun tern0 --addr "$TADDR/24" \
	--port 5001 --app discard --stats "$WORK/stats.json"
wait_port "$TADDR" 5001
nsx timeout 30 iperf -c "$TADDR" -p 5001 -t 3 -f m >"$WORK/iperf.txt" ||
	fail "iperf: $(cat "$WORK/iperf.txt")"
tern_stop "$TERN_PID" "$WORK/discard.log"
line=$(grep -E "0\.0+-[0-9.]+ sec .* Mbits/sec" "$WORK/iperf.txt" | tail -n 1)
[ -n "$line" ] || fail "iperf reported no transfer: $(cat "$WORK/iperf.txt")"
echo "RATE iperf2 to tern's discard: ${line##*MBytes}"
mb=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "MBytes") print int($i)}')
segs=$(grep -o '"TcpInSegs":[0-9]*' "$WORK/stats.json" | cut -d: -f2)
[ "${segs:-0}" -ge $((mb * 1000 * 1000 / 1460)) ] ||
	fail "iperf sent $mb MB, tern counted ${segs:-0} segments in"
echo PASS

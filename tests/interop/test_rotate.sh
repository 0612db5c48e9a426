#!/usr/bin/env bash
# A long run's trace and capture stay bounded: `tern serve` with --pcap
# and --json, --rotate-size 1M --rotate-keep 3, serves a 30 MB download
# to curl in 1500-byte frames (offloads off: about 32 MB of capture and
# 6 MB of trace, one line per segment each way). At the
# end FILE, FILE.1 and FILE.2 exist and no FILE.3; no file is over 1 MiB;
# each capture reads alone (capinfos) and holds whole packets, and the
# newest holds the end of the run (the FIN); every trace line is whole
# JSON and the trace files read oldest first run forward in time.
. "$(dirname "$0")/lib.sh"

ns_up
mkdir -p "$WORK/www"
random_file "$WORK/www/big" 30
P=$WORK/cap.pcap J=$WORK/trace.jsonl

dev_up tun tern0
tern_bg "$WORK/tun.log" serve --tun tern0 --addr "$TADDR/24" --port 80 \
	--app http --root "$WORK/www" --pcap "$P" --json "$J" \
	--rotate-size 1M --rotate-keep 3 --offload off
wait_port "$TADDR" 80
start=$(now)
nsx curl -sSf --max-time 120 -o "$WORK/got" "http://$TADDR/big" ||
	fail "the download failed"
rate "http download, capture and trace rotating" $((30 << 20)) "$start"
same_file "$WORK/www/big" "$WORK/got" "download with rotation"
sleep 0.3 # the last ACKs and the FIN exchange reach the capture
tern_stop "$TERN_PID" "$WORK/tun.log"

for f in "$P" "$J"; do
	for i in "" .1 .2; do
		[ -f "$f$i" ] || fail "no $(basename "$f$i")"
		size=$(stat -c %s "$f$i")
		[ "$size" -le $((1 << 20)) ] || fail "$(basename "$f$i"): $size bytes, over 1 MiB"
	done
	[ -e "$f.3" ] && fail "$(basename "$f").3 kept with --rotate-keep 3"
done
total=0
for i in .2 .1 ""; do
	n=$(capinfos -c -M "$P$i" 2>"$WORK/capinfos.err" | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }') ||
		fail "capinfos cannot read cap.pcap$i: $(cat "$WORK/capinfos.err")"
	[ "${n:-0}" -gt 0 ] || fail "cap.pcap$i: no packets"
	total=$((total + n))
done
"$PY" - "$J.2" "$J.1" "$J" <<'PY' || fail "the trace files are not whole JSON lines in time order"
import json, sys
last = -1
for path in sys.argv[1:]:
    with open(path) as f:
        for n, line in enumerate(f, 1):
            ev = json.loads(line)
            if ev["t"] < last:
                sys.exit(f"{path}:{n}: time goes back ({ev['t']} < {last})")
            last = ev["t"]
PY
tshark -n -r "$P" -o tcp.desegment_tcp_streams:FALSE -Y 'tcp.flags.fin == 1' 2>/dev/null | grep -q . ||
	fail "the newest capture does not hold the close (no FIN)"
echo "capture: $total packets in the 3 newest files; trace: $(cat "$J.2" "$J.1" "$J" | wc -l) lines"
echo PASS

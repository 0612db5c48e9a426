#!/usr/bin/env bash
# A SYN flood against `tern serve` over TUN: hping3, bounded (a set count
# of SYNs, one every 50 us), from a spoofed address inside the namespace
# (tern's SYN+ACKs to it go nowhere: the kernel does not forward).
#
# With SYN cookies (tcp_syncookies = 1, the default) the spoofed SYNs fill
# the SYN queue (tcp_max_syn_backlog) and stay there, their SYN+ACKs
# retried for a minute; every later SYN is answered with a cookie, and
# curl's downloads during the flood all complete, each through a cookie.
#
# With cookies off and a small queue, a new client's SYNs are dropped as
# Linux drops them (no RST: it retries, and gives up): curl cannot
# connect while the queue stays full.
. "$(dirname "$0")/lib.sh"

SPOOF=10.77.0.99

ns_up
dev_up tun tern0
mkdir -p "$WORK/www"
random_file "$WORK/www/file" 5

# counter NAME: a counter of tern's --stats (0 when absent).
counter() {
	$PY -c 'import json, sys
print(json.load(open(sys.argv[1]))["counters"].get(sys.argv[2], 0))' \
		"$WORK/stats.json" "$1"
}

# flood COUNT: that many SYNs, 20,000 a second, in the background.
flood() {
	ns_bg hping3 -q -S -p 80 -a "$SPOOF" -i u50 -c "$1" "$TADDR" \
		>"$WORK/hping.log" 2>&1
	FLOOD_PID=$BG_PID
}

serve() { # LOG SYSCTL...
	local log=$1
	shift
	tern_bg "$log" serve --tun tern0 --addr "$TADDR/24" --port 80 \
		--app http --root "$WORK/www" --stats "$WORK/stats.json" "$@"
	wait_port "$TADDR" 80
}

# 1. Cookies on: the flood does not keep anyone out.
serve "$WORK/on.log"
flood 30000
sleep 0.5 # the queue is full by now
for i in 1 2 3; do
	nsx curl -sSf --max-time 30 -o "$WORK/got" "http://$TADDR/file" ||
		fail "download $i during the flood failed"
	same_file "$WORK/www/file" "$WORK/got" "download $i during the flood"
done
wait "$FLOOD_PID" || true
tern_stop "$TERN_PID" "$WORK/on.log"
sent=$(counter TcpExtSyncookiesSent)
full=$(counter TcpExtTCPReqQFullDoCookies)
recv=$(counter TcpExtSyncookiesRecv)
echo "cookies on: $sent cookies sent, $full SYNs past a full queue," \
	"$recv connections through a cookie"
[ "$sent" -gt 1000 ] || fail "only $sent SYN cookies sent"
[ "$recv" -eq 3 ] || fail "$recv connections through cookies, not curl's 3"

# 2. Cookies off, 64 in the SYN queue: SYNs past it are dropped.
serve "$WORK/off.log" --sysctl net.ipv4.tcp_syncookies=0 \
	--sysctl net.ipv4.tcp_max_syn_backlog=64
flood 2000
wait "$FLOOD_PID" || true
start=$(now)
rc=0
nsx curl -sS --connect-timeout 3 -o /dev/null "http://$TADDR/file" \
	2>/dev/null || rc=$?
waited=$(awk -v s="$start" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }')
tern_stop "$TERN_PID" "$WORK/off.log"
drops=$(counter TcpExtTCPReqQFullDrop)
echo "cookies off: curl exit $rc after $waited s, $drops SYNs dropped"
[ "$rc" -eq 28 ] || fail "curl should time out connecting (28), not $rc"
[ "$drops" -gt 1000 ] || fail "only $drops SYNs dropped"
[ "$(counter TcpExtSyncookiesSent)" -eq 0 ] || fail "cookies sent while off"
echo PASS

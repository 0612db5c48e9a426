#!/usr/bin/env bash
# TUN offloads against the kernel. With --offload on: curl downloads
# 100 MB from `tern serve --app http`, `tern connect --send` uploads
# 100 MB to a Linux sink and `tern connect --recv` downloads 100 MB from a
# Linux source; sha256 equal, and the device's counters (--stats) show the
# offload path with GSO packets both ways: tern's TSO packets written
# whole for the kernel (the download and the upload) and the kernel's
# GSO packets read whole (the download from Linux). Then the same with
# --offload off on the same device: the plain path, no GSO packet either
# way (so the device's offloads were switched off again). RATE lines for
# each transfer, on and off.
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"

ns_up
dev_up tun tern0
mkdir -p "$WORK/www"
random_file "$WORK/www/big" 100
random_file "$WORK/down" 100

# counter FILE KEY: a value from a --stats file's link object.
counter() {
	grep -o "\"$2\":[a-z0-9]*" "$1" | head -n 1 | cut -d: -f2
}

# expect FILE KEY OP VALUE WHAT: the counter compares as said.
expect() {
	local v
	v=$(counter "$1" "$2")
	[ -n "$v" ] || fail "$5: no $2 in $1"
	case $3 in
	eq) [ "$v" = "$4" ] || fail "$5: $2 is $v, expected $4" ;;
	gt) [ "$v" -gt "$4" ] || fail "$5: $2 is $v, expected more than $4" ;;
	esac
}

transfers() { # on|off
	local mode=$1 start
	tern_bg "$WORK/serve-$mode.log" serve --tun tern0 --addr "$TADDR/24" \
		--port 80 --app http --root "$WORK/www" --offload "$mode" \
		--stats "$WORK/serve-$mode.json"
	wait_port "$TADDR" 80
	start=$(now)
	nsx curl -sSf --max-time 120 -o "$WORK/got" "http://$TADDR/big"
	rate "http download, offload $mode" $((100 << 20)) "$start"
	same_file "$WORK/www/big" "$WORK/got" "http download, offload $mode"
	tern_stop "$TERN_PID" "$WORK/serve-$mode.log"

	ns_bg $H sink 5001 "$WORK/sink.txt"
	wait_listen 5001
	start=$(now)
	nsx "$TERN" connect --tun tern0 --addr "$TADDR/24" \
		--to "$KADDR:5001" --send "$WORK/www/big" --offload "$mode" \
		--stats "$WORK/up-$mode.json" ||
		fail "tern connect --send, offload $mode"
	rate "upload to Linux, offload $mode" $((100 << 20)) "$start"
	wait "${PIDS[-1]}"
	[ "$(cut -d' ' -f1 "$WORK/sink.txt")" = "$(sha "$WORK/www/big")" ] ||
		fail "upload, offload $mode: sha256 differs"

	ns_bg $H source 5002 "$WORK/down"
	wait_listen 5002
	start=$(now)
	nsx "$TERN" connect --tun tern0 --addr "$TADDR/24" \
		--to "$KADDR:5002" --recv "$WORK/got" --offload "$mode" \
		--stats "$WORK/down-$mode.json" ||
		fail "tern connect --recv, offload $mode"
	rate "download from Linux, offload $mode" $((100 << 20)) "$start"
	same_file "$WORK/down" "$WORK/got" "download from Linux, offload $mode"
}

transfers on
for f in serve up down; do
	expect "$WORK/$f-on.json" offload eq true "$f, offload on"
done
# tern's TSO packets, which the kernel takes whole.
expect "$WORK/serve-on.json" tx_gso_frames gt 0 "http download, offload on"
expect "$WORK/up-on.json" tx_gso_frames gt 0 "upload, offload on"
# The kernel's GSO packets, read whole.
expect "$WORK/down-on.json" rx_gso_frames gt 0 "download, offload on"
expect "$WORK/down-on.json" rx_bad_vnet eq 0 "download, offload on"

transfers off
for f in serve up down; do
	expect "$WORK/$f-off.json" offload eq false "$f, offload off"
	expect "$WORK/$f-off.json" tx_gso_frames eq 0 "$f, offload off"
	expect "$WORK/$f-off.json" rx_gso_frames eq 0 "$f, offload off"
	expect "$WORK/$f-off.json" rx_malformed eq 0 "$f, offload off"
done
echo PASS

#!/usr/bin/env bash
# The transfers of test_http and test_connect again, under loss: with
# tern's own link impairment at 1 % and 5 % loss plus reordering and
# duplication (both directions), and with the kernel dropping packets at
# the device's ingress (nftables numgen). sha256 equal, and no stall: each
# transfer has a time limit. The five transfers of a round run at once,
# each on its own device, so a round waits for the slowest only.
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"
LIMIT=600 # seconds a transfer may take

ns_up
random_file "$WORK/big" 100
cp "$WORK/big" "$WORK/up"
dev_up tun t0 0 # http download
dev_up tap t1 1 # http download over TAP
dev_up tun t2 2 # tern uploads to a Linux sink
dev_up tun t3 3 # tern downloads from a Linux source
dev_up tun t4 4 # echo

# round LABEL TERN-OPTIONS...: all five transfers at once.
round() {
	local label=$1
	shift
	local imp=("$@") pids=() p start
	tern_bg "$WORK/s0.log" serve --tun t0 --addr 10.77.0.2/24 --port 80 \
		--app http --root "$WORK" "${imp[@]}"
	local s0=$TERN_PID
	tern_bg "$WORK/s1.log" serve --tap t1 --addr 10.77.1.2/24 --port 80 \
		--app http --root "$WORK" "${imp[@]}"
	local s1=$TERN_PID
	tern_bg "$WORK/s4.log" serve --tun t4 --addr 10.77.4.2/24 --port 7 \
		--app echo "${imp[@]}"
	local s4=$TERN_PID
	wait_port 10.77.0.2 80
	wait_port 10.77.1.2 80
	wait_port 10.77.4.2 7
	# the Linux servers, each bounded as the transfers are
	ns_bg timeout $LIMIT $H sink 5002 "$WORK/sink.txt"
	pids+=("$BG_PID")
	ns_bg timeout $LIMIT $H source 5003 "$WORK/big"
	pids+=("$BG_PID")
	wait_listen 5002
	wait_listen 5003
	start=$(now)
	ns_bg curl -sSf --max-time $LIMIT -o "$WORK/got0" http://10.77.0.2/big
	pids+=("$BG_PID")
	ns_bg curl -sSf --max-time $LIMIT -o "$WORK/got1" http://10.77.1.2/big
	pids+=("$BG_PID")
	ns_bg timeout $LIMIT "$TERN" connect --tun t2 --addr 10.77.2.2/24 \
		--to 10.77.2.1:5002 --send "$WORK/up" "${imp[@]}"
	pids+=("$BG_PID")
	ns_bg timeout $LIMIT "$TERN" connect --tun t3 --addr 10.77.3.2/24 \
		--to 10.77.3.1:5003 --recv "$WORK/got3" "${imp[@]}"
	pids+=("$BG_PID")
	ns_bg timeout $LIMIT $H echo 10.77.4.2 7 10
	pids+=("$BG_PID")
	for p in "${pids[@]}"; do
		wait "$p" || fail "$label: a transfer failed or stalled"
	done
	rate "$label: 5 transfers, 410 MB in all" $((410 << 20)) "$start"
	same_file "$WORK/big" "$WORK/got0" "$label: http download"
	same_file "$WORK/big" "$WORK/got1" "$label: http download over TAP"
	[ "$(cut -d' ' -f1 "$WORK/sink.txt")" = "$(sha "$WORK/up")" ] ||
		fail "$label: upload to Linux: sha256 differs"
	same_file "$WORK/big" "$WORK/got3" "$label: download from Linux"
	for p in $s0 $s1 $s4; do
		tern_stop "$p" "$WORK/s0.log"
	done
}

round "tern 1% loss" --loss 1% --reorder 1% --dup 1% --seed 1
round "tern 5% loss" --loss 5% --reorder 1% --dup 1% --seed 2

# The kernel drops 3 % of what it receives from tern on every device.
nsx nft add table netdev drops
for d in t0 t1 t2 t3 t4; do
	nsx nft add chain netdev drops "$d" \
		"{ type filter hook ingress device $d priority 0; }"
	nsx nft add rule netdev drops "$d" numgen random mod 100 '<' 3 drop
done
round "kernel 3% ingress drops"
n=$(nsx nft list table netdev drops | grep -c drop || true)
[ "$n" -ge 5 ] || fail "the nftables rules were not in place"
echo PASS

#!/usr/bin/env bash
# The extensions against a Linux peer that turns each of them off: with
# net.ipv4.tcp_sack, tcp_timestamps and tcp_window_scaling each set to 0 in
# the namespace (and with all on), a 20 MB upload (`tern connect --send`)
# and a 20 MB download (`--recv`), sha256 equal, with tern's offloads on
# and off. tern's capture of the upload shows the handshake as negotiated:
# Linux's SYN+ACK carries exactly the options still on, and tern's later
# segments carry timestamps only when both sides agreed to them.
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"

ns_up
dev_up tun tern0
random_file "$WORK/up" 20
random_file "$WORK/down" 20
KEYS="tcp_sack tcp_timestamps tcp_window_scaling"

# count FILTER FIELD: how many packets of the capture match and have
# FIELD. Without TCP reassembly: over 20 MB of random payload, a
# dissector may take the first bytes for a huge PDU's length and
# reassemble the stream, which took tshark 8 minutes instead of 1 s
# (the cause of a run that hit CTest's 900 s limit).
count() {
	tshark -n -o tcp.desegment_tcp_streams:FALSE -r "$WORK/up.pcap" \
		-Y "$1 && $2" -T fields -e frame.number 2>/dev/null | wc -l
}

# check_handshake OFF: Linux's SYN+ACK has every option but OFF's.
check_handshake() {
	local synack="ip.src == $KADDR && tcp.flags.syn == 1 && tcp.flags.ack == 1"
	local want
	for k in $KEYS; do
		want=1
		[ "$k" = "$1" ] && want=0
		case $k in
		tcp_sack) field=tcp.options.sack_perm ;;
		tcp_timestamps) field=tcp.options.timestamp.tsval ;;
		tcp_window_scaling) field=tcp.options.wscale.shift ;;
		esac
		[ "$(count "$synack" "$field")" -eq "$want" ] ||
			fail "$1 off: the SYN+ACK should have $k: $want"
	done
	local data="ip.src == $TADDR && tcp.flags.syn == 0 && tcp.len > 0"
	local ts
	ts=$(count "$data" tcp.options.timestamp.tsval)
	if [ "$1" = tcp_timestamps ]; then
		[ "$ts" -eq 0 ] || fail "timestamps off, yet tern sent $ts"
	else
		[ "$ts" -gt 0 ] || fail "timestamps on, yet tern sent none"
	fi
}

# A transfer that fails or hangs (timeout ends tern with SIGTERM, and it
# writes its counters as it goes): say so with what tern saw, and what
# the kernel's socket saw.
stuck() {
	echo "tern's counters:" >&2
	cat "$WORK/stats.json" >&2 2>/dev/null || true
	nsx ss -tnio >&2 || true
	fail "$1"
}

for off in none $KEYS; do
	for k in $KEYS; do
		nsx sysctl -qw "net.ipv4.$k=1"
	done
	[ "$off" = none ] || nsx sysctl -qw "net.ipv4.$off=0"
	for offload in on off; do
		what="Linux $off off, offload $offload"
		rm -f "$WORK/up.pcap"
		ns_bg $H sink 5001 "$WORK/sink.txt"
		wait_listen 5001
		start=$(now)
		nsx timeout 60 "$TERN" connect --tun tern0 --addr "$TADDR/24" \
			--to "$KADDR:5001" --offload "$offload" \
			--send "$WORK/up" --pcap "$WORK/up.pcap" \
			--stats "$WORK/stats.json" ||
			stuck "$what: tern connect --send"
		rate "upload, $what" $((20 << 20)) "$start"
		wait "$BG_PID"
		[ "$(cut -d' ' -f1 "$WORK/sink.txt")" = "$(sha "$WORK/up")" ] ||
			fail "$what: upload sha256 differs"
		check_handshake "$off"

		ns_bg $H source 5002 "$WORK/down"
		wait_listen 5002
		start=$(now)
		nsx timeout 60 "$TERN" connect --tun tern0 --addr "$TADDR/24" \
			--to "$KADDR:5002" --offload "$offload" \
			--recv "$WORK/got" --stats "$WORK/stats.json" ||
			stuck "$what: tern connect --recv"
		rate "download, $what" $((20 << 20)) "$start"
		wait "$BG_PID"
		same_file "$WORK/down" "$WORK/got" "$what: download"
	done
done
echo PASS

#!/usr/bin/env bash
# A TUN device has no carrier until tern attaches, and the kernel turns
# its queue on from link-watch work up to a second later, dropping what
# it sends the device until then. tern waits for the device to run
# before it sends, so no first SYN is wasted: twelve attach-and-connect
# cycles on one device, each with exactly one SYN from tern. (Without the
# wait, about one cycle in five lost its SYN+ACK and waited 1 s.)
. "$(dirname "$0")/lib.sh"
H="$PY $(dirname "$0")/helpers.py"

ns_up
dev_up tun tern0
random_file "$WORK/up" 1
for i in $(seq 12); do
	ns_bg $H sink 5001 "$WORK/sink.txt"
	wait_listen 5001
	nsx "$TERN" connect --tun tern0 --addr "$TADDR/24" --to "$KADDR:5001" \
		--send "$WORK/up" --pcap "$WORK/c.pcap" ||
		fail "cycle $i: tern connect"
	wait "$BG_PID"
	# no TCP reassembly: random payload can send a dissector after a
	# huge PDU (test_linux_opts.sh's count says more)
	syns=$(tshark -n -o tcp.desegment_tcp_streams:FALSE -r "$WORK/c.pcap" \
		-Y "ip.src == $TADDR && tcp.flags.syn == 1" \
		-T fields -e frame.number 2>/dev/null | wc -l)
	[ "$syns" -eq 1 ] || fail "cycle $i: tern sent $syns SYNs"
done
echo PASS

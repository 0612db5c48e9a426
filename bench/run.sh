#!/usr/bin/env bash
# make bench: tern against the Linux kernel on this machine, in one run.
#
# Usage (root): bench/run.sh BUILD_DIR
#   BENCH_RUNS   runs per case (default 3)
#   BENCH_TIME   seconds per run (default 10)
#   BENCH_CASES  the cases to run (default all, in this order):
#                veth tun_rx_on tun_rx_off tun_tx_on tun_tx_off
#                mem_bulk lo_bulk mem_conn lo_conn callgrind memory synflood
#   BENCH_OUT    where the table goes (default bench/results/DATE.md)
#
# The timed cases run interleaved, round 1 of every case, then round 2 ...,
# so that a slow minute of the machine spreads over the cases instead of
# landing on one. callgrind, memory and synflood are deterministic in
# what they count: they run once.
# Every namespace and device is made here, named tern-bench-PID-..., and
# deleted at the end, also on Ctrl-C; only processes started here are
# stopped, by their PID. See BENCHMARKS.md for what each case measures.
set -euo pipefail

BUILD=${1:?usage: bench/run.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_RUNS:-3}
TIME=${BENCH_TIME:-10}
ALL_CASES="veth tun_rx_on tun_rx_off tun_tx_on tun_tx_off mem_bulk lo_bulk mem_conn lo_conn callgrind memory synflood"
CASES=${BENCH_CASES:-$ALL_CASES}
STAMP=$(date +%Y-%m-%d-%H%M%S)
OUT=${BENCH_OUT:-$SRC/bench/results/$STAMP.md}

die() {
	echo "bench: $*" >&2
	exit 1
}

[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 100 ] ||
	die "BENCH_RUNS: '$RUNS' is not a number of runs from 1 to 100"
[[ $TIME =~ ^[0-9]+$ ]] && [ "$TIME" -ge 1 ] && [ "$TIME" -le 3600 ] ||
	die "BENCH_TIME: '$TIME' is not a number of seconds from 1 to 3600"
for c in $CASES; do
	[[ " $ALL_CASES " == *" $c "* ]] || die "BENCH_CASES: no case named '$c' (the cases: $ALL_CASES)"
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, veth and TUN devices)"
TERN=$(cd "$BUILD" && pwd)/tern
B=$(cd "$BUILD" && pwd)/bench
for p in "$TERN" "$B/tern_bulk" "$B/tern_connrate" "$B/tern_mem" "$B/tern_synflood" "$B/linux_connrate"; do
	[ -x "$p" ] || die "no $p (make bench builds it)"
done
for t in ip iperf valgrind callgrind_annotate sysctl; do
	command -v "$t" >/dev/null || die "no '$t' (scripts/deps.sh bench installs it)"
done

PFX=tern-bench-$$
WORK=$(mktemp -d /tmp/tern-bench.XXXXXX)
NSS=()  # namespaces made here
PIDS=() # background processes started here

cleanup() {
	local p n
	trap - EXIT INT TERM
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		wait "$p" 2>/dev/null || true
	done
	for n in "${NSS[@]+"${NSS[@]}"}"; do
		ip netns del "$n" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
exec 9>&2 # the message below, even from inside a redirected command
trap 'echo "bench: interrupted, cleaning up" >&9; exit 130' INT TERM

# ---- namespaces and processes ----

ns_add() { # NAME: a namespace with lo up
	ip netns add "$1"
	NSS+=("$1")
	ip netns exec "$1" ip link set lo up
}

ns_del() {
	local n keep=()
	ip netns del "$1" 2>/dev/null || true
	for n in "${NSS[@]+"${NSS[@]}"}"; do
		[ "$n" = "$1" ] || keep+=("$n")
	done
	NSS=("${keep[@]+"${keep[@]}"}")
}

# bg NS LOG CMD...: CMD in namespace NS, in the background; PID in BG.
# (ip netns exec execs CMD, so $! is CMD's PID.)
bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	BG=$!
	PIDS+=("$BG")
}

# run CMD...: CMD in the background, waited for. A script's foreground
# command that catches Ctrl-C itself (iperf does) would keep the script
# from acting on it (bash waits, then leaves SIGINT to the command);
# `wait` returns at once on a trapped signal, and the cleanup stops CMD.
run() {
	local pid rc=0
	"$@" &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	forget "$pid"
	return "$rc"
}

forget() { # PID: no longer ours to stop
	local p keep=()
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

# stop PID: SIGTERM, and wait for it.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget "$1"
}

wait_listen() { # NS PORT: a Linux socket listens there (at most 5 s)
	local _
	for _ in $(seq 50); do
		ip netns exec "$1" ss -ltnH "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

wait_accept() { # NS ADDR PORT: something accepts there (at most 5 s)
	local _
	for _ in $(seq 50); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# iperf2's CSV report (-y C), its last line: bits per second -> Gbit/s.
csv_gbps() {
	awk -F, 'NF >= 9 { bps = $NF } END { if (bps == "") exit 1; printf "%.3f\n", bps / 1e9 }' "$1"
}

result() { # KEY FILE: the value of KEY= on the RESULT line
	sed -n "s/^RESULT .*\b$1=\([^ ]*\).*/\1/p" "$2" | tail -n 1
}

# ---- the cases: each prints one figure on stdout, or fails ----

KADDR_TUN=10.79.0.1 # the kernel's side of the TUN device
TADDR_TUN=10.79.0.2 # tern's

setup_veth() {
	NS_VA=$PFX-veth-a NS_VB=$PFX-veth-b
	ns_add "$NS_VA"
	ns_add "$NS_VB"
	ip link add tbv0 netns "$NS_VA" type veth peer name tbv1 netns "$NS_VB"
	ip netns exec "$NS_VA" ip addr add 10.78.0.1/24 dev tbv0
	ip netns exec "$NS_VB" ip addr add 10.78.0.2/24 dev tbv1
	ip netns exec "$NS_VA" ip link set tbv0 up
	ip netns exec "$NS_VB" ip link set tbv1 up
	bg "$NS_VB" "$WORK/veth-server.txt" iperf -s -B 10.78.0.2 -p 5001
	wait_listen "$NS_VB" 5001 || die "iperf -s in $NS_VB did not start"
}

case_veth() {
	run timeout $((TIME + 30)) ip netns exec "$NS_VA" \
		iperf -c 10.78.0.2 -p 5001 -t "$TIME" -y C >"$WORK/run.txt" 2>&1 &&
		csv_gbps "$WORK/run.txt"
}

setup_tun() {
	NS_T=$PFX-tun
	ns_add "$NS_T"
	ip netns exec "$NS_T" ip tuntap add dev tern0 mode tun
	ip netns exec "$NS_T" sysctl -qw net.ipv6.conf.tern0.disable_ipv6=1
	ip netns exec "$NS_T" ip addr add $KADDR_TUN/24 dev tern0
	ip netns exec "$NS_T" ip link set tern0 up
	# tern to Linux: one iperf server, a CSV line per connection
	bg "$NS_T" "$WORK/tun-server.txt" iperf -s -B $KADDR_TUN -p 5002 -y C
	wait_listen "$NS_T" 5002 || die "iperf -s in $NS_T did not start"
}

# offload_args on|off: --offload X when tern has it; "on" without it is
# tern's default.
offload_args() {
	if [ -n "$HAVE_OFFLOAD" ]; then
		echo "--offload $1"
	fi
}

case_tun_rx() { # on|off
	local pid rc=0
	# shellcheck disable=SC2046
	bg "$NS_T" "$WORK/serve.log" "$TERN" serve --tun tern0 \
		--addr $TADDR_TUN/24 --port 5001 --app discard $(offload_args "$1")
	pid=$BG
	if wait_accept "$NS_T" $TADDR_TUN 5001; then
		run timeout $((TIME + 30)) ip netns exec "$NS_T" \
			iperf -c $TADDR_TUN -p 5001 -t "$TIME" -y C >"$WORK/run.txt" 2>&1 || rc=1
	else
		echo "tern serve did not start: $(cat "$WORK/serve.log")" >"$WORK/run.txt"
		rc=1
	fi
	stop "$pid"
	[ "$rc" -eq 0 ] && csv_gbps "$WORK/run.txt"
}

case_tun_tx() { # on|off
	local before
	before=$(wc -l <"$WORK/tun-server.txt")
	# shellcheck disable=SC2046
	run timeout $((TIME + 30)) ip netns exec "$NS_T" "$TERN" connect \
		--tun tern0 --addr $TADDR_TUN/24 --to $KADDR_TUN:5002 \
		--send-for "$TIME" --stats "$WORK/connect.json" \
		$(offload_args "$1") >"$WORK/run.txt" 2>&1 || return 1
	# the iperf server reports the connection once it has closed
	for _ in $(seq 50); do
		[ "$(wc -l <"$WORK/tun-server.txt")" -gt "$before" ] && break
		sleep 0.1
	done
	if [ "$(wc -l <"$WORK/tun-server.txt")" -gt "$before" ]; then
		tail -n +$((before + 1)) "$WORK/tun-server.txt" >"$WORK/csv.txt"
		csv_gbps "$WORK/csv.txt"
	else # tern's own count, from the handshake to the close
		sed -n 's/.* \([0-9.]*\) Mbit\/s out.*/\1/p' "$WORK/run.txt" |
			awk '{ printf "%.3f\n", $1 / 1000 }'
	fi
}

# Linux loopback: a fresh namespace for every run, so that no run sees
# the previous one's TIME_WAIT connections.
lo_ns() {
	NS_L=$PFX-lo-$1
	ns_add "$NS_L"
	ip netns exec "$NS_L" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
}

case_lo_bulk() {
	local pid rc=0
	lo_ns bulk
	bg "$NS_L" "$WORK/lo-server.txt" iperf -s -B 127.0.0.1 -p 5001
	pid=$BG
	if wait_listen "$NS_L" 5001; then
		run timeout $((TIME + 30)) ip netns exec "$NS_L" \
			iperf -c 127.0.0.1 -p 5001 -t "$TIME" -y C >"$WORK/run.txt" 2>&1 || rc=1
	else
		rc=1
	fi
	stop "$pid"
	ns_del "$NS_L"
	[ "$rc" -eq 0 ] && csv_gbps "$WORK/run.txt"
}

# The connection-rate cases: CONC connections in flight, NPORTS server
# ports, client ports 1024-65535: 13 million 4-tuples, so that 60 s of
# TIME_WAIT at 200,000 connections a second does not run them out.
CONC=256
NPORTS=200

case_lo_conn() {
	local pid rc=0
	lo_ns conn
	bg "$NS_L" "$WORK/lo-conn-server.txt" "$B/linux_connrate" server 127.0.0.1 6001 $NPORTS
	pid=$BG
	if wait_listen "$NS_L" $((6000 + NPORTS)); then
		run timeout $((TIME + 30)) ip netns exec "$NS_L" "$B/linux_connrate" \
			client 127.0.0.1 6001 $NPORTS $CONC "$TIME" >"$WORK/run.txt" 2>&1 || rc=1
	else
		rc=1
	fi
	stop "$pid"
	ns_del "$NS_L"
	[ "$rc" -eq 0 ] && result cps "$WORK/run.txt"
}

# tern to tern in memory as Linux's loopback runs: 64 KB packets (MTU
# 65535, an IPv4 packet's largest; lo has 65536) and no checksums (the
# simulator's offload; lo skips them too), 128 KiB buffers, 64 KiB writes
# and reads (BENCHMARKS.md: what matters).
case_mem_bulk() {
	run timeout $((TIME + 30)) "$B/tern_bulk" --seconds "$TIME" --mtu 65535 \
		--offload on --buf 128Ki --chunk 64Ki >"$WORK/run.txt" 2>&1 &&
		result gbps "$WORK/run.txt"
}

case_mem_conn() {
	run timeout $((TIME + 60)) "$B/tern_connrate" --seconds "$TIME" \
		--conc $CONC --ports $NPORTS >"$WORK/run.txt" 2>&1 &&
		result cps "$WORK/run.txt"
}

# run_case NAME: one run, in this shell (not a $(...) subshell, so that
# the processes and namespaces it makes are known to the cleanup); the
# figure, or "failed", in FIG.
run_case() {
	local ok=0
	: >"$WORK/run.txt"
	case $1 in
	veth) case_veth >"$WORK/fig.txt" || ok=1 ;;
	tun_rx_on) case_tun_rx on >"$WORK/fig.txt" || ok=1 ;;
	tun_rx_off) case_tun_rx off >"$WORK/fig.txt" || ok=1 ;;
	tun_tx_on) case_tun_tx on >"$WORK/fig.txt" || ok=1 ;;
	tun_tx_off) case_tun_tx off >"$WORK/fig.txt" || ok=1 ;;
	mem_bulk) case_mem_bulk >"$WORK/fig.txt" || ok=1 ;;
	lo_bulk) case_lo_bulk >"$WORK/fig.txt" || ok=1 ;;
	mem_conn) case_mem_conn >"$WORK/fig.txt" || ok=1 ;;
	lo_conn) case_lo_conn >"$WORK/fig.txt" || ok=1 ;;
	esac
	FIG=$(head -n 1 "$WORK/fig.txt")
	if [ "$ok" -ne 0 ] || [[ ! $FIG =~ ^[0-9.]+$ ]]; then
		echo "bench: $1 failed:" >&2
		sed 's/^/  /' "$WORK/run.txt" >&2
		FIG=failed
		FAILED=1
	fi
}

# ---- the deterministic cases ----

# callgrind: instructions in the receiving stack's input per full-sized
# segment, over a 20 MB transfer at MTU M, the simulator's offload on or
# off. Writes "total link segs mss" to cg-MTU-on|off.res. (Not a $(...):
# see run_case.)
callgrind_at() { # MTU on|off
	local k=$1-$2
	local cg=$WORK/cg-$k.out total link segs
	run valgrind --tool=callgrind --toggle-collect=bench_rx \
		--callgrind-out-file="$cg" "$B/tern_bulk" --bytes 20M --mtu "$1" \
		--offload "$2" --buf 128Ki --chunk 64Ki >"$WORK/cg-$k.txt" 2>"$WORK/cg-$k.err" || return 1
	total=$(callgrind_annotate "$cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	link=$(callgrind_annotate --inclusive=yes --threshold=100 "$cg" 2>/dev/null |
		awk '/:bench_rx_link_send / { gsub(",", "", $1); print $1; exit }')
	segs=$(result full_segs "$WORK/cg-$k.txt")
	[ -n "$total" ] && [ -n "$segs" ] && [ "$segs" -gt 0 ] || return 1
	echo "$total ${link:-0} $segs $(result mss "$WORK/cg-$k.txt")" >"$WORK/cg-$k.res"
}

# ---- the table ----

declare -A VALS # case -> the figures of its runs, space-separated

stats() { # FIGURES...: "median min max" (failed runs left out)
	printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "- - -"; exit }
			if (NR % 2) m = v[(NR + 1) / 2]
			else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m, v[1], v[NR] }'
}

median() {
	# shellcheck disable=SC2086
	stats ${VALS[$1]:-} | cut -d' ' -f1
}

fmt() { # VALUE UNIT
	case $1 in
	-) echo "-" ;;
	*) if [ "$2" = conn/s ]; then printf '%.0f' "$1"; else printf '%.2f' "$1"; fi ;;
	esac
}

label() {
	local off="" on=""
	if [ -z "$HAVE_OFFLOAD" ]; then
		on=" (tern's default: no --offload option yet)"
		off=" (not run: no --offload option yet)"
	fi
	case $1 in
	veth) echo "a. Linux → Linux, veth, MTU 1500 (iperf2)|Gbit/s" ;;
	tun_rx_on) echo "b. Linux → tern over TUN, offloads on$on|Gbit/s" ;;
	tun_rx_off) echo "b. Linux → tern over TUN, offloads off$off|Gbit/s" ;;
	tun_tx_on) echo "b. tern → Linux over TUN, offloads on$on|Gbit/s" ;;
	tun_tx_off) echo "b. tern → Linux over TUN, offloads off$off|Gbit/s" ;;
	mem_bulk) echo "c. tern → tern in memory, one thread, MTU 65535, offloads|Gbit/s" ;;
	lo_bulk) echo "c. Linux loopback, MTU 65536 (iperf2)|Gbit/s" ;;
	mem_conn) echo "d. tern → tern in memory, connections, $CONC in flight|conn/s" ;;
	lo_conn) echo "d. Linux loopback, connections, $CONC in flight (epoll)|conn/s" ;;
	esac
}

ratio_line() { # LABEL NUM DEN TARGET (- for none)
	local n d want="≥ $4"
	[ "$4" = - ] && want="(no target)"
	n=$(median "$2")
	d=$(median "$3")
	if [ -z "$n" ] || [ -z "$d" ] || [ "$n" = - ] || [ "$d" = - ]; then
		echo "| $1 | $want | - | not measured |"
		return
	fi
	awk -v n="$n" -v d="$d" -v t="$4" -v l="$1" -v w="$want" 'BEGIN {
		r = n / d
		v = (t == "-") ? "" : (r >= t) ? "met" : "not met"
		printf "| %s | %s | %.3f | %s |\n", l, w, r, v }'
}

write_table() {
	local c s med min max lab unit
	echo "| case | unit | median | min | max | runs |"
	echo "|---|---|---:|---:|---:|---|"
	for c in $TIMED; do
		# shellcheck disable=SC2086
		read -r med min max <<<"$(stats ${VALS[$c]:-})"
		lab=$(label "$c")
		unit=${lab#*|}
		echo "| ${lab%|*} | $unit | $(fmt "$med" "$unit") | $(fmt "$min" "$unit") | $(fmt "$max" "$unit") | ${VALS[$c]:-} |"
	done
	echo
	echo "| target | wanted | ratio of medians | |"
	echo "|---|---|---:|---|"
	ratio_line "b. Linux → tern / a (offloads on)" tun_rx_on veth 0.5
	ratio_line "b. tern → Linux / a (offloads on)" tun_tx_on veth 0.5
	if [ -n "$HAVE_OFFLOAD" ]; then
		ratio_line "b. Linux → tern / a (offloads off)" tun_rx_off veth -
		ratio_line "b. tern → Linux / a (offloads off)" tun_tx_off veth -
	fi
	ratio_line "c. tern in memory / Linux loopback" mem_bulk lo_bulk 1.0
	ratio_line "d. tern in memory / Linux loopback, connections" mem_conn lo_conn 3
}

write_once() {
	local t l s m mss
	if [[ " $CASES " == *" callgrind "* ]]; then
		echo
		echo "e. Instructions (callgrind, deterministic) in the receiving stack's input, per full-sized data segment of a 20 MB transfer in memory:"
		echo
		echo "| MTU | offloads | MSS | full-sized segments | instructions per segment | of which the simulated link's work on the ACKs | stack alone |"
		echo "|---:|---|---:|---:|---:|---:|---:|"
		for m in $CG_RUNS; do
			if [ -n "${CG[$m]:-}" ]; then
				read -r t l s mss <<<"${CG[$m]}"
				awk -v t="$t" -v l="$l" -v s="$s" -v m="${m%-*}" -v o="${m#*-}" -v mss="$mss" 'BEGIN {
					printf "| %d | %s | %d | %d | %.0f | %.0f | %.0f |\n", m, o, mss, s, t / s, l / s, (t - l) / s }'
			else
				echo "| ${m%-*} | ${m#*-} | - | - | failed | | |"
			fi
		done
	fi
	if [[ " $CASES " == *" memory "* ]]; then
		echo
		echo "e. Memory at scale: 1,000,000 connections between two stacks in memory, all idle ESTABLISHED, then all closed (the client first, so it holds 1,000,000 TIME_WAIT records), then 2 MSL later none left; buffers on 10,000 of them. Bytes the stack asked of its allocator, malloc's overhead not included (targets: 1 KB per idle connection, 64 MB for the TIME_WAIT records):"
		echo
		if [ -n "$MEM" ]; then
			echo "| idle ESTABLISHED (client / server) | all idle, both sides | send buffer holding data | receive buffer holding data | TIME_WAIT record | all TIME_WAIT records |"
			echo "|---:|---:|---:|---:|---:|---:|"
			echo "| $(result idle_client "$MEM") / $(result idle_server "$MEM") B | $(result idle_mib "$MEM") MiB | + $(result sndbuf "$MEM") B | + $(result rcvbuf "$MEM") B | $(result time_wait "$MEM") B | $(result time_wait_mib "$MEM") MiB |"
		else
			echo "failed"
		fi
	fi
	if [[ " $CASES " == *" synflood "* ]]; then
		echo
		echo "f. SYN flood in memory (1,000,000 spoofed SYNs over 100 s of virtual time, tcp_syncookies = 1, 1,000 genuine clients among them):"
		echo
		if [ -n "$FLOOD" ]; then
			echo "| genuine clients through | spoofed SYNs per second (real time) | server memory after 10 % / at the end / at most |"
			echo "|---:|---:|---:|"
			echo "| $(result success "$FLOOD") % | $(result syns_per_s "$FLOOD") | $(result mem_10 "$FLOOD") / $(result mem_end "$FLOOD") / $(result mem_peak "$FLOOD") bytes |"
		else
			echo "failed"
		fi
	fi
}

# ---- the run ----

FAILED=""
HAVE_OFFLOAD=""
if "$TERN" serve --help 2>&1 | grep -q -- '--offload' &&
	"$TERN" connect --help 2>&1 | grep -q -- '--offload'; then
	HAVE_OFFLOAD=1
fi
TIMED=""
for c in $CASES; do
	case $c in
	callgrind | memory | synflood) ;;
	tun_rx_off | tun_tx_off) [ -n "$HAVE_OFFLOAD" ] && TIMED+=" $c" ;;
	*) TIMED+=" $c" ;;
	esac
done
[ -n "$HAVE_OFFLOAD" ] ||
	echo "bench: tern has no --offload option yet: the TUN cases run with tern's default only" >&2

[[ " $CASES " == *" veth "* ]] && setup_veth
[[ " $CASES " == *" tun_"* ]] && setup_tun

START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$RUNS"); do
	for c in $TIMED; do
		printf 'bench: round %d/%d  %-10s ' "$round" "$RUNS" "$c" >&2
		run_case "$c"
		echo "$FIG" >&2
		VALS[$c]="${VALS[$c]:+${VALS[$c]} }$FIG"
	done
done

declare -A CG
CG_RUNS="1500-off 1500-on 65535-off 65535-on"
if [[ " $CASES " == *" callgrind "* ]]; then
	for m in $CG_RUNS; do
		echo "bench: callgrind, 20 MB at MTU ${m%-*}, offloads ${m#*-}" >&2
		if callgrind_at "${m%-*}" "${m#*-}"; then
			CG[$m]=$(cat "$WORK/cg-$m.res")
		else
			echo "bench: callgrind at MTU ${m%-*} failed: $(tail -n 5 "$WORK/cg-$m.err")" >&2
			FAILED=1
		fi
	done
fi
MEM=""
if [[ " $CASES " == *" memory "* ]]; then
	echo "bench: memory, 1,000,000 connections" >&2
	if run "$B/tern_mem" --conns 1000000 >"$WORK/mem.txt" 2>&1; then
		MEM=$WORK/mem.txt
	else
		echo "bench: tern_mem failed: $(cat "$WORK/mem.txt")" >&2
	fi
fi

FLOOD=""
if [[ " $CASES " == *" synflood "* ]]; then
	echo "bench: SYN flood, 1,000,000 spoofed SYNs" >&2
	if run "$B/tern_synflood" --syns 1000000 >"$WORK/flood.txt" 2>&1; then
		FLOOD=$WORK/flood.txt
	else
		echo "bench: tern_synflood failed: $(cat "$WORK/flood.txt")" >&2
		FAILED=1
	fi
fi

mkdir -p "$(dirname "$OUT")"
{
	echo "## make bench, $START"
	echo
	echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
	echo "- load average (1, 5, 15 min) at the start: $LOAD; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- command: \`BENCH_RUNS=$RUNS BENCH_TIME=$TIME make bench\`${BENCH_CASES:+ (BENCH_CASES=\"$BENCH_CASES\")}"
	echo "- $RUNS runs per case of $TIME s, interleaved; tern built -O2 -DNDEBUG ($BUILD)"
	echo
	write_table
	write_once
} >"$OUT"
echo >&2
cat "$OUT"
echo >&2
echo "bench: written to $OUT" >&2
[ -z "$FAILED" ] || die "some runs failed (see above)"

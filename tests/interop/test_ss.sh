#!/usr/bin/env bash
# `tern ss` against a running `tern serve --control`: three Linux clients
# hold connections open and show as ESTAB with their ports; the state and
# port filters select them, -l the listener, -i and -o the internals and
# timers, -s the counts; a connection tern closed first shows TIME-WAIT
# with its timer; -K resets one connection, and the kernel's side sees it
# go.
. "$(dirname "$0")/lib.sh"

ns_up
mkdir -p "$WORK/www"
echo small >"$WORK/www/small"
CTL=$WORK/ctl

dev_up tun tern0
tern_bg "$WORK/tun.log" serve --tun tern0 --addr "$TADDR/24" --port 80 \
	--app http --root "$WORK/www" --control "$CTL"
wait_port "$TADDR" 80

tss() { "$TERN" ss --control "$CTL" "$@"; }

# three idle clients, each holding its connection for at most 30 s
for i in 1 2 3; do
	ns_bg timeout 30 bash -c "exec 3<>/dev/tcp/$TADDR/80; sleep 30"
done
for i in $(seq 50); do
	[ "$(tss -H state established | wc -l)" -ge 3 ] && break
	sleep 0.1
done
tss >"$WORK/all"
head -n 1 "$WORK/all" | grep -q '^State' || fail "no header: $(head -n 1 "$WORK/all")"
n=$(grep -c "^ESTAB .*$TADDR:80 *$KADDR:" "$WORK/all" || true)
[ "$n" -eq 3 ] || fail "$n ESTAB connections listed, not 3: $(cat "$WORK/all")"
[ "$(tss -H state established sport = :80 | wc -l)" -eq 3 ] ||
	fail "state established and sport = :80 do not select the three"
[ "$(tss -H sport = :81 | wc -l)" -eq 0 ] || fail "sport = :81 selects some"
# ss's expressions: the clients' ports are Linux's ephemeral ones
[ "$(tss -H '( sport = :81 or sport = :80 ) and not dport < :1024' | wc -l)" -eq 3 ] ||
	fail "an or/not/parentheses filter does not select the three"
[ "$(tss -H state established "dst $KADDR/32" '||' dport = :1 | wc -l)" -eq 3 ] ||
	fail "dst ADDR/32 || dport = :1 does not select the three"
[ "$(tss -H exclude established | wc -l)" -eq 0 ] || fail "exclude established lists some"
tss -l | grep -q "^LISTEN .*:80" || fail "-l: no listener: $(tss -l)"
tss -H -l | grep -q ESTAB && fail "-l lists connections"
tss -i -H state established | grep -q 'rtt:' || fail "-i: no rtt"
# -p: the tern process itself (the kernel's SO_PEERCRED); -m: skmem with
# the receive buffer's size; -e: the connection's id, which -K takes
tss -p -H state established | grep -q "users:((\"tern\",pid=$TERN_PID))" ||
	fail "-p: not tern's pid $TERN_PID: $(tss -p -H state established)"
tss -m -O -H state established | grep -qE 'skmem:\(r[0-9]+,rb[1-9][0-9]*,t' ||
	fail "-m: $(tss -m -O -H state established)"
tss -e -H state established | grep -qE ' uid:0 ino:0 sk:[0-9a-f]+' || fail "-e: $(tss -e -H)"
tss -i -H state established | grep -q 'cwnd:' || fail "-i: no cwnd"
tss -s | grep -qi 'estab 3' || fail "-s: $(tss -s)"

# tern closes first (Connection: close): TIME-WAIT, with its timer
nsx curl -sSf --max-time 10 -H 'Connection: close' -o /dev/null \
	"http://$TADDR/small"
tss -H -o state time-wait >"$WORK/tw"
grep -q "^TIME-WAIT .*timer:(timewait," "$WORK/tw" ||
	fail "no TIME-WAIT with its timer: $(cat "$WORK/tw")"

# -K: one connection reset; the kernel sees it go
port=$(tss -H state established | awk 'NR == 1 { n = split($5, a, ":"); print a[n] }')
[ -n "$port" ] || fail "no peer port to kill"
tss -K dport = ":$port" >/dev/null || fail "-K dport = :$port failed"
for i in $(seq 50); do
	linux=$(nsx ss -tnH state established "( sport = :$port )" | wc -l)
	[ "$linux" -eq 0 ] && break
	sleep 0.1
done
[ "$linux" -eq 0 ] || fail "the kernel still has :$port established after -K"
[ "$(tss -H state established | wc -l)" -eq 2 ] ||
	fail "after -K: $(tss -H state established)"

tern_stop "$TERN_PID" "$WORK/tun.log"
echo PASS

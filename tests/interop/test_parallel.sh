#!/usr/bin/env bash
# 200 Linux clients in parallel each download a 1 MB file from
# `tern serve --app http`; all succeed, every copy intact.
. "$(dirname "$0")/lib.sh"

ns_up
dev_up tun tern0
mkdir -p "$WORK/www" "$WORK/got"
random_file "$WORK/www/one" 1
tern_bg "$WORK/serve.log" serve --tun tern0 --addr "$TADDR/24" --port 80 \
	--app http --root "$WORK/www" --stats "$WORK/stats.json"
wait_port "$TADDR" 80
start=$(now)
seq 200 | nsx xargs -P 200 -I{} curl -sSf --max-time 120 \
	-o "$WORK/got/{}" "http://$TADDR/one" || fail "a download failed"
rate "200 parallel downloads of 1 MB" $((200 << 20)) "$start"
want=$(sha "$WORK/www/one")
bad=0
for f in "$WORK"/got/*; do
	[ "$(sha "$f")" = "$want" ] || bad=$((bad + 1))
done
n=$(ls "$WORK/got" | wc -l)
[ "$n" -eq 200 ] || fail "$n files, not 200"
[ "$bad" -eq 0 ] || fail "$bad downloads differ"
tern_stop "$TERN_PID" "$WORK/serve.log"
grep -q '"TcpPassiveOpens":20[0-9]' "$WORK/stats.json" ||
	fail "expected about 200 passive opens: $(cat "$WORK/stats.json")"
echo PASS

#!/usr/bin/env bash
# Linux to tern: curl downloads 100 MB from `tern serve --app http`, over
# TUN and over TAP (ARP), sha256 equal; HEAD, 404 and keep-alive too.
. "$(dirname "$0")/lib.sh"

ns_up
mkdir -p "$WORK/www/dir"
random_file "$WORK/www/big" 100
echo small >"$WORK/www/small"
echo index >"$WORK/www/dir/index.html"

http_checks() { # DEVKIND
	local start
	start=$(now)
	nsx curl -sSf --max-time 120 -o "$WORK/got" "http://$TADDR/big"
	rate "http download over $1" $((100 << 20)) "$start"
	same_file "$WORK/www/big" "$WORK/got" "download over $1"
	code=$(nsx curl -s -o /dev/null -w '%{http_code}' "http://$TADDR/nope")
	[ "$code" = 404 ] || fail "missing file: $code, not 404"
	len=$(nsx curl -sSfI "http://$TADDR/small" | tr -d '\r' |
		awk -F': ' 'tolower($1) == "content-length" { print $2 }')
	[ "$len" = 6 ] || fail "HEAD: Content-Length $len"
	# two requests, one connection (keep-alive)
	out=$(nsx curl -sSf -w '%{num_connects} ' "http://$TADDR/small" \
		"http://$TADDR/dir/")
	[ "$out" = "small
1 index
0 " ] || fail "keep-alive: '$out'"
	code=$(nsx curl -s -o /dev/null -w '%{http_code}' --path-as-is \
		"http://$TADDR/../../etc/passwd")
	[ "$code" = 400 ] || fail "path outside the root: $code"
}

dev_up tun tern0
tern_bg "$WORK/tun.log" serve --tun tern0 --addr "$TADDR/24" --port 80 \
	--app http --root "$WORK/www"
wait_port "$TADDR" 80
http_checks TUN
tern_stop "$TERN_PID" "$WORK/tun.log"

dev_up tap tern1
nsx ip addr del "$KADDR/24" dev tern0
tern_bg "$WORK/tap.log" serve --tap tern1 --addr "$TADDR/24" --port 80 \
	--app http --root "$WORK/www"
wait_port "$TADDR" 80
http_checks TAP
nsx ip neigh show dev tern1 | grep -q "$TADDR" || fail "no ARP entry for tern"
tern_stop "$TERN_PID" "$WORK/tap.log"
echo PASS

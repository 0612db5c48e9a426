#!/usr/bin/env bash
# tern's command line: `scenario list` shows the whole catalogue, every
# scenario runs, the options do what they say, and bad input is refused
# (exit status 2, a message on stderr naming the problem, nothing written);
# an output file that cannot be written gives exit status 1 and names it.
#
# Usage: test_cli.sh PATH/TO/tern   (CTest passes it, and TERN_BUILD_DIR
# and TERN_SOURCE_DIR in the environment.)
set -u

tern=${1:?usage: test_cli.sh PATH/TO/tern}
src=${TERN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d "${TERN_BUILD_DIR:-/tmp}/cli-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$work/stdout err=$work/stderr files=$work/files
mkdir "$files"

checks=0 failures=0

# fail, run, expect_ok, expect_refused
. "$(dirname "$0")/lib.sh"

# ---- the catalogue ----

# The catalogue's names, in its order: the entries of all[] in
# scenarios/catalogue.c, each symbol named after its scenario
# (&scn_fin_wait_2_timeout is "fin-wait-2-timeout").
catalogue() {
  sed -n 's/^[[:space:]]*&scn_\([a-z0-9_]*\),$/\1/p' "$src/scenarios/catalogue.c" | tr _ -
}

mapfile -t names < <(catalogue)
[ ${#names[@]} -ge 19 ] || fail "found only ${#names[@]} scenarios in $src/scenarios"

expect_ok scenario list
mapfile -t listed < <(awk '{print $2}' "$out")
[ "${listed[*]}" = "${names[*]}" ] ||
  fail "scenario list shows '${listed[*]}', the catalogue is '${names[*]}'"

# Every scenario runs and prints its header and its state paths.
for name in "${names[@]}"; do
  expect_ok scenario run "$name"
  head -n 1 "$out" | grep -qE "^$name \(SCENARIOS\.md [0-9]+\): ." ||
    fail "scenario run $name: header is '$(head -n 1 "$out")'"
  grep -qE "^client 10\.0\.0\.1, server 10\.0\.0\.2:80, .*seed 1$" "$out" ||
    fail "scenario run $name: no addresses/delay/loss/seed line"
  grep -qx 'state paths (| separates connections):' "$out" ||
    fail "scenario run $name: no 'state paths' section"
  if ! { grep -qE '^  client: CLOSED → ' "$out" && grep -qE '^  server:' "$out"; }; then
    fail "scenario run $name: the state paths lack client or server"
  fi
done

# ---- options ----

params_line() { grep -E '^client 10\.0\.0\.1, server' "$out"; }

expect_ok scenario run lossy-transfer --seed 7
params_line | grep -q ', seed 7$' || fail "--seed 7: header says '$(params_line)'"
cp "$out" "$work/seed7"
expect_ok scenario run lossy-transfer --seed 7
cmp -s "$out" "$work/seed7" || fail "--seed 7 twice: different timelines"

expect_ok scenario run lossy-transfer --loss 0.05
params_line | grep -q ', loss 5\.0 %,' || fail "--loss 0.05: header says '$(params_line)'"
cp "$out" "$work/loss"
expect_ok scenario run lossy-transfer --loss 5%
cmp -s "$out" "$work/loss" || fail "--loss 5% and --loss 0.05 differ"
expect_ok scenario run lossy-transfer --loss 0
params_line | grep -q ', loss 0\.0 %,' || fail "--loss 0: header says '$(params_line)'"

expect_ok scenario run handshake --delay 25
params_line | grep -q 'one-way delay 25\.0 ms' || fail "--delay 25: header says '$(params_line)'"
# the SYN+ACK arrives one round trip after the SYN
grep -qE '^ +0\.050  SYN_SENT → ESTABLISHED' "$out" ||
  fail "--delay 25: the handshake does not complete at 50 ms"
expect_ok scenario run handshake --delay 2.5
params_line | grep -q 'one-way delay 2\.5 ms' || fail "--delay 2.5: header says '$(params_line)'"

json=$work/trace.json pcap=$work/capture.pcap
expect_ok scenario run data-transfer --json "$json" --pcap "$pcap" --seed 3 --loss 2% --delay 15
[ -s "$json" ] || fail "--json: $json is empty or missing"
[ -s "$pcap" ] || fail "--pcap: $pcap is empty or missing"
if [ -s "$json" ]; then
  grep -qvE '^\{"t":[0-9]+,"host":"(client|server)","ev":"(state|seg|drop)",.*\}$' "$json" &&
    fail "--json: a line is not a trace event: $(grep -vE '^\{"t":' "$json" | head -n 1)"
  if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import json, sys
for line in open(sys.argv[1]): json.loads(line)' "$json" ||
      fail "--json: not JSON Lines"
  fi
fi
if [ -s "$pcap" ]; then
  magic=$(od -An -tx1 -N4 "$pcap" | tr -d ' ')
  case $magic in
  d4c3b2a1 | a1b2c3d4) ;;
  *) fail "--pcap: magic $magic is not a pcap file's" ;;
  esac
  [ "$(stat -c %s "$pcap")" -gt 24 ] || fail "--pcap: no packets"
fi
# Each alone, too; an existing file is replaced.
expect_ok scenario run handshake --json "$json"
[ "$(grep -c '"ev":"seg"' "$json")" -eq 6 ] || fail "--json alone: not the 6 segment events of a handshake"
expect_ok scenario run handshake --pcap "$pcap"
[ "$(stat -c %s "$pcap")" -eq $((24 + 16 * 3 + 44 + 44 + 40)) ] ||
  fail "--pcap alone: not the 3 packets of a handshake"

# --rotate-size and --rotate-keep: files of at most SIZE bytes holding
# whole lines and whole packets, FILE the newest, then FILE.1, ...; read
# oldest first, the series is the trace of an unrotated run (the same
# seed, the same trace), or its end when older files were let go.
whole_json_lines() {
  /usr/bin/python3 -c 'import json, sys
for path in sys.argv[1:]:
    for line in open(path):
        assert line.endswith("\n") and isinstance(json.loads(line), dict), path' "$@"
}
expect_ok scenario run lossy-transfer --json "$json" --pcap "$pcap"
rj=$work/rot.json rp=$work/rot.pcap
expect_ok scenario run lossy-transfer --json "$rj" --pcap "$rp" --rotate-size 4096 --rotate-keep 3
for f in "$rj" "$rj.1" "$rj.2" "$rp" "$rp.1" "$rp.2"; do
  if [ ! -s "$f" ]; then
    fail "--rotate-keep 3: $f is missing or empty"
  elif [ "$(stat -c %s "$f")" -gt 4096 ]; then
    fail "--rotate-size 4096: $f has $(stat -c %s "$f") bytes"
  fi
done
for f in "$rj.3" "$rp.3"; do [ -e "$f" ] && fail "--rotate-keep 3: $f exists"; done
whole_json_lines "$rj" "$rj.1" "$rj.2" || fail "--rotate-size: a file is not whole JSON Lines"
cat "$rj.2" "$rj.1" "$rj" | cmp -s - "$json" ||
  fail "--rotate-size: $rj.2, $rj.1, $rj together are not the unrotated trace"
for f in "$rp" "$rp.1" "$rp.2"; do
  [ "$(od -An -tx1 -N4 "$f" | tr -d ' ')" = d4c3b2a1 ] || fail "--rotate-size: $f has no pcap header"
done
# fewer files: the trace's end; the files of the run before are gone
expect_ok scenario run lossy-transfer --json "$rj" --pcap "$rp" --rotate-size 4k --rotate-keep 2
[ -e "$rj.1" ] && [ ! -e "$rj.2" ] && [ ! -e "$rp.2" ] ||
  fail "--rotate-keep 2: not $rj and $rj.1 alone"
whole_json_lines "$rj" "$rj.1" || fail "--rotate-keep 2: a file is not whole JSON Lines"
cat "$rj.1" "$rj" >"$work/tail"
[ "$(wc -l <"$work/tail")" -lt "$(wc -l <"$json")" ] || fail "--rotate-keep 2: nothing let go"
tail -n "$(wc -l <"$work/tail")" "$json" | cmp -s - "$work/tail" ||
  fail "--rotate-keep 2: $rj.1 and $rj are not the end of the unrotated trace"
# within the limit, or none: one file
expect_ok scenario run lossy-transfer --json "$rj" --rotate-size 1M
[ -e "$rj.1" ] && fail "--rotate-size 1M: rotated a trace of $(stat -c %s "$json") bytes"
cmp -s "$rj" "$json" || fail "--rotate-size 1M: not the unrotated trace"
expect_ok scenario run lossy-transfer --json "$rj" --rotate-size 0 --rotate-keep 1
cmp -s "$rj" "$json" || fail "--rotate-size 0: not the unrotated trace"

# ---- refused: exit status 2, nothing written ----

j=$files/x.json p=$files/x.pcap
expect_refused 2 "no scenario named 'nope'" scenario run nope --json "$j" --pcap "$p"
expect_refused 2 "unknown option '--bogus'" scenario run handshake --json "$j" --bogus 1
expect_refused 2 "unknown option '--bogus'" scenario run handshake --bogus
expect_refused 2 "--seed needs a value" scenario run handshake --json "$j" --seed
expect_refused 2 "--json needs a value" scenario run handshake --json
expect_refused 2 "--loss.*'1\.5'" scenario run handshake --json "$j" --loss 1.5
expect_refused 2 "--loss.*'-1'" scenario run handshake --json "$j" --loss -1
expect_refused 2 "--loss.*'abc'" scenario run handshake --json "$j" --loss abc
expect_refused 2 "--loss.*'150'" scenario run handshake --json "$j" --loss 150%
expect_refused 2 "--loss.*'nan'" scenario run handshake --json "$j" --loss nan
expect_refused 2 "--delay.*'-3'" scenario run handshake --json "$j" --delay -3
expect_refused 2 "--delay.*'0x10'" scenario run handshake --json "$j" --delay 0x10
expect_refused 2 "--delay.*'0'" scenario run handshake --json "$j" --delay 0
expect_refused 2 "--seed.*'x'" scenario run handshake --json "$j" --seed x
expect_refused 2 "--seed.*'-1'" scenario run handshake --json "$j" --seed -1
expect_refused 2 "--seed.*'18446744073709551616'" scenario run handshake --seed 18446744073709551616
expect_refused 2 "--json needs a file name" scenario run handshake --json ''
expect_refused 2 "--json and --pcap both name" scenario run handshake --json "$j" --pcap "$j"
# one output among the files another rotates into (FILE.N) would be
# overwritten by the rotation, or removed as an earlier run's
expect_refused 2 "--pcap '.*\.1' is one of the files --json" scenario run handshake --json "$j" --pcap "$j.1"
expect_refused 2 "--json '.*\.12' is one of the files --pcap" scenario run handshake --json "$p.12" --pcap "$p"
expect_refused 2 "--stats '.*\.3' is one of the files --json" serve --tun tn0 --addr 10.7.0.2/24 --port 80 --app echo --json "$j" --stats "$j.3"
expect_refused 2 "--json and --pcap both name" connect --tun tn0 --addr 10.7.0.2/24 --to 10.7.0.1:80 --json "$j" --pcap "$j"
# names compare as files: ./F.1 is F.1, and the control socket counts
expect_refused 2 "--pcap '.*/\./x\.json\.1' is one of the files --json" scenario run handshake --json "$j" --pcap "$(dirname "$j")/./x.json.1"
expect_refused 2 "--control '.*\.1' is one of the files --json" serve --tun tn0 --addr 10.7.0.2/24 --port 80 --app echo --json "$j" --control "$j.1"
# --rotate-size and --rotate-keep on every command that writes --json or
# --pcap: refused before anything is written
for cmd in "serve --tun tn0 --addr 10.7.0.2/24 --port 80 --app echo --pcap $p" \
  "connect --tun tn0 --addr 10.7.0.2/24 --to 10.7.0.1:80 --json $j" \
  "scenario run handshake --json $j --pcap $p"; do
  read -ra args <<<"$cmd"
  for v in x -1 1.5M 4T 10KB M '' 18446744073709551616 17179869184G; do
    expect_refused 2 "--rotate-size: '$v' is not a size in bytes" "${args[@]}" --rotate-size "$v"
  done
  for v in 1 4095 3k; do
    expect_refused 2 "--rotate-size: '$v' is below the minimum of 4096 bytes" \
      "${args[@]}" --rotate-size "$v"
  done
  for v in 0 1001 x -1 ''; do
    expect_refused 2 "--rotate-keep: '$v' is not a number of files from 1 to 1000" \
      "${args[@]}" --rotate-keep "$v"
  done
  expect_refused 2 "--rotate-size needs a value" "${args[@]}" --rotate-size
done
expect_refused 2 "name comes first" scenario run --seed 1 handshake
expect_refused 2 "which scenario" scenario run
expect_refused 2 "list: unexpected argument 'extra'" scenario list extra
expect_refused 2 "unknown subcommand 'bogus'" scenario bogus

run scenario
[ "$status" -eq 2 ] || fail "tern scenario: exit status $status, expected 2"
[ -s "$out" ] && fail "tern scenario: usage went to stdout"
grep -q '^usage: tern scenario list' "$err" || fail "tern scenario: no usage on stderr"

# ---- files that cannot be written: exit status 1, the path and why ----

expect_refused 1 "--json: cannot write '/nonexistent-dir/x\.json': No such file or directory" \
  scenario run handshake --pcap "$p" --json /nonexistent-dir/x.json
expect_refused 1 "--pcap: cannot write '/nonexistent-dir/x\.pcap': No such file or directory" \
  scenario run handshake --json "$j" --pcap /nonexistent-dir/x.pcap
expect_refused 1 "--json: cannot write '$files': Is a directory" \
  scenario run handshake --json "$files"
: >"$work/plain"
expect_refused 1 "--pcap: cannot write '$work/plain/x': Not a directory" \
  scenario run handshake --pcap "$work/plain/x"

# ---- serve and connect: bad options are refused before any device ----
# (all of these fail in parsing, so they need no root)

S=(serve --tun tn0 --port 80 --app echo)
C=(connect --tun tn0 --addr 10.7.0.2/24)
for a in 10.7.0.300/24 10.7.0.2/33 10.7.0.2/0 10.7.0.2/ 10.7.0.2/24x \
  0.0.0.0/24 tern.example/24 ''; do
  expect_refused 2 "--addr: '$a' is not ADDR/PREFIX" "${S[@]}" --addr "$a"
done
expect_refused 2 "--addr.*required|--addr" serve --tun tn0 --port 80 --app echo
expect_refused 2 "--tun: give one device, a name of 1 to 15 characters" \
  serve --tun abcdefghijklmnop --addr 10.7.0.2/24 --port 80 --app echo
expect_refused 2 "--tap: give one device" "${S[@]}" --addr 10.7.0.2/24 --tap tp0
expect_refused 2 "--tun: give one device" "${S[@]}" --addr 10.7.0.2/24 --tun ''
for p in 65536 0 -1 x ''; do
  expect_refused 2 "--port: '$p' is not a port from 1 to 65535" \
    serve --tun tn0 --addr 10.7.0.2/24 --port "$p" --app echo
done
expect_refused 2 "--app: 'ftp' is not echo, discard or http" \
  serve --tun tn0 --addr 10.7.0.2/24 --port 21 --app ftp
expect_refused 2 "--port and --app are required" \
  serve --tun tn0 --addr 10.7.0.2/24 --app echo
expect_refused 2 "--root is for --app http" \
  "${S[@]}" --addr 10.7.0.2/24 --root "$files"
expect_refused 2 "--root: cannot open directory '$work/none'" \
  serve --tun tn0 --addr 10.7.0.2/24 --port 80 --app http --root "$work/none"
expect_refused 2 "--loss.*'2'" "${S[@]}" --addr 10.7.0.2/24 --loss 2
expect_refused 2 "serve: unknown option '--bogus'" "${S[@]}" --bogus
expect_refused 2 "--mtu" "${S[@]}" --addr 10.7.0.2/24 --mtu 10
for v in x ON 1 yes ''; do
  expect_refused 2 "--offload: '$v' is not on or off" \
    "${S[@]}" --addr 10.7.0.2/24 --offload "$v"
  expect_refused 2 "--offload: '$v' is not on or off" \
    "${C[@]}" --to 10.7.0.1:80 --offload "$v"
done
expect_refused 2 "--offload needs a value" "${S[@]}" --addr 10.7.0.2/24 --offload
for t in 10.7.0.1 10.7.0.1:0 10.7.0.1:65536 10.7.0.1:x :80 10.7.0.300:80; do
  expect_refused 2 "--to: '$t' is not IP:PORT" "${C[@]}" --to "$t"
done
expect_refused 2 "where to\? \(--to IP:PORT\)" "${C[@]}"
expect_refused 2 "--local-port: '0' is not a port from 1 to 65535" \
  "${C[@]}" --to 10.7.0.1:80 --local-port 0
expect_refused 1 "--send: cannot read '$work/none'" \
  "${C[@]}" --to 10.7.0.1:80 --send "$work/none"
expect_refused 2 "connect: unknown option '--bogus'" "${C[@]}" --bogus
# generated data: --send-for SECONDS, --send-size BYTES, one source only
for v in x 0 3601 -1 1.5 2s 0x10 ''; do
  expect_refused 2 "--send-for: '$v' is not a number of seconds from 1 to 3600" \
    "${C[@]}" --to 10.7.0.1:80 --send-for "$v"
done
for v in x 0 -5 1099511627777 1e6 20M ''; do
  expect_refused 2 "--send-size: '$v' is not a number of bytes from 1 to 1099511627776" \
    "${C[@]}" --to 10.7.0.1:80 --send-size "$v"
done
expect_refused 2 "--send-for needs a value" "${C[@]}" --to 10.7.0.1:80 --send-for
expect_refused 2 "--send, --send-for and --send-size: give one of them" \
  "${C[@]}" --to 10.7.0.1:80 --send "$work/none" --send-for 5
expect_refused 2 "--send, --send-for and --send-size: give one of them" \
  "${C[@]}" --to 10.7.0.1:80 --send-size 100 --send "$work/none"
expect_refused 2 "--send, --send-for and --send-size: give one of them" \
  "${C[@]}" --to 10.7.0.1:80 --send-for 5 --send-size 100
expect_ok connect --help
grep -q -- '--send-for SECONDS' "$out" || fail "connect --help: no --send-for"
grep -q -- '--send-size BYTES' "$out" || fail "connect --help: no --send-size"
grep -q -- '--offload on|off' "$out" || fail "connect --help: no --offload"
expect_ok serve --help
grep -q -- '--offload on|off' "$out" || fail "serve --help: no --offload"
for cmd in "serve --help" "connect --help" "scenario help"; do
  read -ra args <<<"$cmd"
  expect_ok "${args[@]}"
  grep -q -- '--rotate-size SIZE .*' "$out" && grep -q 'default 256M' "$out" &&
    grep -q -- '--rotate-keep N .*' "$out" && grep -q 'default 4)' "$out" ||
    fail "$cmd: no --rotate-size or --rotate-keep with their defaults"
done

# ---- settings: tern sysctl, --sysctl and --sysctl-file ----

# The keys: the entries of keys[] in src/stack/sysctl.c, one KEY(...) each.
nkeys=$(grep -cE '^[[:space:]]*KEY\("net\.' "$src/src/stack/sysctl.c")
[ "$nkeys" -ge 32 ] || fail "found only $nkeys keys in src/stack/sysctl.c"

expect_ok sysctl -a
[ "$(wc -l <"$out")" -eq "$nkeys" ] ||
  fail "sysctl -a: $(wc -l <"$out") lines, the table has $nkeys keys"
grep -qvE '^net\.(core|ipv4|tern)\.[a-z0-9_]+ = [^ ].*$' "$out" &&
  fail "sysctl -a: a line is not 'KEY = VALUE': $(grep -vE ' = ' "$out" | head -n 1)"
LC_ALL=C sort -c "$out" 2>/dev/null || fail "sysctl -a: not sorted by name"
grep -qx 'net.ipv4.tcp_fin_timeout = 60' "$out" || fail "sysctl -a: no tcp_fin_timeout = 60"
grep -qx "$(printf 'net.ipv4.tcp_rmem = 4096\t131072\t6291456')" "$out" ||
  fail "sysctl -a: tcp_rmem not printed with tabs, as sysctl does"
# every key is documented, with its default
cp "$out" "$work/all"
while read -r key _ value; do
  grep -qF "\`$key\`" "$src/docs/SETTINGS.md" || fail "docs/SETTINGS.md does not list $key"
done <"$work/all"
expect_ok sysctl -N -a
[ "$(wc -l <"$out")" -eq "$nkeys" ] || fail "sysctl -N -a: not one name per key"

expect_ok sysctl net.ipv4.tcp_fin_timeout
[ "$(cat "$out")" = 'net.ipv4.tcp_fin_timeout = 60' ] ||
  fail "sysctl net.ipv4.tcp_fin_timeout: '$(cat "$out")'"
expect_ok sysctl -n net.ipv4.tcp_fin_timeout net/core/somaxconn
[ "$(cat "$out")" = "$(printf '60\n4096')" ] || fail "sysctl -n: '$(cat "$out")'"
expect_ok sysctl net.ipv4.tcp_fin_timeout=30
[ "$(cat "$out")" = 'net.ipv4.tcp_fin_timeout = 30' ] || fail "sysctl KEY=VALUE: '$(cat "$out")'"
expect_ok sysctl -d net.ipv4.tcp_keepalive_time
grep -q '^net.ipv4.tcp_keepalive_time: .*(s)$' "$out" || fail "sysctl -d: '$(cat "$out")'"
# an unknown key: named, exit status 1 (procps-ng's sysctl); the others print
expect_refused 1 "sysctl: net\.ipv4\.nope: unknown key" sysctl net.ipv4.nope
expect_refused 1 "sysctl: tcp_fin_timeout: unknown key" sysctl tcp_fin_timeout
run sysctl net.ipv4.nope net.core.somaxconn
[ "$status" -eq 1 ] && [ "$(cat "$out")" = 'net.core.somaxconn = 4096' ] ||
  fail "sysctl with one unknown key: status $status, stdout '$(cat "$out")'"

good=$work/good.conf bad=$work/bad.conf
cat >"$good" <<'CONF'
# tern's settings
; a comment too

net.ipv4.tcp_fin_timeout = 30
  net/ipv4/tcp_syncookies=2
-net.ipv4.not_in_tern = 1
CONF
# -p shows what the file changes from the defaults
expect_ok sysctl -p "$good"
[ "$(cat "$out")" = "$(printf 'net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_syncookies = 2')" ] ||
  fail "sysctl -p good.conf: '$(cat "$out")'"
expect_ok sysctl -n -p "$good" net.ipv4.tcp_fin_timeout
[ "$(cat "$out")" = 30 ] || fail "sysctl -n -p good.conf KEY: '$(cat "$out")'"
# in command-line order: the last word wins
expect_ok sysctl -n --sysctl-file "$good" --sysctl net.ipv4.tcp_fin_timeout=45 net.ipv4.tcp_fin_timeout
[ "$(cat "$out")" = 45 ] || fail "--sysctl after --sysctl-file: '$(cat "$out")'"
expect_ok sysctl -n --sysctl net.ipv4.tcp_fin_timeout=45 --sysctl-file "$good" net.ipv4.tcp_fin_timeout
[ "$(cat "$out")" = 30 ] || fail "--sysctl-file after --sysctl: '$(cat "$out")'"

printf 'net.ipv4.tcp_fin_timeout = 30\n\nnet.ipv4.tcp_rmem = 10 5 1\n' >"$bad"
expect_refused 2 "-p: $bad:3: net\.ipv4\.tcp_rmem: 10 5 1 is not in order" sysctl -p "$bad"
printf 'net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.bogus = 1\n' >"$bad"
expect_refused 2 "$bad:2: net\.ipv4\.bogus: unknown key" sysctl -p "$bad" -a
printf 'net.tern.tcp_rto_min_ms = 300\nnet.tern.tcp_rto_initial_ms = 250\n' >"$bad"
expect_refused 2 "$bad:2: net\.tern\.tcp_rto_min_ms = 300 is above net\.tern\.tcp_rto_initial_ms = 250" \
  sysctl --sysctl-file "$bad"
expect_refused 2 "-p: $work/none\.conf: No such file or directory" sysctl -p "$work/none.conf"
expect_refused 2 "-p needs a value" sysctl -p
expect_refused 2 "sysctl: unknown option '-x'" sysctl -x
expect_refused 2 "net\.ipv4\.tcp_syncookies: 3 is not one of 0, 1, 2" sysctl net.ipv4.tcp_syncookies=3
expect_refused 2 "net\.ipv4\.tcp_rmem: expected 3 numbers" sysctl --sysctl 'net.ipv4.tcp_rmem=4096 8192'
expect_refused 2 "'bbr' is not available" sysctl --sysctl net.ipv4.tcp_congestion_control=bbr
expect_refused 2 "--sysctl: 'tcp' is not KEY=VALUE" sysctl --sysctl tcp
expect_refused 2 "net\.tern\.tcp_rto_min_ms = 5000 is above" sysctl --sysctl net.tern.tcp_rto_min_ms=5000
expect_ok sysctl --help
grep -q '^usage: tern sysctl' "$out" || fail "sysctl --help: no usage"
run sysctl
[ "$status" -eq 2 ] && grep -q '^usage: tern sysctl' "$err" || fail "tern sysctl alone: status $status, no usage on stderr"

# --sysctl and --sysctl-file on the commands that build stacks: refused
# (status 2, nothing written) before a device is opened or a scenario runs
printf 'net.ipv4.tcp_sack = 2\n' >"$bad"
for cmd in "serve --tun tn0 --addr 10.7.0.2/24 --port 80 --app echo" \
  "connect --tun tn0 --addr 10.7.0.2/24 --to 10.7.0.1:80" \
  "scenario run handshake --json $j --pcap $files/x.pcap"; do
  read -ra args <<<"$cmd"
  expect_refused 2 "--sysctl: net\.ipv4\.nope: unknown key" "${args[@]}" --sysctl net.ipv4.nope=1
  expect_refused 2 "--sysctl: net\.ipv4\.tcp_syn_retries: 0 is not from 1 to 127" \
    "${args[@]}" --sysctl net.ipv4.tcp_syn_retries=0
  expect_refused 2 "--sysctl-file: $bad:1: net\.ipv4\.tcp_sack: 2 is not one of 0, 1" \
    "${args[@]}" --sysctl-file "$bad"
  expect_refused 2 "--sysctl: net\.tern\.tcp_rto_min_ms = 5000 is above" \
    "${args[@]}" --sysctl net.tern.tcp_rto_min_ms=5000
  expect_refused 2 "--sysctl needs a value" "${args[@]}" --sysctl
done
expect_ok serve --help
grep -q -- '--sysctl KEY=VALUE' "$out" || fail "serve --help: no --sysctl"
expect_ok connect --help
grep -q -- '--sysctl-file FILE' "$out" || fail "connect --help: no --sysctl-file"

# ...and they change what runs: the orphan leaves FIN_WAIT_2 after 30 s
fw2_end() { grep -oE '^ +[0-9.]+  FIN_WAIT_2 → CLOSED' "$out" | awk '{print $1}'; }
expect_ok scenario run fin-wait-2-timeout
[ "$(fw2_end)" = 60.160 ] || fail "fin-wait-2-timeout: FIN_WAIT_2 ends at '$(fw2_end)', not 60.160"
expect_ok scenario run fin-wait-2-timeout --sysctl net.ipv4.tcp_fin_timeout=30
[ "$(fw2_end)" = 30.160 ] || fail "--sysctl tcp_fin_timeout=30: FIN_WAIT_2 ends at '$(fw2_end)', not 30.160"
grep -q 'tcp_fin_timeout = 30 s' "$out" || fail "--sysctl tcp_fin_timeout=30: the note does not say 30 s"
expect_ok scenario run fin-wait-2-timeout --sysctl-file "$good"
[ "$(fw2_end)" = 30.160 ] || fail "--sysctl-file: FIN_WAIT_2 ends at '$(fw2_end)', not 30.160"
expect_ok scenario help
grep -q -- '--sysctl KEY=VALUE' "$out" || fail "scenario help: no --sysctl"

# ---- stat and --control ----

expect_refused 2 'which tern\? \(--control PATH\)' stat
expect_refused 2 "unknown option '-x'" stat --control "$work/ctl" -x
expect_refused 2 '--control needs a value' stat --control
expect_refused 2 '--history needs a value' stat --control "$work/ctl" --history
expect_refused 2 'too long' stat --control "$work/$(printf 'x%.0s' $(seq 120))"
# tern ss: bad options and filters are refused before any connection
expect_refused 2 "ss: which tern" ss -t
expect_refused 2 "option '-u' is not supported" ss --control "$work/ctl" -tu
expect_refused 2 "unknown option '--udp'" ss --control "$work/ctl" --udp
expect_refused 2 "unknown state 'bogus'" ss --control "$work/ctl" state bogus
expect_refused 2 "dport: expected :PORT" ss --control "$work/ctl" dport 80
expect_refused 2 "dport: expected :PORT" ss --control "$work/ctl" dport = 80
expect_refused 2 "src: expected ADDR" ss --control "$work/ctl" src 300.1.1.1
expect_refused 2 "'state' comes before the expression" ss --control "$work/ctl" \
  sport = :80 or state time-wait
expect_refused 2 "exclude: unknown state 'nope'" ss --control "$work/ctl" exclude nope
expect_refused 2 "expected '\)'" ss --control "$work/ctl" '( sport = :80'
expect_refused 2 "only = or != compare addresses" ss --control "$work/ctl" dst '>' 10.0.0.1
expect_refused 2 "unknown filter 'foo'" ss --control "$work/ctl" foo
expect_refused 1 "--control $work/none: cannot connect: No such file" \
  stat --control "$work/none"
expect_ok stat help
grep -q -- '--history FILE' "$out" || fail "stat help: no --history"
echo not a socket >"$work/plain"
expect_refused 2 "'$work/plain' exists and is not a socket" \
  serve --tun tern9 --addr 10.9.0.2/24 --port 80 --app echo --control "$work/plain"
expect_refused 2 "the path must have 1 to 107" \
  connect --tun tern9 --addr 10.9.0.2/24 --to 10.9.0.1:80 --control "$work/$(printf 'x%.0s' $(seq 120))"

# A stand-in for a running tern: answers each `stats` with the next of
# these bodies (the shape tern_stats_json writes), so that the nstat-style
# listing is checked without root.
fake_control() { # PATH BODY...
  python3 - "$@" <<'PY' &
import os, socket, sys
path, bodies = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(4)
for body in bodies:
    c, _ = s.accept()
    req = c.makefile().readline()
    ok = req in ("stats\n", "ss\n")
    c.sendall(("OK\n" + body + "\n" if ok else "ERR no\n").encode())
    c.close()
os.unlink(path)
PY
  fake_pid=$!
  for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
}
b1='{"counters":{"TcpInSegs":10,"TcpPassiveOpens":1},"drops":{"tcp_bad_checksum":2},"link":{"offload":true,"rx_frames":10,"tx_frames":0}}'
b2='{"counters":{"TcpInSegs":25,"TcpPassiveOpens":1},"drops":{"tcp_bad_checksum":3},"link":{"offload":true,"rx_frames":30,"tx_frames":0}}'
hist=$work/hist
fake_control "$work/fake" "$b1" "$b2" "$b2" "$b2" "$b2" "$b1"
expect_ok stat --control "$work/fake" --history "$hist"
[ "$(head -n 1 "$out")" = "#tern" ] || fail "stat: no #tern header"
grep -qE '^TcpInSegs +10 +0\.0$' "$out" || fail "stat, first call: TcpInSegs not 10"
grep -qE '^TernDrop_tcp_bad_checksum +2 ' "$out" || fail "stat: no drop reason counter"
grep -qE '^TernLink_rx_frames +10 ' "$out" || fail "stat: no link counter"
grep -q 'TernLink_tx_frames' "$out" && fail "stat: a zero counter shown without -z"
expect_ok stat --control "$work/fake" --history "$hist"
grep -qE '^TcpInSegs +15 ' "$out" || fail "stat, second call: TcpInSegs delta not 15"
grep -qE '^TernDrop_tcp_bad_checksum +1 ' "$out" || fail "stat: drop delta not 1"
grep -q 'TcpPassiveOpens' "$out" && fail "stat: an unchanged counter shown"
expect_ok stat --control "$work/fake" --history "$hist" -a
grep -qE '^TcpInSegs +25 ' "$out" || fail "stat -a: TcpInSegs not 25"
grep -qE '^TcpPassiveOpens +1 ' "$out" || fail "stat -a: TcpPassiveOpens missing"
expect_ok stat --control "$work/fake" --history "$hist" -z
grep -qE '^TcpInSegs +0 ' "$out" || fail "stat -z: TcpInSegs delta not 0"
grep -qE '^TcpOutRsts +0 ' "$out" || fail "stat -z: zero counters not shown"
expect_ok stat --control "$work/fake" --history "$hist" -r
grep -qE '^TcpInSegs +25 ' "$out" || fail "stat -r: not from zero"
expect_ok stat --control "$work/fake" --json
[ "$(cat "$out")" = "$b1" ] || fail "stat --json: not the raw JSON"
wait "$fake_pid"
# answers of another shape are refused, and leave the history as it was
cp "$hist" "$work/hist.before"
fake_control "$work/fake" 'not json' '{"counters":{"TcpInSegs":-1}}' \
  '{"counters":{"TcpInSegs":1.5}}' '{"bogus":{"x":1}}' '[1,2]' \
  '{"counters":{"TcpInSegs":"7"}}' '{"counters":{"TcpInSegs":1e300}}' \
  '{"counters":{}} trailing'
for _ in 1 2 3 4 5 6 7 8; do
  expect_refused 1 "a response tern stat cannot read" stat --control "$work/fake" --history "$hist"
done
wait "$fake_pid"
cmp -s "$hist" "$work/hist.before" || fail "stat: a refused answer changed the history"

# tern ss against the stand-in: ss's filter expressions select rows
ss1='id=1 state=LISTEN local=10.7.0.2:80 remote=0.0.0.0:0 recvq=0 sendq=0
id=2 state=ESTABLISHED local=10.7.0.2:80 remote=10.7.0.1:40000 recvq=5 sendq=10 cc=cubic rtt_us=1500 rttvar_us=700 rto_us=201000 mss=1448 cwnd=14480 ssthresh=2147483647 snd_buf=10/87040 rcv_buf=5/131072
id=3 state=ESTABLISHED local=10.7.0.2:443 remote=192.168.1.9:1022 recvq=0 sendq=0
id=4 state=TIME_WAIT local=10.7.0.2:80 remote=10.7.0.5:22 recvq=0 sendq=0'
ports() { awk '{ n = split($4, a, ":"); printf "%s ", a[n] }' "$out"; } # local ports
fake_control "$work/fake" "$ss1" "$ss1" "$ss1" "$ss1" "$ss1" "$ss1" "$ss1"
expect_ok ss --control "$work/fake" -H 'sport = :443 or dport < :1024'
[ "$(ports)" = "443 80 " ] || fail "ss 'sport = :443 or dport < :1024': ports $(ports)"
expect_ok ss --control "$work/fake" -H '( sport = :80 ) and not dst 10.7.0.0/24'
[ "$(ports)" = "" ] || fail "ss '( sport = :80 ) and not dst 10.7.0.0/24': ports $(ports)"
expect_ok ss --control "$work/fake" -H -a 'sport = :80 and !(dport = :22)'
[ "$(ports)" = "80 80 " ] || fail "ss -a 'sport = :80 and !(dport = :22)': ports $(ports)"
expect_ok ss --control "$work/fake" -H state established exclude established
[ "$(ports)" = "" ] || fail "ss state established exclude established: ports $(ports)"
expect_ok ss --control "$work/fake" -H -a exclude listening dst 10.7.0.0/24
[ "$(ports)" = "80 80 " ] || fail "ss -a exclude listening dst 10.7.0.0/24: ports $(ports)"
# -p names the process that answered (the kernel's SO_PEERCRED), -e its
# uid and each connection's id as sk, -m the buffers as skmem; -O keeps
# each connection on one line
expect_ok ss --control "$work/fake" -H -p -e -m sport = :80 and dport = :40000
comm=$(cat "/proc/$fake_pid/comm")
head -n 1 "$out" | grep -qF "users:((\"$comm\",pid=$fake_pid))" ||
  fail "ss -p: not users:((\"$comm\",pid=$fake_pid)): $(cat "$out")"
head -n 1 "$out" | grep -qE " uid:$(id -u) ino:0 sk:2( |$)" || fail "ss -e: $(cat "$out")"
[ "$(sed -n 2p "$out")" = "$(printf '\t skmem:(r5,rb131072,t10,tb87040,f0,w10,o0,bl0,d0)')" ] ||
  fail "ss -m: $(cat "$out")"
expect_ok ss --control "$work/fake" -H -O -m -i sport = :80 and dport = :40000
[ "$(wc -l <"$out")" -eq 1 ] && grep -q 'skmem:(r5,.* cubic rto:201 rtt:1.5/0.7 mss:1448 cwnd:10' "$out" ||
  fail "ss -O -m -i: $(cat "$out")"
wait "$fake_pid"

# ---- the command itself ----

run
[ "$status" -eq 2 ] || fail "tern alone: exit status $status, expected 2"
[ -s "$out" ] && fail "tern alone: usage went to stdout"
grep -q '^usage: tern COMMAND' "$err" || fail "tern alone: no usage on stderr"
expect_ok help
grep -q '^usage: tern COMMAND' "$out" || fail "tern help: no usage on stdout"
grep -q 'scenario run NAME' "$out" || fail "tern help: does not mention scenario run"
grep -q 'sysctl -a' "$out" || fail "tern help: does not mention sysctl"
grep -q 'stat --control PATH' "$out" || fail "tern help: does not mention stat"
expect_ok --help
expect_ok scenario help
grep -q -- '--loss P' "$out" || fail "tern scenario help: no options"
expect_refused 2 "unknown command 'bogus'" bogus

echo "test_cli: $checks runs of tern, $failures failed checks"
[ "$failures" -eq 0 ]

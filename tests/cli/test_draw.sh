#!/usr/bin/env bash
# tern draw: the sequence diagram of a connection and the state diagram of
# a trace, checked against the traces themselves. The scenarios' traces
# (deterministic for a seed) are read again here, in Python, independently
# of tern: the arrows drawn are the segments sent plus the arrivals no
# transmission explains, the lost ones are the transmissions no arrival
# matches (and, in lossy-transfer and time-wait, exactly those the timeline
# marks lost, which it knows from the IPv4 IDs), the states written are
# the trace's state changes, and the state diagram's counts are the
# transitions taken. Rotated traces read as the whole, and bad input is
# refused (exit status 2, "FILE:LINE: why", no file written).
#
# Usage: test_draw.sh PATH/TO/tern   (CTest passes it, and TERN_BUILD_DIR
# and TERN_SOURCE_DIR in the environment.)
set -u

tern=${1:?usage: test_draw.sh PATH/TO/tern}
work=$(mktemp -d "${TERN_BUILD_DIR:-/tmp}/draw-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$work/stdout err=$work/stderr files=$work/files
mkdir "$files"
# Debian's python with its standard library (not a pyenv one on PATH).
py=/usr/bin/python3
[ -x $py ] || { echo "FAIL: no $py (scripts/deps.sh test installs python3)" >&2; exit 1; }
here=$(dirname "$0")

checks=0 failures=0
. "$here/lib.sh"

# draw_check.py reads the traces again and compares the drawings.
check() { $py "$here/draw_check.py" "$@" >"$work/check.out" 2>"$work/check.err"; }

# scenario NAME: its trace in $work/NAME.json and its timeline in
# $work/NAME.txt (seed 1, the default).
scenario() {
  "$tern" scenario run "$1" --json "$work/$1.json" >"$work/$1.txt" ||
    fail "scenario run $1 failed"
}

for s in handshake active-close lossy-transfer rst-in-window time-wait \
  syn-flood syn-timeout simultaneous-open; do
  scenario "$s"
done

# ---- seq: every arrow, lost one and state of a connection ----

for s in handshake active-close lossy-transfer rst-in-window time-wait \
  syn-timeout simultaneous-open; do
  svg=$work/$s.svg
  expect_ok draw seq "$work/$s.json" -o "$svg"
  timeline=
  [ "$s" = lossy-transfer ] || [ "$s" = time-wait ] && timeline=$work/$s.txt
  check seq "$work/$s.json" "$svg" first $timeline ||
    fail "draw seq $s: the drawing is not the trace:$(echo; cat "$work/check.err")"
done
# the checks bite: lossy-transfer has lost segments, and copies
check seq "$work/lossy-transfer.json" "$work/lossy-transfer.svg" first
read -r nsegs nlost <"$work/check.out"
[ "${nlost:-0}" -ge 2 ] || fail "lossy-transfer: $nlost lost arrows drawn, expected some"
[ "${nsegs:-0}" -ge 30 ] || fail "lossy-transfer: $nsegs arrows drawn"
grep -q 'class="seg c2s dup"' "$work/lossy-transfer.svg" ||
  fail "lossy-transfer: the network's copy is not drawn as one"
grep -q 'class="seg c2s forged"' "$work/rst-in-window.svg" ||
  fail "rst-in-window: the forged RSTs are not drawn as such"
grep -q 'class="break"' "$work/syn-timeout.svg" ||
  fail "syn-timeout: the RTO waits are not drawn as breaks"
grep -q '(not traced)' "$work/syn-timeout.svg" ||
  fail "syn-timeout: the server that never answered is not '(not traced)'"
grep -q '>J = [0-9]* (the client' "$work/handshake.svg" ||
  fail "handshake: no note of the ISNs"
grep -q '>SYN+ACK seq=K ack=J+1 win=65535 mss=1460<' "$work/handshake.svg" ||
  fail "handshake: the SYN+ACK is not labelled as the timeline labels it"

# to standard output without -o: the same drawing
expect_ok draw seq "$work/handshake.json"
cmp -s "$out" "$work/handshake.svg" || fail "draw seq without -o: not the -o drawing"

# ---- several connections: --list and --conn ----

flood=$work/syn-flood.json
expect_ok draw seq "$flood" --list
check list "$flood" "$out" || fail "draw seq --list:$(echo; cat "$work/check.err")"
[ "$(wc -l <"$out")" -ge 4 ] || fail "syn-flood: --list shows $(($(wc -l <"$out") - 1)) connections"
second=$(awk 'NR == 3 {print $2}' "$out")
a=${second%-*} b=${second#*-}
expect_ok draw seq "$flood" --conn 2 -o "$work/c2.svg"
check seq "$flood" "$work/c2.svg" 2 || fail "draw seq --conn 2:$(echo; cat "$work/check.err")"
expect_ok draw seq "$flood" --conn "$a-$b" -o "$work/c2e.svg"
cmp -s "$work/c2.svg" "$work/c2e.svg" || fail "--conn $a-$b draws another connection than --conn 2"
expect_ok draw seq "$flood" --conn "$b-$a" -o "$work/c2r.svg"
cmp -s "$work/c2.svg" "$work/c2r.svg" || fail "--conn $b-$a (reversed) draws another connection"
# the default, the first, says so when there are more
run draw seq "$flood" -o "$work/c1.svg"
[ "$status" -eq 0 ] || fail "draw seq syn-flood: exit status $status"
grep -q 'drew connection 1 of [0-9]*.*--conn' "$err" ||
  fail "draw seq with several connections: does not say which it drew"
check seq "$flood" "$work/c1.svg" 1 || fail "draw seq syn-flood:$(echo; cat "$work/check.err")"

# ---- windows: --from, --to, --limit ----

lossy=$work/lossy-transfer.json
expect_ok draw seq "$lossy" --limit 10 -o "$work/lim.svg"
check xml "$work/lim.svg" || fail "--limit 10: not XML"
grep -q 'data-count="59"' "$work/lim.svg" && grep -q '59 more events not drawn' "$work/lim.svg" ||
  fail "--limit 10: no note of the 59 events left out"
[ "$(grep -c '<g class="state"' "$work/lim.svg")" -eq 3 ] ||
  fail "--limit 10: not the 3 state changes of the first 10 events"
expect_ok draw seq "$lossy" --from 100 --to 160 -o "$work/win.svg"
# (an arrow may come in from above or leave below; states and drops not)
n=$(grep -E '^<g class="(state|drop)"' "$work/win.svg" | grep -o 'data-t="[0-9]*"' |
  tr -dc '0-9\n' | awk '$1 < 100000 || $1 > 160000 {bad++} END {print bad + 0}')
[ "$n" -eq 0 ] || fail "--from 100 --to 160: $n events outside the window"
grep -q 'LAST_ACK → CLOSED' "$work/win.svg" || fail "--from 100 --to 160: LAST_ACK → CLOSED at 155 ms missing"
grep -q 'TIME_WAIT → CLOSED' "$work/win.svg" && fail "--from 100 --to 160: shows the close at 60 s"

# ---- rotated traces: the parts, oldest first, draw the whole ----

head -n 30 "$lossy" >"$work/rot.json.1"
tail -n +31 "$lossy" >"$work/rot.json"
strip() { grep -vE '<svg |svg-bg|class="note"' "$1"; }
expect_ok draw seq "$work/rot.json.1" "$work/rot.json" -o "$work/rot.svg"
if ! cmp -s <(strip "$work/rot.svg") <(strip "$work/lossy-transfer.svg"); then
  fail "draw seq of a trace in two files: not the drawing of the whole"
fi
# out of order, time would run backwards down the drawing: refused
f2=$files/rot2.svg
expect_refused 2 "rot\.json\.1: its first event .* comes before the end of the file before it.*oldest first" \
  draw seq "$work/rot.json" "$work/rot.json.1" -o "$f2"

# ---- states: the counts are the transitions taken ----

both="$work/handshake.json,$work/active-close.json"
# separate traces, each from 0 ms: summed, with no warning about order
expect_ok draw states "$work/handshake.json" "$work/active-close.json" -o "$work/states.svg"
check states "$both" "$work/states.svg" || fail "draw states:$(echo; cat "$work/check.err")"
[ "$(cat "$work/check.out")" -ge 10 ] || fail "draw states: only $(cat "$work/check.out") transitions"
expect_ok draw states "$lossy" -o "$work/st1.svg"
check states "$lossy" "$work/st1.svg" || fail "draw states lossy:$(echo; cat "$work/check.err")"
expect_ok draw states "$lossy" --host client -o "$work/sth.svg"
grep -q 'data-from="LISTEN" data-to="SYN_RECEIVED" data-count="0"' "$work/sth.svg" ||
  fail "draw states --host client: counts the server's LISTEN → SYN_RECEIVED"
grep -q 'data-from="SYN_SENT" data-to="ESTABLISHED" data-count="1"' "$work/sth.svg" ||
  fail "draw states --host client: misses the client's SYN_SENT → ESTABLISHED"
expect_ok draw states "$flood" --conn 1 -o "$work/stc.svg"
grep -q 'data-from="CLOSED" data-to="LISTEN" data-count="0"' "$work/stc.svg" ||
  fail "draw states --conn 1: counts the listener"

# --title names what is drawn, escaped; without it, the trace files (more
# than two are summed up, so that the title fits)
expect_ok draw states "$lossy" --title 'ours & <theirs>' -o "$work/t1.svg"
grep -q '<title>ours &amp; &lt;theirs&gt;</title>' "$work/t1.svg" ||
  fail "draw states --title: not the document's title"
expect_ok draw seq "$lossy" --title 'run 7' -o "$work/t2.svg"
grep -q '>run 7: ' "$work/t2.svg" || fail "draw seq --title: not in the drawing"
expect_ok draw states "$lossy" "$lossy" "$lossy" -o "$work/t3.svg"
grep -q "<title>$lossy and 2 more traces</title>" "$work/t3.svg" ||
  fail "draw states of three traces: title is not 'FIRST and 2 more traces'"

# a title of any length (the subtitle cuts it) and any text (U+FFFF is
# no XML character) still make a well-formed drawing
long=$(head -c 3000 /dev/zero | tr '\0' x)
expect_ok draw seq "$lossy" --title "$long" -o "$work/t4.svg"
expect_ok draw states "$lossy" --title $'odd \xef\xbf\xbf\xef\xbf\xbe' -o "$work/t5.svg"
for f in "$work/t4.svg" "$work/t5.svg"; do
  checks=$((checks + 1))
  "$py" -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$f" ||
    fail "$f: not well-formed XML"
done

# -o through a symbolic link writes its target (the link stays); into a
# FIFO, the drawing goes to its reader (nothing is renamed over it)
ln -s "$work/target.svg" "$work/link.svg"
expect_ok draw states "$lossy" -o "$work/link.svg"
expect_ok draw states "$lossy" -o "$work/link.svg"
[ -L "$work/link.svg" ] && [ -s "$work/target.svg" ] ||
  fail "-o LINK: the link replaced, or its target not written"
mkfifo "$work/fifo"
timeout 30 "$py" -c 'import sys; sys.stdout.write(open(sys.argv[1]).read())' "$work/fifo" >"$work/fifo.out" &
reader=$!
expect_ok draw states "$lossy" -o "$work/fifo"
wait "$reader"
[ -p "$work/fifo" ] || fail "-o FIFO: the FIFO was replaced"
cmp -s "$work/fifo.out" "$work/st1.svg" || fail "-o FIFO: the reader did not get the drawing"

# ---- refused: exit status 2 (1 for a file that cannot be written) ----

f=$files/x.svg
bad=$work/bad.json
expect_refused 2 "cannot read: No such file" draw seq "$work/none.json" -o "$f"
{ head -n 5 "$lossy"; echo '{"t":1,"host":"a","ev":"seg"'; } >"$bad"
expect_refused 2 "bad\.json:6: not JSON" draw seq "$bad" -o "$f"
{ head -n 3 "$lossy"; echo '{"t":1,"host":"a","ev":"state","conn":"10.0.0.1:1-10.0.0.2:2","from":"CLOSED","to":"NOPE","cause":""}'; } >"$bad"
expect_refused 2 "bad\.json:4: \"to\": unknown state 'NOPE'" draw states "$bad" -o "$f"
{ head -n 2 "$lossy"; echo '{"t":1,"host":"a","ev":"seg","dir":"tx","src":"10.0.0.1:1","dst":"10.0.0.2:2","flags":["SYN"],"seq":1,"ack":0,"len":0}'; } >"$bad"
expect_refused 2 "bad\.json:3: no \"win\"" draw seq "$bad" -o "$f"
{ echo '{"t":"1","host":"a","ev":"drop","reason":"x"}'; } >"$bad"
expect_refused 2 "bad\.json:1: \"t\" is not a whole number" draw seq "$bad" -o "$f"
{ echo '[1,2]'; } >"$bad"
expect_refused 2 "bad\.json:1: not a JSON object" draw seq "$bad" -o "$f"
# a key twice: readers differ on which counts, so none is taken
{ echo '{"t":1,"host":"a","ev":"drop","reason":"x","t":2}'; } >"$bad"
expect_refused 2 "bad\.json:1: \"t\" twice" draw states "$bad" -o "$f"
# a malformed line in the second file of a rotated pair
{ echo 'x'; } >"$bad"
expect_refused 2 "bad\.json:1: not JSON" draw seq "$lossy" "$bad" -o "$f"
: >"$work/empty.json"
expect_refused 2 "empty\.json: no trace events" draw seq "$work/empty.json" -o "$f"
grep '0.0.0.0:0' "$lossy" >"$work/listen.json"
expect_refused 2 "no connection in the trace" draw seq "$work/listen.json" -o "$f"
# unknown fields and events are a newer trace's: taken
sed 's/"ev":"seg"/"future":[1,{"a":2}],"ev":"seg"/' "$lossy" >"$work/newer.json"
echo '{"t":5,"host":"client","ev":"rtt","srtt":3}' >>"$work/newer.json"
expect_ok draw seq "$work/newer.json" -o "$work/newer.svg"
cmp -s <(strip "$work/newer.svg") <(strip "$work/lossy-transfer.svg") ||
  fail "a trace with unknown fields and events draws differently"

expect_refused 2 "--conn 99: the trace has 1 connection" draw seq "$lossy" --conn 99 -o "$f"
expect_refused 2 "--conn 0: the trace has" draw seq "$lossy" --conn 0 -o "$f"
expect_refused 2 "--conn 10.9.9.9:1-10.0.0.2:80: no such connection" draw seq "$lossy" --conn 10.9.9.9:1-10.0.0.2:80 -o "$f"
expect_refused 2 "--conn: 'bogus' is neither" draw seq "$lossy" --conn bogus -o "$f"
expect_refused 2 "--conn 7: the trace has" draw states "$lossy" --conn 7 -o "$f"
expect_refused 2 "--limit: '0'" draw seq "$lossy" --limit 0 -o "$f"
expect_refused 2 "--limit.*'x'" draw seq "$lossy" --limit x -o "$f"
expect_refused 2 "--limit.*'-5'" draw seq "$lossy" --limit -5 -o "$f"
expect_refused 2 "--limit needs a value" draw seq "$lossy" -o "$f" --limit
expect_refused 2 "--from.*'abc'" draw seq "$lossy" --from abc -o "$f"
expect_refused 2 "--from 50.000 is after --to 10.000" draw seq "$lossy" --from 50 --to 10 -o "$f"
expect_refused 2 "has no event from 70000 to 80000 ms" draw seq "$lossy" --from 70000 --to 80000 -o "$f"
expect_refused 2 "--host nobody: no stack of that name.*'server'" draw states "$lossy" --host nobody -o "$f"
expect_refused 2 "draw states: unknown option '--limit'" draw states "$lossy" --limit 5 -o "$f"
expect_refused 2 "draw seq: unknown option '--host'" draw seq "$lossy" --host client -o "$f"
expect_refused 2 "draw seq: unknown option '--bogus'" draw seq "$lossy" --bogus -o "$f"
expect_refused 2 "which trace" draw seq -o "$f"
expect_refused 2 "--list.*no -o" draw seq "$lossy" --list -o "$f"
expect_refused 2 "-o needs a value" draw seq "$lossy" -o ''
expect_refused 2 "--title needs a value" draw states "$lossy" --title '' -o "$f"
expect_refused 2 "is a trace being read" draw seq "$lossy" -o "$lossy"
expect_refused 2 "is a trace being read" draw seq "$lossy" -o "$(dirname "$lossy")/./$(basename "$lossy")"
expect_refused 2 "draw: unknown subcommand 'bogus'" draw bogus "$lossy"
expect_refused 1 "-o: cannot write '/nonexistent-dir/x\.svg': No such file or directory" \
  draw seq "$lossy" -o /nonexistent-dir/x.svg
expect_refused 1 "-o: cannot write '$files': Is a directory" draw seq "$lossy" -o "$files"
run draw
[ "$status" -eq 2 ] && grep -q '^usage: tern draw seq' "$err" || fail "tern draw: no usage on stderr, status 2"
expect_ok draw help
grep -q '^usage: tern draw seq' "$out" || fail "tern draw help: no usage"

# a refused trace leaves an existing drawing as it was
cp "$work/handshake.svg" "$work/keep.svg"
echo 'x' >"$bad"
run draw seq "$bad" -o "$work/keep.svg"
cmp -s "$work/handshake.svg" "$work/keep.svg" || fail "a refused trace changed the -o file"
[ -z "$(find "$work" -name '*.tmp')" ] || fail "temporary files left: $(find "$work" -name '*.tmp')"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]

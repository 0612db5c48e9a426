#!/usr/bin/env bash
# `tern draw seq` and `tern draw states` make SVGs a browser opens: each
# drawing of a few scenarios' traces is loaded in headless Chromium
# (Debian's chromium), whose DOM must have an <svg> root and no
# parsererror, and whose screenshot must have something drawn on it. The
# same check is shown to fail on a document with a bare '&'.
#
# Chromium runs in a network namespace of its own (unshare -n as root,
# unshare -rn otherwise): it can reach nothing but that namespace's
# loopback. If no namespace can be made, the test fails rather than run
# a browser on the host's network.
#
# Usage: test_draw_render.sh PATH/TO/tern   (CTest passes it, and
# TERN_BUILD_DIR in the environment.)
set -u

tern=${1:?usage: test_draw_render.sh PATH/TO/tern}
work=$(mktemp -d "${TERN_BUILD_DIR:-/tmp}/draw-render.XXXXXX")
trap 'rm -rf "$work"' EXIT
err=$work/stderr

checks=0 failures=0

fail() {
  failures=$((failures + 1))
  echo "FAIL: $*" >&2
  return 0
}

# ---- the browser, in a namespace of its own ----

if ! command -v chromium >/dev/null; then
  echo "FAIL: chromium is not installed (scripts/deps.sh test names it)" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then netns=(unshare -n); else netns=(unshare -rn); fi
if ! "${netns[@]}" true 2>"$err"; then
  echo "FAIL: cannot make a network namespace (${netns[*]}: $(cat "$err"));" \
    "not running chromium on the host's network" >&2
  exit 1
fi

# browse ARGS... URL: headless Chromium with its own profile, one minute
# at most; its chatter (D-Bus and the like) goes to a log.
browse() {
  timeout 60 "${netns[@]}" chromium --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update \
    --no-first-run --no-default-browser-check --disable-extensions \
    --user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}

# png_drawn PNG W H: the screenshot is W x H and not blank (more than
# 0.5 % of its pixels are not white). PNG decoded by hand (zlib and the
# five row filters of PNG 1.2 section 6), so no imaging library is needed.
png_drawn() {
  /usr/bin/python3 - "$@" <<'EOF'
import struct, sys, zlib

path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG")
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
channels = {2: 3, 6: 4}.get(ctype)
if depth != 8 or channels is None or interlace:
    sys.exit(f"unexpected PNG format: depth {depth}, colour type {ctype}")
if (w, h) != (want_w, want_h):
    sys.exit(f"screenshot is {w}x{h}, expected {want_w}x{want_h}")
raw, stride = zlib.decompress(idat), w * channels
prev, inked = bytearray(stride), 0
for y in range(h):
    f = raw[y * (stride + 1)]
    row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = row[i - channels] if i >= channels else 0
        b, c = prev[i], prev[i - channels] if i >= channels else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            row[i] = (row[i] + pred) & 255
    for x in range(0, stride, channels):
        if min(row[x:x + 3]) < 200:
            inked += 1
    prev = row
if inked * 200 < w * h:
    sys.exit(f"blank: only {inked} of {w * h} pixels drawn")
EOF
}

# svg_loads FILE: Chromium loads it as an SVG document without errors and
# draws it (one run: the DOM and a screenshot of the drawing's size). 0
# if so; otherwise 1, with the reason in $why.
svg_loads() {
  local f=$1 base=${1%.svg} w h
  why=
  w=$(sed -n 's/^<svg [^>]* width="\([0-9.]*\)".*/\1/p' "$f" | head -n 1)
  h=$(sed -n 's/^<svg [^>]* height="\([0-9.]*\)".*/\1/p' "$f" | head -n 1)
  w=${w%.*} h=${h%.*}
  if [ -z "$w" ] || [ -z "$h" ]; then
    why="no width and height on the <svg> element"
    return 1
  fi
  [ "$h" -gt 8000 ] && h=8000 # a long sequence: its top is enough
  rm -f "$base.png"
  browse --dump-dom --screenshot="$base.png" --window-size="$w,$h" \
    "file://$f" >"$base.dom"
  if grep -q parsererror "$base.dom"; then
    why="Chromium reports a parse error: $(grep -o 'error on line[^<]*' "$base.dom")"
    return 1
  fi
  if ! head -c 4 "$base.dom" | grep -q '^<svg'; then
    why="the DOM's root is not <svg>: $(head -c 120 "$base.dom")"
    return 1
  fi
  if ! why=$(png_drawn "$base.png" "$w" "$h" 2>&1); then
    why="screenshot: $why"
    return 1
  fi
  return 0
}

expect_loads() {
  checks=$((checks + 1))
  svg_loads "$1" || fail "$1: $why"
}

# ---- the drawings ----

# run ARGS...: tern succeeds and writes nothing on stderr.
run() {
  checks=$((checks + 1))
  "$tern" "$@" >/dev/null 2>"$err"
  local status=$?
  if [ "$status" -ne 0 ]; then
    fail "tern $*: exit status $status: $(head -n 3 "$err")"
    return 1
  fi
  [ -s "$err" ] && fail "tern $*: wrote to stderr: $(head -n 3 "$err")"
  return 0
}

traces=()
for name in handshake lossy-transfer simultaneous-close time-wait; do
  run scenario run "$name" --json "$work/$name.json" || continue
  traces+=("$work/$name.json")
  run draw seq "$work/$name.json" -o "$work/seq-$name.svg" &&
    expect_loads "$work/seq-$name.svg"
done
# Several traces, each starting at 0 ms, counted together.
run draw states "${traces[@]}" -o "$work/states.svg"
if [ -f "$work/states.svg" ]; then
  expect_loads "$work/states.svg"
  # all four traces are counted (each has one listener), and
  # simultaneous-close's way through CLOSING is drawn as taken
  for edge in 'data-from="CLOSED" data-to="LISTEN" data-count="4"' \
    'data-from="FIN_WAIT_1" data-to="CLOSING"'; do
    checks=$((checks + 1))
    grep -q "<g class=\"edge rfc taken\" $edge" "$work/states.svg" ||
      fail "states.svg: no edge drawn as taken with $edge"
  done
fi

# ---- the check can fail: a bare '&' in a drawing ----

checks=$((checks + 1))
broken=$work/broken.svg
if [ -f "$work/states.svg" ]; then
  sed '0,/<\/title>/s// \& &/' "$work/states.svg" >"$broken"
  if ! grep -q ' & </title>' "$broken"; then
    fail "could not break states.svg (no <title> in it)"
  elif svg_loads "$broken"; then
    fail "a document with a bare '&' passed the check"
  elif ! [[ $why == *"parse error"* ]]; then
    fail "the broken document failed for another reason: $why"
  fi
else
  fail "no states.svg to break"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]

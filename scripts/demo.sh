#!/usr/bin/env bash
# `make demo`: three connections on tern's simulated network, printed as
# timelines. Nothing here needs root or a network: both stacks run inside
# tern, on virtual time, so each run is instant and the same every time.
#
# Usage: scripts/demo.sh PATH/TO/tern
set -euo pipefail

tern=${1:?usage: scripts/demo.sh PATH/TO/tern}

# show HEADING ARGS...: one heading line, then `tern ARGS...`; set -e ends
# the demo, with tern's status, if a run fails.
show() {
  local heading=$1
  shift
  printf '\n==> %s   [tern %s]\n\n' "$heading" "$*"
  "$tern" "$@"
}

show "Opening a connection: the three-way handshake" \
  scenario run handshake
show "20 kB over a lossy link: watch the retransmissions" \
  scenario run lossy-transfer --loss 2% --seed 7
show "Closing a connection: FIN, ACK, FIN, ACK, then TIME_WAIT" \
  scenario run active-close

# The same lossy run, drawn: a sequence diagram and the state diagram, as
# SVG next to the binary.
out=$(cd "$(dirname "$tern")" && pwd)
"$tern" scenario run lossy-transfer --loss 2% --seed 7 \
  --json "$out/demo-lossy.json" >/dev/null
show "...and drawn (open the SVG files in a browser)" \
  draw seq "$out/demo-lossy.json" -o "$out/demo-lossy-seq.svg"
"$tern" draw states "$out/demo-lossy.json" -o "$out/demo-lossy-states.svg"
printf '    %s\n' "$out/demo-lossy-seq.svg" "$out/demo-lossy-states.svg"

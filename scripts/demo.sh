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

#!/usr/bin/env bash
# The README's pictures, drawn by tern itself from the scenarios' traces
# (deterministic for a seed): the sequence diagram of lossy-transfer's
# first 100 ms, and the state diagram of all the scenarios together.
#
# Usage: scripts/pictures.sh PATH/TO/tern [DIR]   (DIR: docs/img)
# tests/cli/test_pictures.sh draws them again and compares, so the
# committed pictures stay what tern draws.
set -euo pipefail

tern=$(realpath "${1:?usage: pictures.sh PATH/TO/tern [DIR]}")
dir=$(realpath "${2:-$(dirname "$0")/../docs/img}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # the traces' names, as the drawings show them, are bare

traces=()
for name in $("$tern" scenario list | awk '{print $2}'); do
  "$tern" scenario run "$name" --json "$name.json" >/dev/null
  traces+=("$name.json")
done
"$tern" draw seq lossy-transfer.json --to 100 \
  --title "tern scenario run lossy-transfer" -o "$dir/seq-lossy-transfer.svg"
"$tern" draw states "${traces[@]}" \
  --title "tern scenario run: all ${#traces[@]} scenarios" \
  -o "$dir/states-scenarios.svg"

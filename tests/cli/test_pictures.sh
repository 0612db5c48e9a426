#!/usr/bin/env bash
# The README's pictures (docs/img) are what tern draws now: they are drawn
# again from the scenarios with scripts/pictures.sh and compared byte for
# byte (`make pictures` makes them again after a change to the drawings).
#
# Usage: test_pictures.sh PATH/TO/tern   (CTest passes it, and
# TERN_BUILD_DIR and TERN_SOURCE_DIR in the environment.)
set -u

tern=${1:?usage: test_pictures.sh PATH/TO/tern}
src=${TERN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d "${TERN_BUILD_DIR:-/tmp}/pictures-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

failures=0
if ! "$src/scripts/pictures.sh" "$tern" "$work"; then
  echo "FAIL: scripts/pictures.sh failed" >&2
  exit 1
fi
for f in seq-lossy-transfer.svg states-scenarios.svg; do
  grep -q "docs/img/$f" "$src/README.md" ||
    { echo "FAIL: README.md does not show docs/img/$f" >&2; failures=$((failures + 1)); }
  if ! cmp -s "$work/$f" "$src/docs/img/$f"; then
    echo "FAIL: docs/img/$f is not what tern draws now (make pictures)" >&2
    failures=$((failures + 1))
  fi
done
[ "$(ls "$work" | wc -l)" -eq 2 ] ||
  { echo "FAIL: pictures.sh drew $(ls "$work")" >&2; failures=$((failures + 1)); }
echo "test_pictures: 2 pictures, $failures failures"
[ "$failures" -eq 0 ]

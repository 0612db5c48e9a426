#!/usr/bin/env bash
# Runs each libFuzzer target for a while (make fuzz): one at a time, each
# on a scratch corpus under the build directory seeded from
# tests/fuzz/corpus and tests/fuzz/regress, and prints per target the
# seconds it ran, the executions and whether it found anything. A finding
# leaves its reproducer under BUILD/fuzz/artifacts/ (the path is printed)
# and makes the script fail.
#
# Usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]
set -uo pipefail
build=$1
secs=$2
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_ipv4 fuzz_tcp fuzz_stack)
src=$(cd "$(dirname "$0")" && pwd)
# Longest input per target: the stack's records take a few dozen bytes
# each (up to 128 records), the others a segment or a few fragments.
declare -A max_len=([fuzz_ipv4]=4096 [fuzz_tcp]=1600 [fuzz_stack]=4096)
# A record list means something at any length: let mutations reach the
# full length at once rather than growing it slowly (libFuzzer's default).
declare -A extra=([fuzz_stack]=-len_control=0 [fuzz_ipv4]=-len_control=0)

failed=0
for t in "${targets[@]}"; do
  corpus=$build/fuzz/corpus/$t
  artifacts=$build/fuzz/artifacts/$t
  log=$build/fuzz/$t.log
  mkdir -p "$corpus" "$artifacts"
  for seeds in "$src/corpus/$t" "$src/regress/$t"; do
    [ -d "$seeds" ] && find "$seeds" -maxdepth 1 -type f ! -name README \
      -exec cp -n {} "$corpus"/ \;
  done
  start=$(date +%s)
  "$build/tests/fuzz/$t" -max_total_time="$secs" -max_len="${max_len[$t]:-4096}" \
    -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 ${extra[$t]:-} \
    -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  found=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
  if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
    status="nothing found"
  else
    failed=1
    status="FOUND: ${found:-exit status $rc, see $log}"
    tail -n 60 "$log" >&2
  fi
  printf 'fuzz: %-10s %6d s %12s execs  %s\n' "$t" "$elapsed" "${execs:-?}" "$status"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: replay a reproducer with $build/../build*/tests/fuzz/<target>_replay FILE," >&2
  echo "fuzz: and once fixed, add it under tests/fuzz/regress/<target>/" >&2
fi
exit "$failed"

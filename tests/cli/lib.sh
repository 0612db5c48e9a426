# What the CLI tests share (sourced, not run): checks that count their
# failures. The sourcing script sets $tern (the binary), $out and $err
# (where a run's output goes) and $files (an empty folder: a refused
# command must leave nothing in it), and checks=0 failures=0.

fail() {
  failures=$((failures + 1))
  echo "FAIL: $*" >&2
  [ -f "$err" ] && sed 's/^/  stderr: /' "$err" >&2
  return 0
}

# Runs tern; the exit status is left in $status, the output in $out/$err.
run() {
  checks=$((checks + 1))
  "$tern" "$@" >"$out" 2>"$err"
  status=$?
}

# expect_ok ARGS...: exit status 0, nothing on stderr (a sanitizer report
# would land there).
expect_ok() {
  run "$@"
  [ "$status" -eq 0 ] || fail "tern $*: exit status $status, expected 0"
  [ -s "$err" ] && fail "tern $*: wrote to stderr"
  return 0
}

# expect_refused STATUS PATTERN ARGS...: tern exits with STATUS, prints
# nothing on stdout, one "tern: " message matching PATTERN (an extended
# regular expression) first on stderr, and leaves no file behind.
expect_refused() {
  local want=$1 pattern=$2
  shift 2
  run "$@"
  [ "$status" -eq "$want" ] ||
    fail "tern $*: exit status $status, expected $want"
  [ -s "$out" ] && fail "tern $*: wrote to stdout on an error"
  head -n 1 "$err" | grep -qE "^tern: .*($pattern)" ||
    fail "tern $*: stderr does not start with 'tern: ' and match /$pattern/"
  if [ -n "$(ls -A "$files")" ]; then
    fail "tern $*: left files behind: $(ls -A "$files")"
    rm -f "$files"/*
  fi
  return 0
}

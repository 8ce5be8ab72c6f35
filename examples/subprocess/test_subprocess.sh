#!/bin/sh
# examples/subprocess/test_subprocess.sh BINARY BACKEND — runs the example in
# both styles (protocol, tasks) on BACKEND and checks its output: every line
# with the right prefix and in order within its command, each exit status
# printed after that command's output, commands running concurrently. How
# the commands' lines interleave with each other is not checked.
set -eu
BIN=$1
BACKEND=$2
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
mode=protocol

fail() {
  echo "FAIL ($mode, $BACKEND): $*" >&2
  echo "--- output:" >&2
  cat "$DIR/out" >&2
  exit 1
}

# run EXPECTED_STATUS ARGS...: runs the example in the current mode.
run() {
  want=$1; shift
  flag=""; [ "$mode" = tasks ] && flag=--tasks
  st=0
  "$BIN" $flag --backend "$BACKEND" "$@" >"$DIR/out" 2>"$DIR/err" || st=$?
  [ "$st" = "$want" ] || fail "exit status $st, expected $want: $(cat "$DIR/err")"
  ! grep -q "cannot start" "$DIR/out" || fail "a command did not start"
  [ ! -s "$DIR/err" ] || fail "unexpected stderr: $(cat "$DIR/err")"
}

has() { grep -qxF -- "$1" "$DIR/out" || fail "missing line: $1"; }

# lines I: what command I printed, prefixes removed, in order.
lines() { grep "^\[$1[] ]" "$DIR/out" | sed 's/^\[[0-9]*[^]]*\] \{0,1\}//'; }

# expect I LINE...: command I printed exactly these lines (after its "$ cmd"
# line), in this order, its status line last.
expect() {
  i=$1; shift
  : >"$DIR/want"
  for l in "$@"; do printf '%s\n' "$l" >>"$DIR/want"; done
  lines "$i" | sed 1d >"$DIR/got"
  cmp -s "$DIR/want" "$DIR/got" ||
    fail "command $i printed: $(cat "$DIR/got") instead of: $(cat "$DIR/want")"
}

for mode in protocol tasks; do
  # The default commands.
  run 1
  has "running 4 commands ($mode) on backend $BACKEND"
  expect 0 "hello" "exit 0"
  has "[0 out] hello"
  has "[2 out] tick 1"
  lines 1 | grep -qx "bin" || fail "ls / did not list bin"
  [ "$(lines 1 | tail -n 1)" = "exit 0" ] || fail "ls /: no exit status last"
  expect 2 "tick 1" "tick 2" "tick 3" "exit 0"
  expect 3 "oops" "exit 3"
  has "[3 err] oops"
  echo "ok: $mode, default commands"

  # Long output, signals, last lines without '\n', a line longer than the
  # protocol style's 1 KiB buffer, and two commands that can only finish if
  # they run at the same time (3 waits for the file 4 creates).
  rm -f "$DIR/flag"
  run 1 \
    'i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i + 1)); done' \
    'echo before; kill -9 $$' \
    "printf 'no newline'; printf partial >&2" \
    "n=0; while [ ! -e '$DIR/flag' ] && [ \$n -lt 200 ]; do sleep 0.05; n=\$((n + 1)); done; [ -e '$DIR/flag' ] && echo saw flag" \
    "sleep 0.3; : >'$DIR/flag'; echo made flag" \
    "head -c 3000 /dev/zero | tr '\\0' x; echo" \
    'exit 7'
  i=0
  while [ $i -lt 500 ]; do echo "line $i"; i=$((i + 1)); done >"$DIR/500"
  lines 0 | sed 1d | head -n 500 | cmp -s - "$DIR/500" || fail "500 lines differ"
  [ "$(lines 0 | tail -n 1)" = "exit 0" ] || fail "500 lines: no exit 0 last"
  expect 1 "before" "killed by signal 9"
  has "[2 out] no newline"
  has "[2 err] partial"
  [ "$(lines 2 | tail -n 1)" = "exit 0" ] || fail "no newline: no exit 0 last"
  expect 3 "saw flag" "exit 0"
  expect 4 "made flag" "exit 0"
  long=$(grep '^\[5 out\]' "$DIR/out" | sed 's/^\[5 out\] //' | tr -d '\n')
  [ "$long" = "$(head -c 3000 /dev/zero | tr '\0' x)" ] || fail "long line differs"
  [ "$(lines 5 | tail -n 1)" = "exit 0" ] || fail "long line: no exit 0 last"
  expect 6 "exit 7"
  echo "ok: $mode, given commands"

  # Every command succeeds: the example exits with 0.
  run 0 -- true 'echo a; echo b >&2'
  expect 0 "exit 0"
  has "[1 out] a"
  has "[1 err] b"
  echo "ok: $mode, all succeed"
done

st=0
"$BIN" --no-such-option >/dev/null 2>&1 || st=$?
[ "$st" = 2 ] || fail "a bad option gave exit status $st, expected 2"
echo "all subprocess checks passed on $BACKEND"

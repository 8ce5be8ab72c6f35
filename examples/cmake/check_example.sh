#!/bin/sh
# examples/cmake/check_example.sh [--expect RE]... [--last RE] [--reject RE]...
#                                 -- PROGRAM [ARG]...
# Runs PROGRAM (stdin from /dev/null) and checks what it printed; see
# InterloopExampleTest.cmake. RE are extended regular expressions (grep -E)
# matched against whole lines of stdout (EXPECT, LAST) or of stdout and
# stderr (REJECT). Exit status 0 when every check passed.
set -eu

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
last=""
has_last=0
# The default rejects: the loop's default error handler, sanitizers.
printf '%s\n' '^interloop\[' 'runtime error:' '^==[0-9]+==ERROR' \
  'LeakSanitizer' >"$tmp/reject"
while [ $# -gt 0 ]; do
  case $1 in
  --expect) n=$((n + 1)); printf '%s\n' "$2" >"$tmp/expect.$n"; shift 2 ;;
  --reject) printf '%s\n' "$2" >>"$tmp/reject"; shift 2 ;;
  --last) last=$2; has_last=1; shift 2 ;;
  --) shift; break ;;
  *) echo "check_example.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "check_example.sh: no program" >&2; exit 2; }

command="$*"
out=$tmp/stdout
err=$tmp/stderr
status=0
"$@" </dev/null >"$out" 2>"$err" || status=$?

# stdout first, so that ctest -V (or --output-on-failure) shows it.
cat "$out"

fail() {
  echo "--- stderr:"
  cat "$err"
  echo
  echo "--- command: $command"
  echo "FAIL: $*"
  exit 1
}

[ "$status" = 0 ] || fail "exit status $status"

# Each EXPECT on a later line than the previous one's match.
line=0
i=1
while [ $i -le $n ]; do
  re=$(cat "$tmp/expect.$i")
  hit=$(tail -n +$((line + 1)) "$out" | grep -n -E -m 1 -e "$re" | cut -d: -f1) ||
    true
  [ -n "$hit" ] || fail "no line matching '$re' (after line $line)"
  line=$((line + hit))
  i=$((i + 1))
done

if [ $has_last = 1 ]; then
  tail -n 1 "$out" | grep -q -E -e "$last" ||
    fail "the last line does not match '$last'"
fi

while IFS= read -r re; do
  if grep -q -E -e "$re" "$out" "$err"; then
    fail "a line matches '$re'"
  fi
done <"$tmp/reject"
echo "ok: every check passed"

#!/bin/sh
# The spec and the suite agree (curl's symbols-in-versions idea, for rules):
#  - every conformance test is cited by a rule in spec/SPEC.md, and every
#    test SPEC.md cites exists;
#  - every public function (IL_EXTERN) is named in SPEC.md and has a comment
#    right above its declaration.
set -eu
src=$1
runner=$2
spec=$src/spec/SPEC.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

"$runner" --list | sort -u > "$tmp/tests"
grep -o 'test_[a-z0-9_]*' "$spec" | sort -u > "$tmp/cited"
for t in $(comm -23 "$tmp/tests" "$tmp/cited"); do
  echo "SPEC.md cites no rule for conformance test $t"; status=1
done
for t in $(comm -13 "$tmp/tests" "$tmp/cited"); do
  echo "SPEC.md cites $t, which the suite does not have"; status=1
done

for h in "$src"/spec/include/interloop/*.h "$src"/adapters/*/include/interloop/*.h; do
  [ -f "$h" ] || continue
  # name of each IL_EXTERN function, and whether the line before the
  # declaration block ends a comment
  awk '
    /\*\/[ \t]*$/ { commented = NR }
    /^IL_EXTERN/ {
      line = $0
      while (line !~ /\(/ && (getline nxt) > 0) line = line " " nxt
      sub(/\(.*/, "", line); n = split(line, w, /[ \t*]+/); name = w[n]
      print name, (commented == NR - 1 ? "ok" : "nocomment")
    }' "$h" > "$tmp/fns"
  while read -r name state; do
    grep -q "\b$name\b" "$spec" || grep -q "\b$name\b" "$(dirname "$h")/../../README.md" 2>/dev/null || {
      echo "$(basename "$h"): $name is not named in SPEC.md"; status=1; }
    [ "$state" = ok ] || { echo "$(basename "$h"): $name has no comment"; status=1; }
  done < "$tmp/fns"
done
[ $status -eq 0 ] && echo "spec: every test cited, every public function named and commented"
exit $status

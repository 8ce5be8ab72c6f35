#!/bin/sh
# Every ```c block in README.md compiles (and links) against the build tree.
set -eu
src=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v dir="$tmp" '
  /^```c$/ { n++; file = sprintf("%s/block%d.c", dir, n); inblock = 1; next }
  /^```/   { inblock = 0; next }
  inblock  { print > file }' "$src/README.md"
count=0
for f in "$tmp"/block*.c; do
  [ -f "$f" ] || continue
  count=$((count + 1))
  if grep -q 'int main' "$f"; then
    cc -std=c11 -Wall -Wno-unused-parameter -Werror -I"$src/spec/include" "$f" \
      -o "$f.bin" -L"$build/lib" -linterloop -Wl,-rpath,"$build/lib" || {
      echo "README block $(basename "$f") does not build:"; cat -n "$f"; exit 1; }
  else
    cc -std=c11 -Wall -Wno-unused-parameter -Werror -I"$src/spec/include" -c "$f" -o "$f.o" || {
      echo "README block $(basename "$f") does not compile:"; cat -n "$f"; exit 1; }
  fi
done
[ "$count" -gt 0 ] || { echo "no C blocks found in README.md"; exit 1; }
echo "README: $count C block(s) compile"

#!/bin/sh
# Only il_* symbols may leave libinterloop.so (the version script's promise).
set -eu
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^il_' | grep -v '^INTERLOOP_' || true)
if [ -n "$bad" ]; then
  echo "symbols exported without the il_ prefix from $lib:"
  echo "$bad"
  exit 1
fi
n=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -c '^il_')
[ "$n" -gt 20 ] || { echo "only $n il_ symbols exported: is the version script applied?"; exit 1; }
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
case "$soname" in
  libinterloop.so.0) ;;
  *) echo "SONAME is '$soname', expected libinterloop.so.0"; exit 1 ;;
esac
echo "exports: $n il_* symbols, SONAME $soname"

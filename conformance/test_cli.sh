#!/bin/sh
# The runner's command line: --list names the rules, an unknown backend is a
# clear failure that names the backends that exist, --filter and --junit work.
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --list > "$tmp/list"
for t in test_call_soon_fifo test_call_later_never_early \
         test_threadsafe_many_threads_none_lost test_unknown_backend_names_available; do
  grep -qx "$t" "$tmp/list" || { echo "--list lacks $t"; exit 1; }
done
[ "$(wc -l < "$tmp/list")" -ge 30 ] || { echo "--list shows too few tests"; exit 1; }

if "$bin" --backend nosuch > "$tmp/out" 2>&1; then
  echo "--backend nosuch succeeded"; exit 1
fi
grep -q 'nosuch' "$tmp/out" && grep -q 'available: builtin' "$tmp/out" || {
  echo "--backend nosuch did not name the available backends:"; cat "$tmp/out"; exit 1; }

"$bin" --backend builtin --filter 'test_call_soon_*' --junit "$tmp/j.xml" > "$tmp/run"
grep -q '\[       OK \] test_call_soon_fifo' "$tmp/run" || { cat "$tmp/run"; exit 1; }
if grep -q 'test_timer_cancel' "$tmp/run"; then echo "--filter ignored"; exit 1; fi
grep -q '<testcase classname="builtin" name="test_call_soon_fifo"' "$tmp/j.xml" || {
  echo "junit output lacks the test"; cat "$tmp/j.xml"; exit 1; }

if "$bin" --backend builtin --mode adopted > "$tmp/ad" 2>&1; then
  echo "adopted mode on builtin should be refused"; exit 1
fi
grep -q 'ENOTSUP' "$tmp/ad" || { cat "$tmp/ad"; exit 1; }
echo "conformance CLI: ok"

#!/bin/sh
# cmake --install into a fresh prefix, then build two consumers against it:
# one with pkg-config, one with find_package(interloop) -> interloop::interloop.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
pc=$(find "$prefix" -name interloop.pc | head -n 1)
[ -n "$pc" ] || { echo "no interloop.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir interloop)
ls "$libdir"/libinterloop.so.0 "$libdir"/libinterloop.a >/dev/null

cat > "$tmp/consumer.c" <<'C'
#include <interloop/interloop.h>
#include <stdio.h>
static int hello(il_loop_t *loop, void *arg) {
  (void)arg;
  printf("consumer ran on %s\n", il_loop_backend_name(loop));
  return 0;
}
int main(void) {
  il_loop_t *loop;
  if (il_loop_new(&loop, NULL) != 0)
    return 1;
  il_loop_call_soon(loop, hello, NULL, NULL);
  il_loop_run(loop, IL_RUN_NOWAIT);
  return il_loop_free(loop);
}
C
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "$tmp/consumer.c" -o "$tmp/consumer-pc" $(pkg-config --cflags --libs interloop)
LD_LIBRARY_PATH=$libdir "$tmp/consumer-pc" | grep -q "consumer ran on builtin"

mkdir -p "$tmp/cm"
cp "$tmp/consumer.c" "$tmp/cm/consumer.c"
cat > "$tmp/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(interloop 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE interloop::interloop)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/cm.log" 2>&1 || { cat "$tmp/cm.log"; exit 1; }
cmake --build "$tmp/cm/build" > "$tmp/cmb.log" 2>&1 || { cat "$tmp/cmb.log"; exit 1; }
LD_LIBRARY_PATH=$libdir "$tmp/cm/build/consumer" | grep -q "consumer ran on builtin"
echo "install: pkg-config and find_package consumers built and ran"

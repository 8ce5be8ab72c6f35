#!/bin/sh
# What the uv plugin and libinterloop-uv export and depend on:
# - the plugin exports il_backend_plugin only and does not link libinterloop
#   (no il_* name left undefined);
# - the library exports il_uv_* only (all three), with SONAME
#   libinterloop-uv.so.0.
set -eu
plugin=$1
lib=$2
names() { nm -D "$@" | awk '{sub(/@.*/, "", $NF); print $NF}' | sort -u; }

defined=$(names --defined-only "$plugin")
if [ "$defined" != "il_backend_plugin" ]; then
  echo "$plugin exports more than il_backend_plugin:"; echo "$defined"; exit 1
fi
if readelf -d "$plugin" | grep NEEDED | grep -q 'libinterloop'; then
  echo "$plugin links libinterloop:"; readelf -d "$plugin" | grep NEEDED; exit 1
fi
bad=$(names --undefined-only "$plugin" | grep '^il_' || true)
if [ -n "$bad" ]; then
  echo "$plugin needs interloop symbols:"; echo "$bad"; exit 1
fi
names --undefined-only "$plugin" | grep -qx uv_run || {
  echo "$plugin does not use uv_run?"; exit 1; }

bad=$(names --defined-only "$lib" | grep -v '^il_uv_' | grep -v '^INTERLOOP_UV_' || true)
if [ -n "$bad" ]; then
  echo "$lib exports symbols outside il_uv_*:"; echo "$bad"; exit 1
fi
for f in il_uv_adopt il_uv_loop_get il_uv_backend; do
  names --defined-only "$lib" | grep -qx "$f" || {
    echo "$lib does not export $f"; exit 1; }
done
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libinterloop-uv.so.0" ] || { echo "SONAME is '$soname'"; exit 1; }
echo "uv symbols: plugin exports il_backend_plugin only, library il_uv_* ($soname)"

#!/bin/sh
# What the ev plugin and libinterloop-ev export and depend on:
# - the plugin exports il_backend_plugin only, does not link libinterloop and
#   needs no libevent-compatible name (Debian's libev.so also defines
#   event_add, event_base_new, ...; the plugin must bind ev_* names only);
# - the library exports il_ev_* only, with SONAME libinterloop-ev.so.0.
set -eu
plugin=$1
lib=$2

defined=$(nm -D --defined-only "$plugin" | awk '{sub(/@.*/, "", $NF); print $NF}' | sort -u)
if [ "$defined" != "il_backend_plugin" ]; then
  echo "$plugin exports more than il_backend_plugin:"; echo "$defined"; exit 1
fi
if readelf -d "$plugin" | grep NEEDED | grep -q 'libinterloop'; then
  echo "$plugin links libinterloop:"; readelf -d "$plugin" | grep NEEDED; exit 1
fi
undef=$(nm -D --undefined-only "$plugin" | awk '{sub(/@.*/, "", $NF); print $NF}')
bad=$(echo "$undef" | grep -E '^(event_|evbuffer_|bufferevent_|il_)' || true)
if [ -n "$bad" ]; then
  echo "$plugin depends on names it must not use:"; echo "$bad"; exit 1
fi
echo "$undef" | grep -q '^ev_run$' || { echo "$plugin does not use ev_run?"; exit 1; }

bad=$(nm -D --defined-only "$lib" | awk '{sub(/@.*/, "", $NF); print $NF}' | grep -v '^il_ev_' | grep -v '^INTERLOOP_EV_' || true)
if [ -n "$bad" ]; then
  echo "$lib exports symbols outside il_ev_*:"; echo "$bad"; exit 1
fi
for f in il_ev_adopt il_ev_loop_get il_ev_backend; do
  nm -D --defined-only "$lib" | awk '{sub(/@.*/, "", $NF); print $NF}' | grep -qx "$f" || {
    echo "$lib does not export $f"; exit 1; }
done
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libinterloop-ev.so.0" ] || { echo "SONAME is '$soname'"; exit 1; }
echo "ev symbols: plugin exports il_backend_plugin only, library il_ev_* ($soname)"

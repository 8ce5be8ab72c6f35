#!/bin/sh
# check-symbols.sh PLUGIN LIBRARY
# The event plugin must take every libevent function from dlsym() on its own
# handle (api.c): an undefined event_* symbol would be bound by the dynamic
# linker, possibly to Debian's libev, which exports libevent's names. It
# exports only il_backend_plugin. The linkable library exports only
# il_event_* and carries SONAME libinterloop-event.so.0.
set -eu
plugin=$1
lib=$2
undef=$(nm -D --undefined-only "$plugin" | awk '{print $NF}' |
  grep -E '^(event|evutil|evbuffer|bufferevent|evthread|evconnlistener|evhttp|evdns|evmap|evsig)_' || true)
if [ -n "$undef" ]; then
  echo "the plugin $plugin references libevent symbols the dynamic linker would bind:"
  echo "$undef"
  exit 1
fi
if objdump -p "$plugin" | grep -E 'NEEDED +lib(event|ev)[-_.]' >/dev/null; then
  echo "the plugin $plugin links an event library (DT_NEEDED):"
  objdump -p "$plugin" | grep NEEDED
  exit 1
fi
exports=$(nm -D --defined-only "$plugin" | awk '{print $NF}')
if [ "$exports" != "il_backend_plugin" ]; then
  echo "the plugin $plugin exports more than il_backend_plugin:"
  echo "$exports"
  exit 1
fi
bad=$(nm -D --defined-only "$lib" | awk '{print $NF}' |
  grep -v -E '^(il_event_|INTERLOOP_EVENT_)' || true)
if [ -n "$bad" ]; then
  echo "$lib exports symbols other than il_event_*:"
  echo "$bad"
  exit 1
fi
n=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -c '^il_event_')
[ "$n" -eq 3 ] || { echo "$lib exports $n il_event_* symbols, expected 3"; exit 1; }
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libinterloop-event.so.0" ] ||
  { echo "SONAME of $lib is '$soname', expected libinterloop-event.so.0"; exit 1; }
echo "plugin: no libevent symbol bound by the linker, exports il_backend_plugin only"
echo "library: $n il_event_* exports, SONAME $soname"

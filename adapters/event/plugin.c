/* adapters/event/plugin.c — the entry point of libinterloop-event.so, the
 * run-time plugin. The plugin talks to the core only through
 * il_backend_host_t and to libevent only through the table api.c fills. */
#include "event_internal.h"

IL_EXTERN const il_backend_ops_t *il_backend_plugin(uint32_t host_abi_version);

const il_backend_ops_t *il_backend_plugin(uint32_t host_abi_version) {
  if (IL_BACKEND_ABI_MAJOR_OF(host_abi_version) != IL_BACKEND_ABI_MAJOR)
    return NULL;
  /* Bind libevent now; if that failed, create() reports why and refuses. */
  (void)il__event_api_load();
  return &il__event_ops;
}

/* adapters/ev/plugin.c — the run-time plugin's one exported symbol.
 *
 * The plugin talks to the core only through il_backend_host_t and does not
 * link libinterloop. */
#include "ev_internal.h"

#include <dlfcn.h>
#include <string.h>

IL_EXTERN const il_backend_ops_t *il_backend_plugin(uint32_t host_abi_version);

const il_backend_ops_t *il_backend_plugin(uint32_t host_abi_version) {
  if (IL_BACKEND_ABI_MAJOR_OF(host_abi_version) != IL_BACKEND_ABI_MAJOR)
    return NULL;
  /* An application that adopts its own loop links libinterloop-ev, a second
   * copy of this adapter. Two copies would mean two signal tables, each
   * replacing the other's sigaction handler, so a signal watched on both
   * would reach only one of them. When that library is in the global scope,
   * serve its ops instead of ours: one adapter per process. */
  void *sym = dlsym(RTLD_DEFAULT, "il_ev_backend");
  if (sym) {
    const il_backend_ops_t *(*linked)(void);
    memcpy(&linked, &sym, sizeof(linked));
    const il_backend_ops_t *ops = linked();
    if (ops && ops != &il__ev_ops &&
        IL_BACKEND_ABI_MAJOR_OF(ops->abi_version) == IL_BACKEND_ABI_MAJOR &&
        ops->struct_size >= sizeof(il_backend_ops_t))
      return ops;
  }
  return &il__ev_ops;
}

/* adapters/uv/uv_plugin.c — the run-time plugin's one exported symbol.
 *
 * The plugin does not link libinterloop: it reaches the core only through
 * the il_backend_host_t handed to create(). */
#include "uv_internal.h"

#include <dlfcn.h>
#include <string.h>

IL_EXTERN const il_backend_ops_t *il_backend_plugin(uint32_t host_abi_version);

const il_backend_ops_t *il_backend_plugin(uint32_t host_abi_version) {
  if (IL_BACKEND_ABI_MAJOR_OF(host_abi_version) != IL_BACKEND_ABI_MAJOR)
    return NULL;
  /* An application that adopts its own uv loop links libinterloop-uv, a
   * second copy of this adapter. Two copies would keep two signal tables
   * (each restoring dispositions the other still relies on) and count as two
   * backends for the core's signal chaining, which would then call libuv's
   * handler twice. When that library is in the global scope, serve its ops
   * instead: one uv adapter per process. */
  void *sym = dlsym(RTLD_DEFAULT, "il_uv_backend");
  if (sym) {
    const il_backend_ops_t *(*linked)(void);
    memcpy(&linked, &sym, sizeof(linked));
    const il_backend_ops_t *ops = linked();
    if (ops && ops != &il__uv_ops &&
        IL_BACKEND_ABI_MAJOR_OF(ops->abi_version) == IL_BACKEND_ABI_MAJOR &&
        ops->struct_size >= sizeof(il_backend_ops_t))
      return ops;
  }
  return &il__uv_ops;
}

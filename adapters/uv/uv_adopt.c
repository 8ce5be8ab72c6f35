/* adapters/uv/uv_adopt.c — libinterloop-uv's public functions
 * (<interloop/uv.h>). Only the linkable library has them: they call
 * libinterloop, which the plugin must not link. */
#include "uv_internal.h"

#include <interloop/uv.h>

#include <string.h>

const il_backend_ops_t *il_uv_backend(void) {
  return &il__uv_ops;
}

int il_uv_adopt(uv_loop_t *uv, il_loop_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  if (!uv)
    return IL_EINVAL;
  return il_loop_new_with_backend(out, &il__uv_ops, uv, NULL);
}

uv_loop_t *il_uv_loop_get(il_loop_t *loop) {
  const il_backend_ops_t *ops = il_loop_backend_ops(loop);
  /* The plugin serves these very ops when this library is loaded; a plugin
   * loaded before it (or a static copy) is another copy of the same adapter,
   * recognised by its name. */
  if (!ops || (ops != &il__uv_ops && strcmp(ops->name, "uv") != 0))
    return NULL;
  return il_loop_engine_loop(loop);
}

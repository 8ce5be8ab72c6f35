/* adapters/ev/adopt.c — the public functions of libinterloop-ev (the
 * linkable library), for applications that adopt their own libev loop. */
#include "ev_internal.h"

#include <interloop/ev.h>

#include <string.h>

const il_backend_ops_t *il_ev_backend(void) {
  return &il__ev_ops;
}

int il_ev_adopt(struct ev_loop *ev, il_loop_t **out) {
  if (out)
    *out = NULL;
  if (!ev || !out)
    return IL_EINVAL;
  return il_loop_new_with_backend(out, &il__ev_ops, ev, NULL);
}

struct ev_loop *il_ev_loop_get(il_loop_t *loop) {
  /* By name, not by pointer: a loop made by the "ev" plugin is an ev loop
   * too, also when the plugin is a copy of its own (static linking). */
  const il_backend_ops_t *ops = il_loop_backend_ops(loop);
  if (!ops || !ops->name || strcmp(ops->name, "ev") != 0)
    return NULL;
  return il_loop_engine_loop(loop);
}

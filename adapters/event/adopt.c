/* adapters/event/adopt.c — the public functions of libinterloop-event.so,
 * the library an application links to run interloop on its own
 * event_base. */
#include "event_internal.h"

#include <interloop/event.h>

#include <string.h>

int il_event_adopt(struct event_base *base, il_loop_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  if (!base)
    return IL_EINVAL;
  return il_loop_new_with_backend(out, &il__event_ops, base, NULL);
}

struct event_base *il_event_loop_get(il_loop_t *loop) {
  /* Also a loop of the "event" plugin: same ops, another copy of them. */
  const il_backend_ops_t *ops = il_loop_backend_ops(loop);
  if (!ops || !ops->name || strcmp(ops->name, il__event_ops.name) != 0)
    return NULL;
  return il_loop_engine_loop(loop);
}

const il_backend_ops_t *il_event_backend(void) {
  return &il__event_ops;
}

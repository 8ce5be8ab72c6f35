/* core/sync_event.c — asyncio.Event for tasks (SPEC §9.3). */
#include "sync_internal.h"

#include <stdlib.h>

struct il_event {
  il_loop_t *loop;
  il__waitq_t waiters;
  int set;
};

int il_event_new(il_loop_t *loop, il_event_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il_event_t *ev = calloc(1, sizeof(*ev));
  if (!ev)
    return IL_ENOMEM;
  ev->loop = loop;
  il__sync_loop_ref(loop);
  *out = ev;
  return 0;
}

int il_event_free(il_event_t *ev) {
  if (!ev)
    return 0;
  int rc = il__sync_thread_check(ev->loop);
  if (rc < 0)
    return rc;
  il_loop_t *loop = ev->loop;
  il__waitq_close(&ev->waiters);
  free(ev);
  il__loop_unref(loop);
  return 0;
}

int il_event_wait(il_event_t *ev) {
  if (!ev)
    return IL_EINVAL;
  int rc = il__sync_task_check(ev->loop);
  if (rc < 0)
    return rc;
  if (ev->set)
    return 0;
  il__waiter_t w = {0};
  int out = il__waitq_wait(ev->loop, &ev->waiters, &w);
  if (out < 0)
    return out;
  il__waitq_remove(&ev->waiters, &w);
  /* Woken by a set: done, even if the event was cleared since. */
  return out == IL__W_WOKEN ? 0 : IL_ECANCELED;
}

int il_event_set(il_event_t *ev) {
  if (!ev)
    return IL_EINVAL;
  int rc = il__loop_check(ev->loop);
  if (rc < 0)
    return rc;
  if (!ev->set) {
    ev->set = 1;
    il__waitq_wake_all(&ev->waiters);
  }
  return 0;
}

int il_event_clear(il_event_t *ev) {
  if (!ev)
    return IL_EINVAL;
  int rc = il__loop_check(ev->loop);
  if (rc < 0)
    return rc;
  ev->set = 0;
  return 0;
}

int il_event_is_set(const il_event_t *ev) {
  if (!ev)
    return IL_EINVAL;
  int rc = il__sync_thread_check(ev->loop);
  if (rc < 0)
    return rc;
  return ev->set;
}

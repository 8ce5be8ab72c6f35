/* core/task_cancel.c — cancelling tasks, asyncio's way (SPEC §8.4): a
 * request cancels what the task waits on, or is delivered at its next
 * wait; requests are counted so timeouts and task groups can withdraw the
 * ones they made. */
#include "future_internal.h"

#include <stdlib.h>

int il__task_cancel(il__task_t *t, const char *reason) {
  if (t->fut.state != IL__F_PENDING || t->finished)
    return 0;
  t->num_cancels++;
  if (reason || t->cancel_msg) {
    free(t->cancel_msg);
    t->cancel_msg = il__strdup_or_null(reason);
  }
  if (t->wait == IL__TW_FUTURE && t->awaiting &&
      il_future_cancel(t->awaiting, reason) == 1)
    return 1; /* the await ends when the awaited future is done */
  if (t->wait == IL__TW_HANDLE && t->started &&
      il__task_wake_with(t, IL_ECANCELED) == 0)
    return 1; /* sleep or yield ends now with IL_ECANCELED */
  t->must_cancel = 1;
  return 1;
}

static int task_arg(const il_task_t *f, il__task_t **out) {
  int rc = il__fut_check(f);
  if (rc < 0)
    return rc;
  if (f->kind != IL__F_TASK)
    return IL_ENOTASK;
  *out = (il__task_t *)(void *)(uintptr_t)f;
  return 0;
}

int il_task_cancel(il_task_t *f, const char *reason) {
  il__task_t *t;
  int rc = task_arg(f, &t);
  return rc < 0 ? rc : il__task_cancel(t, reason);
}

int il_task_cancelling(const il_task_t *f) {
  il__task_t *t;
  int rc = task_arg(f, &t);
  return rc < 0 ? rc : (int)t->num_cancels;
}

int il_task_uncancel(il_task_t *f) {
  il__task_t *t;
  int rc = task_arg(f, &t);
  if (rc < 0)
    return rc;
  if (t->num_cancels > 0 && --t->num_cancels == 0)
    t->must_cancel = 0;
  return (int)t->num_cancels;
}

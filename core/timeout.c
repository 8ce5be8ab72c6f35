/* core/timeout.c — time limits for task code: il_timeout_* scopes
 * (asyncio.timeout) and il_wait_for, built on task cancellation (SPEC §8.7).
 * When the deadline passes the task is cancelled; leaving the scope turns
 * that one cancellation into IL_ETIMEDOUT and withdraws it. */
#include "future_internal.h"

#include <stdlib.h>

enum { TO_ACTIVE = 0, TO_EXPIRED };

struct il_timeout {
  il_loop_t *loop;
  il__task_t *task;   /* a reference while the scope lives */
  il_handle_t *timer; /* held; NULL when no deadline */
  uint32_t cancels_at_enter;
  int state;
};

static int timeout_fire(il_loop_t *loop, void *arg) {
  il_timeout_t *to = arg;
  IL__UNUSED(loop);
  il_handle_release(to->timer);
  to->timer = NULL;
  to->state = TO_EXPIRED;
  il__task_cancel(to->task, "timeout");
  return 0;
}

static void timer_stop(il_timeout_t *to) {
  if (to->timer) {
    il_handle_cancel(to->timer);
    il_handle_release(to->timer);
    to->timer = NULL;
  }
}

static int timer_start(il_timeout_t *to, double when) {
  if (when < 0)
    return 0;
  int rc = il_loop_call_at(to->loop, when, timeout_fire, to, &to->timer);
  if (rc == 0)
    il__handle_mark_internal(to->timer);
  return rc;
}

int il_timeout_enter(il_loop_t *loop, double delay, il_timeout_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il__task_t *t = il__task_running(loop);
  if (!t)
    return IL_ENOTASK;
  il_timeout_t *to = calloc(1, sizeof(*to));
  if (!to)
    return IL_ENOMEM;
  to->loop = loop;
  to->task = t;
  to->cancels_at_enter = t->num_cancels;
  rc = timer_start(to, delay < 0 ? -1.0 : il_loop_time(loop) + delay);
  if (rc < 0) {
    free(to);
    return rc;
  }
  il_future_ref(&t->fut);
  *out = to;
  return 0;
}

int il_timeout_reschedule(il_timeout_t *to, double when) {
  if (!to)
    return IL_EINVAL;
  int rc = il__loop_check(to->loop);
  if (rc < 0)
    return rc;
  if (to->state == TO_EXPIRED)
    return IL_EINVALSTATE;
  il_handle_t *old = to->timer;
  to->timer = NULL;
  rc = timer_start(to, when);
  if (rc < 0) {
    to->timer = old;
    return rc;
  }
  if (old) {
    il_handle_cancel(old);
    il_handle_release(old);
  }
  return 0;
}

int il_timeout_expired(const il_timeout_t *to) {
  return to && to->state == TO_EXPIRED;
}

int il_timeout_exit(il_timeout_t *to, int rc) {
  if (!to)
    return IL_EINVAL;
  if (il__task_running(to->task->fut.loop) != to->task)
    return IL_ENOTASK;
  timer_stop(to);
  if (to->state == TO_EXPIRED) {
    int left = il_task_uncancel(&to->task->fut);
    if (left >= 0 && (uint32_t)left <= to->cancels_at_enter &&
        rc == IL_ECANCELED)
      rc = IL_ETIMEDOUT;
  }
  il_future_unref(&to->task->fut);
  free(to);
  return rc;
}

int il_wait_for(il_future_t *f, double timeout, void **value) {
  il__task_t *t;
  int rc = il__await_check(f, value, &t);
  if (rc < 0)
    return rc;
  if (timeout < 0 || f->state != IL__F_PENDING)
    return il__task_await(t, f, value);
  il_timeout_t *to;
  rc = il_timeout_enter(f->loop, timeout, &to);
  if (rc < 0)
    return rc;
  rc = il__task_await(t, f, value);
  return il_timeout_exit(to, rc);
}

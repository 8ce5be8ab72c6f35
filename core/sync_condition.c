/* core/sync_condition.c — asyncio.Condition for tasks (SPEC §9.4).
 *
 * A waiter's node stays in the condition's list for the whole of
 * il_condition_wait, also while it re-acquires the lock after being
 * notified: il_condition_free() must be able to reach it there too. A
 * notified waiter's future is done, so notify skips it. */
#include "sync_internal.h"

#include <limits.h>
#include <stdlib.h>

struct il_condition {
  il_loop_t *loop;
  il_lock_t *lock; /* &own, or the caller's */
  il__waitq_t waiters;
  il_lock_t own; /* used when no lock was given: one allocation for both */
};

int il_condition_new(il_loop_t *loop, il_lock_t *lock, il_condition_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (lock && (lock->loop != loop || lock->embedded))
    return IL_EINVALSTATE;
  il_condition_t *c = calloc(1, sizeof(*c));
  if (!c)
    return IL_ENOMEM;
  c->loop = loop;
  if (lock) {
    c->lock = lock;
    lock->cond_users++;
  } else {
    il__lock_init(&c->own, loop, 1);
    c->lock = &c->own;
  }
  il__sync_loop_ref(loop);
  *out = c;
  return 0;
}

int il_condition_free(il_condition_t *c) {
  if (!c)
    return 0;
  int rc = il__sync_thread_check(c->loop);
  if (rc < 0)
    return rc;
  il_loop_t *loop = c->loop;
  /* The condition's waiters first: a waiter re-acquiring the own lock must
   * see the condition closed when the lock's close wakes it. */
  il__waitq_close(&c->waiters);
  if (c->lock == &c->own)
    il__lock_close(&c->own);
  else
    c->lock->cond_users--;
  free(c);
  il__loop_unref(loop);
  return 0;
}

il_lock_t *il_condition_lock(const il_condition_t *c) {
  return c ? c->lock : NULL;
}

static int notify(il_condition_t *c, int n) {
  int woken = 0;
  while (woken < n && il__waitq_wake_first(&c->waiters))
    woken++;
  return woken;
}

/* Takes the lock back, whatever it takes: a cancellation during the wait
 * for it is remembered (*cancelled) and the wait repeats, as asyncio does.
 * Only a task that cannot wait at all any more (two refusals in a row: the
 * loop is closing) gives up. */
static int reacquire(il_lock_t *lock, int *cancelled) {
  int refusals = 0;
  for (;;) {
    int refused = 0;
    int rc = il__lock_acquire(lock, &refused);
    if (rc != IL_ECANCELED)
      return rc;
    *cancelled = 1;
    if (!refused)
      refusals = 0;
    else if (++refusals >= 2)
      return rc;
  }
}

int il_condition_wait(il_condition_t *c) {
  if (!c)
    return IL_EINVAL;
  int rc = il__sync_task_check(c->loop);
  if (rc < 0)
    return rc;
  il_lock_t *lock = c->lock; /* still needed if c is freed meanwhile */
  if (!lock->locked)
    return IL_EINVALSTATE;
  il__lock_release(lock);

  il__waiter_t w = {0};
  int out = il__waitq_wait(c->loop, &c->waiters, &w);
  if (out == IL_ECLOSED)
    return IL_ECLOSED; /* c is gone; so may be its own lock */
  int err = 0;
  if (out < 0) {
    /* Not waiting (out of memory); the node goes back into the list only
     * so that a free during the re-acquisition is noticed. */
    err = out;
    il__waitq_push(&c->waiters, &w);
  }
  int notified = out == IL__W_WOKEN || out == IL__W_WOKEN_CANCELLED;
  int cancelled = out > 0 && out != IL__W_WOKEN;

  rc = reacquire(lock, &cancelled);
  if (w.closed) {
    if (rc == 0)
      il__lock_release(lock); /* an outside lock, still alive */
    return IL_ECLOSED;
  }
  il__waitq_remove(&c->waiters, &w);
  if (notified && cancelled)
    notify(c, 1); /* the notification this task will not act on */
  if (err < 0)
    return err;
  if (rc < 0 && rc != IL_ECANCELED)
    return rc;
  return cancelled ? IL_ECANCELED : 0;
}

int il_condition_wait_for(il_condition_t *c, il_predicate_fn pred, void *arg) {
  if (!c || !pred)
    return IL_EINVAL;
  int rc = il__sync_task_check(c->loop);
  if (rc < 0)
    return rc;
  if (!c->lock->locked)
    return IL_EINVALSTATE;
  while (!pred(arg)) {
    rc = il_condition_wait(c);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int il_condition_notify(il_condition_t *c, int n) {
  if (!c || n < 0)
    return IL_EINVAL;
  int rc = il__loop_check(c->loop);
  if (rc < 0)
    return rc;
  if (!c->lock->locked)
    return IL_EINVALSTATE;
  return notify(c, n);
}

int il_condition_notify_all(il_condition_t *c) {
  return il_condition_notify(c, INT_MAX);
}

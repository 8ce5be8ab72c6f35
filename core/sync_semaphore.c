/* core/sync_semaphore.c — asyncio.Semaphore and BoundedSemaphore for tasks
 * (SPEC §9.5).
 *
 * As with the lock, a release with a waiter hands the unit over instead of
 * raising the count, so `value > 0` implies nobody waits and a newcomer
 * never takes a unit ahead of a waiter. */
#include "sync_internal.h"

#include <limits.h>
#include <stdlib.h>

struct il_semaphore {
  il_loop_t *loop;
  il__waitq_t waiters;
  int value;
  int bound; /* the initial value if bounded, else -1 */
};

static int sem_new(il_loop_t *loop, int value, int bounded,
                   il_semaphore_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  if (value < 0)
    return IL_EINVAL;
  il_semaphore_t *s = calloc(1, sizeof(*s));
  if (!s)
    return IL_ENOMEM;
  s->loop = loop;
  s->value = value;
  s->bound = bounded ? value : -1;
  il__sync_loop_ref(loop);
  *out = s;
  return 0;
}

int il_semaphore_new(il_loop_t *loop, int value, il_semaphore_t **out) {
  return sem_new(loop, value, 0, out);
}

int il_semaphore_new_bounded(il_loop_t *loop, int value, il_semaphore_t **out) {
  return sem_new(loop, value, 1, out);
}

int il_semaphore_free(il_semaphore_t *s) {
  if (!s)
    return 0;
  int rc = il__sync_thread_check(s->loop);
  if (rc < 0)
    return rc;
  il_loop_t *loop = s->loop;
  il__waitq_close(&s->waiters);
  free(s);
  il__loop_unref(loop);
  return 0;
}

/* One unit comes back: to the first waiter, else to the count. */
static void give_back(il_semaphore_t *s) {
  if (!il__waitq_wake_first(&s->waiters))
    s->value++;
}

int il_semaphore_acquire(il_semaphore_t *s) {
  if (!s)
    return IL_EINVAL;
  int rc = il__sync_task_check(s->loop);
  if (rc < 0)
    return rc;
  if (s->value > 0) {
    s->value--;
    return 0;
  }
  il__waiter_t w = {0};
  int out = il__waitq_wait(s->loop, &s->waiters, &w);
  if (out < 0)
    return out;
  il__waitq_remove(&s->waiters, &w);
  if (out == IL__W_WOKEN)
    return 0; /* a unit was handed to us */
  if (out == IL__W_WOKEN_CANCELLED)
    give_back(s);
  return IL_ECANCELED;
}

int il_semaphore_release(il_semaphore_t *s) {
  if (!s)
    return IL_EINVAL;
  int rc = il__loop_check(s->loop);
  if (rc < 0)
    return rc;
  if (s->bound >= 0 && s->value >= s->bound)
    return IL_EINVALSTATE;
  if (s->value == INT_MAX)
    return IL_ERANGE;
  give_back(s);
  return 0;
}

int il_semaphore_locked(const il_semaphore_t *s) {
  if (!s)
    return IL_EINVAL;
  int rc = il__sync_thread_check(s->loop);
  if (rc < 0)
    return rc;
  return s->value == 0;
}

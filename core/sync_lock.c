/* core/sync_lock.c — asyncio.Lock for tasks (SPEC §9.2).
 *
 * Fairness comes from handing the lock over: a release with a waiter keeps
 * `locked` set and wakes the waiter, which owns the lock from that moment.
 * So `locked == 0` implies nobody waits, and a newcomer can never slip in
 * between the release and the woken waiter's turn. */
#include "sync_internal.h"

#include <stdlib.h>
#include <string.h>

void il__lock_init(il_lock_t *lock, il_loop_t *loop, int embedded) {
  memset(lock, 0, sizeof(*lock));
  lock->loop = loop;
  lock->embedded = embedded;
}

void il__lock_close(il_lock_t *lock) {
  il__waitq_close(&lock->waiters);
}

int il_lock_new(il_loop_t *loop, il_lock_t **out) {
  if (!out)
    return IL_EINVAL;
  *out = NULL;
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  il_lock_t *lock = malloc(sizeof(*lock));
  if (!lock)
    return IL_ENOMEM;
  il__lock_init(lock, loop, 0);
  il__sync_loop_ref(loop);
  *out = lock;
  return 0;
}

int il_lock_free(il_lock_t *lock) {
  if (!lock)
    return 0;
  int rc = il__sync_thread_check(lock->loop);
  if (rc < 0)
    return rc;
  if (lock->embedded)
    return IL_EINVALSTATE;
  if (lock->cond_users > 0)
    return IL_EBUSY;
  il_loop_t *loop = lock->loop;
  il__lock_close(lock);
  free(lock);
  il__loop_unref(loop);
  return 0;
}

void il__lock_release(il_lock_t *lock) {
  if (!il__waitq_wake_first(&lock->waiters))
    lock->locked = 0;
}

int il__lock_acquire(il_lock_t *lock, int *refused) {
  if (refused)
    *refused = 0;
  if (!lock->locked) {
    lock->locked = 1;
    return 0;
  }
  il__waiter_t w = {0};
  int out = il__waitq_wait(lock->loop, &lock->waiters, &w);
  if (out < 0)
    return out;
  il__waitq_remove(&lock->waiters, &w);
  switch (out) {
  case IL__W_WOKEN:
    return 0; /* handed over: ours */
  case IL__W_WOKEN_CANCELLED:
    il__lock_release(lock); /* ours, but unwanted: pass it on */
    return IL_ECANCELED;
  case IL__W_REFUSED:
    if (refused)
      *refused = 1;
    return IL_ECANCELED;
  default:
    return IL_ECANCELED;
  }
}

int il_lock_acquire(il_lock_t *lock) {
  if (!lock)
    return IL_EINVAL;
  int rc = il__sync_task_check(lock->loop);
  if (rc < 0)
    return rc;
  return il__lock_acquire(lock, NULL);
}

int il_lock_release(il_lock_t *lock) {
  if (!lock)
    return IL_EINVAL;
  int rc = il__loop_check(lock->loop);
  if (rc < 0)
    return rc;
  if (!lock->locked)
    return IL_EINVALSTATE;
  il__lock_release(lock);
  return 0;
}

int il_lock_locked(const il_lock_t *lock) {
  if (!lock)
    return IL_EINVAL;
  int rc = il__sync_thread_check(lock->loop);
  if (rc < 0)
    return rc;
  return lock->locked;
}

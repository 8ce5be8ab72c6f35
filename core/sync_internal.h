/* core/sync_internal.h — what the sync primitives (core/sync_*.c) share: an
 * intrusive list of waiting tasks, each waiting on a future of its own.
 *
 * A waiter node lives on the waiting task's stack (stackful tasks keep it
 * alive while suspended), so waiting allocates nothing but the future. The
 * node stays in its primitive's list from the first wait until the task has
 * resumed and dealt with the outcome; that is what lets il_X_free() reach
 * every task inside a waiting call, woken or not, and tell it the primitive
 * is gone. Only the public future/task API is used. */
#ifndef IL__SYNC_INTERNAL_H
#define IL__SYNC_INTERNAL_H

#include "internal.h"

#include <interloop/future.h>
#include <interloop/sync.h>
#include <interloop/task.h>

typedef struct il__waiter {
  struct il__waiter *prev, *next;
  il_future_t *fut; /* what the task awaits now; NULL between waits */
  int closed;       /* the primitive was freed under this waiter */
} il__waiter_t;

typedef struct il__waitq {
  il__waiter_t *head, *tail;
} il__waitq_t;

/* How a wait ended, for a waiter still in its list (il__waitq_wait). */
enum il__wait_outcome {
  IL__W_WOKEN = 0,           /* woken (the primitive set the future) */
  IL__W_WOKEN_CANCELLED = 1, /* woken, then cancelled before it ran */
  IL__W_CANCELLED = 2,       /* cancelled while waiting, never woken */
  IL__W_REFUSED = 3          /* the task could not wait: a cancellation was
                                pending, or the loop is closing */
};

/* The thread check of calls that read or free: the owner thread only (a
 * closed loop has none), so they also work after the loop closed. */
static inline int il__sync_thread_check(const il_loop_t *loop) {
  uintptr_t owner = atomic_load_explicit(&loop->owner, memory_order_relaxed);
  if (IL__UNLIKELY(owner != 0 && owner != (uintptr_t)pthread_self()))
    return IL_EWRONGTHREAD;
  return 0;
}

/* The check every waiting call starts with: a live loop, its thread, a task
 * of this loop running. */
static inline int il__sync_task_check(il_loop_t *loop) {
  int rc = il__loop_check(loop);
  if (rc < 0)
    return rc;
  return il_task_current(loop) ? 0 : IL_ENOTASK;
}

/* A primitive keeps its loop's memory alive (as futures do), so freeing it
 * after il_loop_free() is safe. */
static inline void il__sync_loop_ref(il_loop_t *loop) {
  loop->refs++;
}

static inline int il__waiter_linked(const il__waitq_t *q,
                                    const il__waiter_t *w) {
  return w->prev != NULL || q->head == w;
}

static inline void il__waitq_push(il__waitq_t *q, il__waiter_t *w) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail)
    q->tail->next = w;
  else
    q->head = w;
  q->tail = w;
}

static inline void il__waitq_remove(il__waitq_t *q, il__waiter_t *w) {
  if (w->prev)
    w->prev->next = w->next;
  else
    q->head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    q->tail = w->prev;
  w->prev = w->next = NULL;
}

/* A waiter still waiting: its future is pending (not woken, not cancelled
 * by its task's cancellation). */
static inline int il__waiter_pending(const il__waiter_t *w) {
  return w->fut != NULL && !il_future_done(w->fut);
}

/* Wakes the first waiter still waiting; returns 1, or 0 if there is none. */
static inline int il__waitq_wake_first(il__waitq_t *q) {
  for (il__waiter_t *w = q->head; w; w = w->next) {
    if (il__waiter_pending(w)) {
      il_future_set_result(w->fut, NULL, NULL);
      return 1;
    }
  }
  return 0;
}

/* Wakes every waiter still waiting; returns how many. */
static inline int il__waitq_wake_all(il__waitq_t *q) {
  int n = 0;
  for (il__waiter_t *w = q->head; w; w = w->next) {
    if (il__waiter_pending(w)) {
      il_future_set_result(w->fut, NULL, NULL);
      n++;
    }
  }
  return n;
}

/* The primitive is being freed: every waiter in the list is marked closed,
 * woken if still waiting, and unlinked; none touches the primitive again. */
static inline void il__waitq_close(il__waitq_t *q) {
  il__waiter_t *w;
  while ((w = q->head) != NULL) {
    il__waitq_remove(q, w);
    w->closed = 1;
    if (il__waiter_pending(w))
      il_future_set_result(w->fut, NULL, NULL);
  }
}

/* Inside a task: waits on a fresh future, with `w` at the tail of `q` (or
 * where it already is, if linked: a waiter that lost a race keeps its
 * place). Returns an il__wait_outcome with `w` still linked — the caller
 * deals with the outcome and unlinks it — or a negative code with `w`
 * unlinked: IL_ECLOSED (the primitive was freed: touch nothing of it),
 * IL_ENOMEM. */
static inline int il__waitq_wait(il_loop_t *loop, il__waitq_t *q,
                                 il__waiter_t *w) {
  int rc = il_future_new(loop, &w->fut);
  if (rc < 0) {
    w->fut = NULL;
    if (il__waiter_linked(q, w))
      il__waitq_remove(q, w);
    return rc;
  }
  if (!il__waiter_linked(q, w))
    il__waitq_push(q, w);
  rc = il_await(w->fut, NULL);
  il_future_t *f = w->fut;
  w->fut = NULL;
  int out;
  if (w->closed)
    out = IL_ECLOSED;
  else if (il_future_cancelled(f))
    out = IL__W_CANCELLED;
  else if (il_future_done(f))
    out = rc == 0 ? IL__W_WOKEN : IL__W_WOKEN_CANCELLED;
  else
    out = IL__W_REFUSED;
  il_future_unref(f);
  return out;
}

/* core/sync_lock.c: the lock's parts a condition needs. */
struct il_lock {
  il_loop_t *loop;
  il__waitq_t waiters;
  int locked;
  int cond_users; /* conditions using this lock (il_lock_free refuses) */
  int embedded;   /* a condition's own lock, freed with it */
};

/* Initialises a lock embedded in another object. */
void il__lock_init(il_lock_t *lock, il_loop_t *loop, int embedded);
/* Wakes and detaches the waiters of an embedded lock being freed. */
void il__lock_close(il_lock_t *lock);
/* il_lock_acquire after the checks; IL__W_REFUSED-style refusals are
 * reported through *refused (1) with IL_ECANCELED. */
int il__lock_acquire(il_lock_t *lock, int *refused);
/* il_lock_release after the checks (the lock is locked). */
void il__lock_release(il_lock_t *lock);

#endif /* IL__SYNC_INTERNAL_H */

/* interloop/sync.h — synchronisation primitives for tasks (asyncio's Lock,
 * Event, Condition, Semaphore, BoundedSemaphore, Queue, LifoQueue and
 * PriorityQueue). See spec/SPEC.md §9.
 *
 * Every primitive belongs to the loop it was created on. Every function here
 * must be called on that loop's thread (IL_EWRONGTHREAD otherwise, nothing
 * changes). They are not thread-safe: to signal from another thread, go
 * through il_loop_call_soon_threadsafe().
 *
 * The waiting calls (il_lock_acquire, il_event_wait, il_condition_wait,
 * il_condition_wait_for, il_semaphore_acquire, il_queue_put, il_queue_get,
 * il_queue_join) must be called from inside a task of that loop: they
 * suspend the task (il_await on a future of their own) until they can go on,
 * and return IL_ENOTASK anywhere else. If the task is cancelled while one of
 * them waits, it returns IL_ECANCELED and the primitive is left as if the
 * call had never been made (a hand-over the task was about to receive is
 * passed on to the next waiter). The other calls never wait: tasks and plain
 * callbacks may use them alike.
 *
 * Waiters are woken in the order they began to wait (FIFO). A woken task
 * runs in a later pass of the loop, never inside the call that woke it.
 *
 * Freeing a primitive that tasks still wait on is allowed: each of their
 * waiting calls returns IL_ECLOSED (also if the task was cancelled at the
 * same time) without touching the freed primitive again; a condition's
 * waiter then does not hold the lock. When the loop closes, the tasks still
 * waiting are finished as task.h says: their waits return IL_ECANCELED. */
#ifndef INTERLOOP_SYNC_H
#define INTERLOOP_SYNC_H

#include "common.h"
#include "future.h"
#include "task.h"

IL_BEGIN_DECLS

/* ---- lock (asyncio.Lock) ------------------------------------------------- */

/* A mutual-exclusion lock for tasks. Not reentrant and not owned: any task
 * or callback may release it. Fair: releasing hands it straight to the
 * longest waiter, so it stays locked and a newcomer waits behind. */
typedef struct il_lock il_lock_t;

/* Creates an unlocked lock on `loop`; *out is the caller's, freed with
 * il_lock_free(). Loop thread. Errors: IL_EINVAL (NULL), IL_ECLOSED,
 * IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_lock_new(il_loop_t *loop, il_lock_t **out);

/* Frees the lock; tasks waiting in il_lock_acquire return IL_ECLOSED. NULL
 * is a no-op. Loop thread (also after the loop closed). Errors (nothing is
 * freed): IL_EWRONGTHREAD, IL_EBUSY (a condition still uses the lock),
 * IL_EINVALSTATE (the lock is a condition's own, see il_condition_lock). */
IL_EXTERN int il_lock_free(il_lock_t *lock);

/* Inside a task: takes the lock, waiting behind earlier waiters if it is
 * locked. Returns 0 when the task holds it. Errors: IL_EINVAL (NULL),
 * IL_ENOTASK, IL_ECANCELED (cancelled while waiting; the lock is not held,
 * and if it had just been handed to this task it goes to the next waiter),
 * IL_ECLOSED (the lock was freed while waiting, or the loop is closed),
 * IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_lock_acquire(il_lock_t *lock);

/* Releases the lock: hands it to the first waiter, or unlocks it if nobody
 * waits. Tasks and callbacks. Errors: IL_EINVAL (NULL), IL_EINVALSTATE (not
 * locked; nothing changes), IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_lock_release(il_lock_t *lock);

/* 1 if the lock is held (or handed to a waiter that has not run yet), 0 if
 * not. Errors: IL_EINVAL (NULL), IL_EWRONGTHREAD. */
IL_EXTERN int il_lock_locked(const il_lock_t *lock);

/* ---- event (asyncio.Event) ----------------------------------------------- */

/* A flag tasks can wait for. Initially clear. */
typedef struct il_event il_event_t;

/* Creates a clear event on `loop`; *out is the caller's, freed with
 * il_event_free(). Errors: IL_EINVAL, IL_ECLOSED, IL_EWRONGTHREAD,
 * IL_ENOMEM. */
IL_EXTERN int il_event_new(il_loop_t *loop, il_event_t **out);

/* Frees the event; tasks waiting in il_event_wait return IL_ECLOSED. NULL
 * is a no-op. Loop thread (also after the loop closed). Errors (nothing is
 * freed): IL_EWRONGTHREAD. */
IL_EXTERN int il_event_free(il_event_t *ev);

/* Inside a task: returns 0 at once if the event is set, else waits until
 * il_event_set(). A waiter woken by a set returns 0 even if the event was
 * cleared again before it ran. Errors: IL_EINVAL, IL_ENOTASK, IL_ECANCELED,
 * IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_event_wait(il_event_t *ev);

/* Sets the event and wakes every task waiting for it. Setting a set event
 * does nothing. Tasks and callbacks. Errors: IL_EINVAL, IL_ECLOSED,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_event_set(il_event_t *ev);

/* Clears the event: later il_event_wait calls wait. Errors: IL_EINVAL,
 * IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_event_clear(il_event_t *ev);

/* 1 if the event is set, 0 if clear. Errors: IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int il_event_is_set(const il_event_t *ev);

/* ---- condition (asyncio.Condition) --------------------------------------- */

/* A condition variable: tasks holding its lock wait to be notified. */
typedef struct il_condition il_condition_t;

/* A predicate for il_condition_wait_for: non-zero when the wait is over.
 * Called with the condition's lock held. */
typedef int (*il_predicate_fn)(void *arg);

/* Creates a condition on `loop` that uses `lock` (NULL: a lock of its own,
 * created with it and freed with it; see il_condition_lock). A given lock
 * must outlive the condition: il_lock_free refuses it while a condition
 * uses it. Several conditions may share one lock. Errors: IL_EINVAL (NULL
 * loop or out), IL_EINVALSTATE (`lock` belongs to another loop), IL_ECLOSED,
 * IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_condition_new(il_loop_t *loop, il_lock_t *lock,
                               il_condition_t **out);

/* Frees the condition (and its own lock, if it made one). Tasks waiting in
 * il_condition_wait return IL_ECLOSED without the lock. NULL is a no-op.
 * Loop thread (also after the loop closed). Errors (nothing is freed):
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_condition_free(il_condition_t *cond);

/* The condition's lock: acquire and release it with il_lock_acquire and
 * il_lock_release. Owned by whoever created it (a lock the condition made
 * itself is freed with the condition; il_lock_free refuses it). NULL for
 * NULL. */
IL_EXTERN il_lock_t *il_condition_lock(const il_condition_t *cond);

/* Inside a task holding the lock: releases the lock, waits until notified,
 * re-acquires the lock and returns 0. The lock cannot tell which task holds
 * it: "holding" is checked as "locked". The lock is held again on every
 * return except the errors found before waiting, IL_ECLOSED, IL_ENOMEM and
 * a wait cut short by the loop closing. Errors: IL_EINVAL, IL_ENOTASK,
 * IL_EINVALSTATE (the lock is not locked; nothing changes), IL_ECANCELED
 * (cancelled while waiting or re-acquiring: the lock is re-acquired first,
 * and a notification this task had received goes to the next waiter),
 * IL_ECLOSED (the condition, or its lock, was freed), IL_ENOMEM,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_condition_wait(il_condition_t *cond);

/* Inside a task holding the lock: il_condition_wait until pred(arg) returns
 * non-zero; returns 0 at once if it already does. Errors: as
 * il_condition_wait, and IL_EINVAL for a NULL pred. */
IL_EXTERN int il_condition_wait_for(il_condition_t *cond, il_predicate_fn pred,
                                    void *arg);

/* With the lock held: wakes up to `n` waiting tasks, longest waiting first.
 * Returns how many it woke. Tasks and callbacks. Errors: IL_EINVAL (NULL,
 * n < 0), IL_EINVALSTATE (the lock is not locked), IL_ECLOSED,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_condition_notify(il_condition_t *cond, int n);

/* With the lock held: wakes every waiting task; returns how many. Errors:
 * as il_condition_notify. */
IL_EXTERN int il_condition_notify_all(il_condition_t *cond);

/* ---- semaphores (asyncio.Semaphore, asyncio.BoundedSemaphore) ------------ */

/* A counter tasks take from and give back to. Fair like il_lock_t: a release
 * with tasks waiting hands the unit to the first of them. */
typedef struct il_semaphore il_semaphore_t;

/* Creates a semaphore with `value` units on `loop`; *out is the caller's,
 * freed with il_semaphore_free(). Errors: IL_EINVAL (NULL, value < 0),
 * IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_semaphore_new(il_loop_t *loop, int value,
                               il_semaphore_t **out);

/* As il_semaphore_new, but bounded: il_semaphore_release refuses to raise
 * the count above `value`. */
IL_EXTERN int il_semaphore_new_bounded(il_loop_t *loop, int value,
                                       il_semaphore_t **out);

/* Frees the semaphore; tasks waiting in il_semaphore_acquire return
 * IL_ECLOSED. NULL is a no-op. Loop thread (also after the loop closed).
 * Errors (nothing is freed): IL_EWRONGTHREAD. */
IL_EXTERN int il_semaphore_free(il_semaphore_t *sem);

/* Inside a task: takes one unit, waiting (behind earlier waiters) while
 * there is none. Errors: IL_EINVAL, IL_ENOTASK, IL_ECANCELED (no unit is
 * taken; one just handed to this task goes to the next waiter or back to
 * the count), IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_semaphore_acquire(il_semaphore_t *sem);

/* Gives one unit back: to the first waiter, else to the count. Tasks and
 * callbacks. Errors: IL_EINVAL, IL_EINVALSTATE (bounded, and the count is
 * already at its initial value; nothing changes), IL_ERANGE (the count
 * would overflow INT_MAX), IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_semaphore_release(il_semaphore_t *sem);

/* 1 if il_semaphore_acquire would wait now (no unit free), 0 if not.
 * Errors: IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int il_semaphore_locked(const il_semaphore_t *sem);

/* ---- queues (asyncio.Queue, LifoQueue, PriorityQueue) -------------------- */

/* A queue of `void *` items between tasks: first in first out, last in
 * first out, or by priority. The queue never owns its items (except for the
 * destructor given to il_queue_free). */
typedef struct il_queue il_queue_t;

/* Orders a priority queue: negative if item a comes out before item b,
 * positive if after, 0 if equal (equal items come out in the order they
 * were put). `a` and `b` are items as given to il_queue_put; `ud` is the
 * pointer given to il_queue_new_priority. */
typedef int (*il_compare_fn)(const void *a, const void *b, void *ud);

/* Creates a FIFO queue holding at most `maxsize` items (0: no limit) on
 * `loop`; *out is the caller's, freed with il_queue_free(). Errors:
 * IL_EINVAL (NULL), IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_queue_new(il_loop_t *loop, size_t maxsize, il_queue_t **out);

/* As il_queue_new, last in first out (a stack). */
IL_EXTERN int il_queue_new_lifo(il_loop_t *loop, size_t maxsize,
                                il_queue_t **out);

/* As il_queue_new, smallest item first by `cmp(a, b, ud)`, FIFO among
 * equal items. Errors: as il_queue_new, IL_EINVAL for a NULL cmp. */
IL_EXTERN int il_queue_new_priority(il_loop_t *loop, size_t maxsize,
                                    il_compare_fn cmp, void *ud,
                                    il_queue_t **out);

/* Frees the queue. `item_dtor` (may be NULL) is called, in queue order, on
 * each item still inside. Tasks waiting in il_queue_put, il_queue_get or
 * il_queue_join return IL_ECLOSED (a waiting putter's item stays the
 * putter's). NULL is a no-op. Loop thread (also after the loop closed).
 * Errors (nothing is freed): IL_EWRONGTHREAD. */
IL_EXTERN int il_queue_free(il_queue_t *q, il_destructor_fn item_dtor);

/* Inside a task: puts `item`, waiting (behind earlier putters) while the
 * queue is full. Counts one unfinished item for il_queue_join. Errors
 * (the item was not put): IL_EINVAL, IL_ENOTASK, IL_ECANCELED, IL_ECLOSED,
 * IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_queue_put(il_queue_t *q, void *item);

/* Inside a task: takes the next item into *item, waiting (behind earlier
 * getters) while the queue is empty. Errors (nothing was taken, *item is
 * NULL): IL_EINVAL (NULL q or item), IL_ENOTASK, IL_ECANCELED (an item
 * that arrived for this task stays in the queue for the next getter),
 * IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_queue_get(il_queue_t *q, void **item);

/* Puts `item` without waiting, and wakes the first waiting getter. Tasks
 * and callbacks. Errors (not put): IL_EINVAL, IL_EAGAIN (full), IL_ECLOSED,
 * IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_queue_put_nowait(il_queue_t *q, void *item);

/* Takes the next item into *item without waiting, and wakes the first
 * waiting putter. Errors (*item is NULL): IL_EINVAL, IL_EAGAIN (empty),
 * IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_queue_get_nowait(il_queue_t *q, void **item);

/* Inside a task: waits until every item put so far was marked done with
 * il_queue_task_done (0 at once if none is unfinished). Errors: IL_EINVAL,
 * IL_ENOTASK, IL_ECANCELED, IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM. */
IL_EXTERN int il_queue_join(il_queue_t *q);

/* Marks one item taken from the queue as processed; when none is left
 * unfinished, the tasks in il_queue_join are woken. Errors: IL_EINVAL,
 * IL_EINVALSTATE (called more times than items were put; nothing
 * changes), IL_ECLOSED, IL_EWRONGTHREAD. */
IL_EXTERN int il_queue_task_done(il_queue_t *q);

/* The number of items in the queue. Errors: IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int64_t il_queue_size(const il_queue_t *q);

/* The queue's limit (0: none). Errors: IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int64_t il_queue_maxsize(const il_queue_t *q);

/* 1 if the queue holds no item, 0 if it holds some. Errors: IL_EINVAL,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_queue_empty(const il_queue_t *q);

/* 1 if the queue holds maxsize items (never for maxsize 0), else 0.
 * Errors: IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int il_queue_full(const il_queue_t *q);

IL_END_DECLS

#endif /* INTERLOOP_SYNC_H */

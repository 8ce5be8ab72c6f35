/* interloop/task.h — tasks: stackful coroutines that are futures.
 * See spec/SPEC.md §8.
 *
 * A task runs a C function on its own stack. Inside it, il_await() suspends
 * the task until a future is done while the loop runs everything else, so
 * asynchronous code reads top to bottom. A task is a future (il_task_t is
 * il_future_t): await it, gather it, add done-callbacks to it, unref it.
 * Every function here is for the loop thread; the ones that suspend
 * (il_await, il_sleep, il_yield, il_wait_for, il_taskgroup_wait) must be
 * called from inside a task of that loop and return IL_ENOTASK elsewhere.
 *
 * Cancellation follows asyncio: il_task_cancel() makes the task's pending
 * il_await (or its next one) return IL_ECANCELED. The task may clean up and
 * return; it ends cancelled if its function returns IL_ECANCELED, otherwise
 * as its function says. */
#ifndef INTERLOOP_TASK_H
#define INTERLOOP_TASK_H

#include "common.h"
#include "future.h"
#include "loop.h"

IL_BEGIN_DECLS

typedef il_future_t il_task_t;

/* The body of a task. Return 0 (or any non-negative value) to finish with
 * the result set by il_task_return() (NULL if none), a negative IL_E* code
 * to fail with it (message through il_task_fail), or IL_ECANCELED to end
 * cancelled. */
typedef int (*il_task_fn)(il_task_t *self, void *arg);

typedef struct il_task_options {
  size_t size;       /* sizeof(il_task_options_t); set by the INIT macro */
  size_t stack_size; /* usable stack in bytes; 0: the default, 256 KiB.
                        Rounded up to whole pages; minimum 16 KiB. */
  int guard;         /* 1 (default): an inaccessible guard page under the
                        stack, so an overflow is a SIGSEGV instead of silent
                        corruption; 0: none (saves one kernel mapping per
                        task, see SPEC §8.6) */
  const char *name;  /* copied; for debug output; may be NULL */
} il_task_options_t;

#define IL_TASK_OPTIONS_INIT                                                   \
  { sizeof(il_task_options_t), 0, 1, NULL }

/* ---- spawning -------------------------------------------------------------
 */

/* Creates a task running fn(task, arg) on its own stack, starting in the
 * loop's next pass (il_loop_call_soon order). *out (may be NULL) receives a
 * reference the caller releases with il_future_unref(); the loop keeps its
 * own until the task is done. `opts` may be NULL. Loop thread; also from
 * inside another task. Errors: IL_EINVAL (NULL loop or fn, opts->size too
 * small), IL_ECLOSED, IL_EWRONGTHREAD, IL_ENOMEM, IL_ELIMIT (the kernel's
 * limit on memory mappings — vm.max_map_count — is reached; see SPEC §8.6). */
IL_EXTERN int il_task_spawn(il_loop_t *loop, il_task_fn fn, void *arg,
                            const il_task_options_t *opts, il_task_t **out);

/* Inside a task: sets the result the task finishes with when its function
 * returns 0. The task owns `value` from now on (`dtor`, may be NULL, is
 * called when the task is freed, or at once when replaced by a later call).
 * Errors: IL_EINVAL (NULL), IL_ENOTASK (self is not the running task). */
IL_EXTERN int il_task_return(il_task_t *self, void *value,
                             il_destructor_fn dtor);

/* Inside a task: records `message` (copied) for the error the task is about
 * to return, and returns `code`, so a body can write
 * `return il_task_fail(self, IL_EIO, "header too long");`. Returns IL_EINVAL
 * instead for a NULL self or code >= 0, IL_ENOTASK if self is not running. */
IL_EXTERN int il_task_fail(il_task_t *self, int code, const char *message);

/* ---- suspending (inside a task only) ------------------------------------- */

/* Suspends the calling task until f is done, then returns like
 * il_future_result(f, value) (0 and the value, or f's error code, marking
 * it retrieved). A done f returns at once without suspending. Returns
 * IL_ECANCELED at once if the task has a cancellation pending. Cancelling
 * the task while it waits cancels f, as in asyncio (protect f with
 * il_shield() when it must survive): the call returns when f is done —
 * IL_ECANCELED if f was cancelled, f's outcome if f finished anyway (a task
 * that handled the cancellation). Once the loop is closing, returns
 * IL_ECANCELED without suspending (SPEC §8.5). Errors: IL_EINVAL (NULL f),
 * IL_ENOTASK (not in a task of f's loop), IL_EINVALSTATE (f is the calling
 * task). */
IL_EXTERN int il_await(il_future_t *f, void **value);

/* Suspends the calling task for `seconds` (<= 0: one pass, as il_yield).
 * Returns 0, IL_ECANCELED, IL_ENOTASK, IL_ENOMEM. */
IL_EXTERN int il_sleep(il_loop_t *loop, double seconds);

/* Suspends the calling task until the loop's next pass, letting everything
 * already ready run first. Returns 0, IL_ECANCELED, IL_ENOTASK, IL_ENOMEM. */
IL_EXTERN int il_yield(il_loop_t *loop);

/* The task running on `loop` now, or NULL outside a task (or NULL loop).
 * No reference is taken. Loop thread. */
IL_EXTERN il_task_t *il_task_current(il_loop_t *loop);

/* ---- cancellation -----------------------------------------------------------
 */

/* Requests the task's cancellation with `reason` (may be NULL, copied). If
 * the task waits in il_await the awaited future is cancelled (unless it
 * refuses, e.g. a done future), if it sleeps or yields it wakes with
 * IL_ECANCELED, else its next il_await returns IL_ECANCELED; a task not yet
 * started ends cancelled without running.
 * Returns 1 if the request was taken, 0 if the task is already done, or
 * IL_EINVAL, IL_ENOTASK (t is a plain future), IL_EWRONGTHREAD. */
IL_EXTERN int il_task_cancel(il_task_t *t, const char *reason);

/* How many cancellation requests the task has that were not withdrawn with
 * il_task_uncancel(). Errors: IL_EINVAL, IL_ENOTASK. */
IL_EXTERN int il_task_cancelling(const il_task_t *t);

/* Withdraws one cancellation request; returns the remaining count. When it
 * reaches 0 a cancellation not yet delivered is dropped. For code that turns
 * a cancellation it caused into another outcome (timeouts, task groups).
 * Errors: IL_EINVAL, IL_ENOTASK. */
IL_EXTERN int il_task_uncancel(il_task_t *t);

/* 1 if f is a task, 0 if a plain future or NULL. */
IL_EXTERN int il_future_is_task(const il_future_t *f);

/* The name given in the options, or "" . NULL for NULL or a plain future. */
IL_EXTERN const char *il_task_name(const il_task_t *t);

/* ---- waiting with a limit (inside a task only) ----------------------------
 */

/* Awaits f for at most `timeout` seconds (< 0: no limit). On time-out, f is
 * cancelled, the call waits until f is done, and returns IL_ETIMEDOUT —
 * unless f finished anyway, then its outcome is returned. If the calling
 * task is cancelled, f is cancelled too and IL_ECANCELED returned.
 * Otherwise as il_await(). Errors: as il_await, IL_ENOMEM. */
IL_EXTERN int il_wait_for(il_future_t *f, double timeout, void **value);

/* A time limit on a block of task code (asyncio.timeout):
 *
 *   il_timeout_t *to;
 *   il_timeout_enter(loop, 2.0, &to);
 *   rc = il_await(a, NULL); if (rc == 0) rc = il_await(b, NULL);
 *   rc = il_timeout_exit(to, rc);   // IL_ETIMEDOUT if the limit hit
 *
 * When the deadline passes, the task is cancelled; il_timeout_exit() turns
 * the resulting IL_ECANCELED into IL_ETIMEDOUT and withdraws that
 * cancellation, so other cancellations still propagate. */
typedef struct il_timeout il_timeout_t;

/* Starts a time limit of `delay` seconds (< 0: none yet) for the calling
 * task; *out is the caller's until il_timeout_exit(). Errors: IL_EINVAL,
 * IL_ENOTASK, IL_ENOMEM. */
IL_EXTERN int il_timeout_enter(il_loop_t *loop, double delay,
                               il_timeout_t **out);

/* Moves the deadline to `when` on il_loop_time()'s clock (< 0: none).
 * Errors: IL_EINVAL, IL_EINVALSTATE (already expired), IL_ENOMEM. */
IL_EXTERN int il_timeout_reschedule(il_timeout_t *to, double when);

/* 1 if the deadline passed and the task was cancelled for it, else 0. */
IL_EXTERN int il_timeout_expired(const il_timeout_t *to);

/* Ends the block and frees `to`. Returns IL_ETIMEDOUT if the limit expired
 * and `rc` is IL_ECANCELED due to it; otherwise `rc` unchanged. Errors:
 * IL_EINVAL (NULL), IL_ENOTASK (not the task that entered). */
IL_EXTERN int il_timeout_exit(il_timeout_t *to, int rc);

/* ---- task groups (structured concurrency, asyncio.TaskGroup) --------------
 */

typedef struct il_taskgroup il_taskgroup_t;

/* Creates a task group owned by the calling task (its parent). Children are
 * spawned with il_taskgroup_spawn; il_taskgroup_wait waits for all. The
 * first child that fails (with an error other than IL_ECANCELED) cancels
 * every other child and the parent's current await; the group then reports
 * every child error. Errors: IL_EINVAL, IL_ENOTASK, IL_ENOMEM. */
IL_EXTERN int il_taskgroup_new(il_loop_t *loop, il_taskgroup_t **out);

/* Spawns fn(task, arg) into the group; as il_task_spawn, *out optional.
 * Errors: as il_task_spawn, IL_EINVALSTATE (the group is shutting down
 * after a failure, or already waited). */
IL_EXTERN int il_taskgroup_spawn(il_taskgroup_t *g, il_task_fn fn, void *arg,
                                 const il_task_options_t *opts,
                                 il_task_t **out);

/* Waits until every child is done (from the parent task). Returns 0 if all
 * finished, the code of the first failure if any failed (every failure is
 * listed by il_taskgroup_error), or IL_ECANCELED if the parent itself was
 * cancelled from outside (the children are cancelled and awaited first).
 * Errors: IL_EINVAL, IL_ENOTASK (not the parent), IL_EINVALSTATE (already
 * waited). */
IL_EXTERN int il_taskgroup_wait(il_taskgroup_t *g);

/* The number of failed children after il_taskgroup_wait. */
IL_EXTERN int il_taskgroup_error_count(const il_taskgroup_t *g);

/* Failure i (0-based, in the order they happened): returns its code and
 * stores its message (valid until il_taskgroup_free) in *message (may be
 * NULL). Errors: IL_EINVAL (NULL, i out of range). */
IL_EXTERN int il_taskgroup_error(const il_taskgroup_t *g, int i,
                                 const char **message);

/* Frees the group. Children still running are cancelled and keep running
 * on their own until done. NULL is a no-op. */
IL_EXTERN void il_taskgroup_free(il_taskgroup_t *g);

IL_END_DECLS

#endif /* INTERLOOP_TASK_H */

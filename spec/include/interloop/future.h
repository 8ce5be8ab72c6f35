/* interloop/future.h — futures and the combinators built on them.
 * See spec/SPEC.md §7.
 *
 * A future is a result that arrives later: pending, then exactly once
 * finished (with a result or an error) or cancelled. Futures belong to the
 * loop they were created on and every function here must be called on that
 * loop's thread (IL_EWRONGTHREAD otherwise).
 *
 * Ownership: futures are reference counted. il_future_new() and every
 * function that hands out a future (il_task_spawn, il_gather, il_shield, ...)
 * give the caller one reference, released with il_future_unref(). The loop
 * holds its own references while it needs the future (a scheduled
 * done-callback, a running task, a combinator waiting on a child), so a
 * caller may unref at any time without cutting anything short. */
#ifndef INTERLOOP_FUTURE_H
#define INTERLOOP_FUTURE_H

#include "common.h"
#include "loop.h"

IL_BEGIN_DECLS

typedef struct il_future il_future_t;

/* A done-callback: called on the loop thread, through the loop, after `f`
 * became done. Return 0, or a negative IL_E* code, which is reported to the
 * loop's error handler (source IL_SOURCE_CALLBACK). */
typedef int (*il_done_fn)(il_future_t *f, void *arg);

/* ---- creating and completing -------------------------------------------- */

/* Creates a pending future on `loop`; *out receives the caller's reference.
 * Loop thread. Errors: IL_EINVAL (NULL), IL_ECLOSED, IL_EWRONGTHREAD,
 * IL_ENOMEM. */
IL_EXTERN int il_future_new(il_loop_t *loop, il_future_t **out);

/* Takes one more reference; returns f. NULL-safe. Loop thread. */
IL_EXTERN il_future_t *il_future_ref(il_future_t *f);

/* Drops one reference; the last one frees the future: the result's
 * destructor runs, and an error nobody retrieved (il_future_error,
 * il_future_result, il_await, run_until_complete) is reported to the loop's
 * error handler with source IL_SOURCE_FUTURE. NULL is a no-op. Loop thread
 * (also after the loop closed). */
IL_EXTERN void il_future_unref(il_future_t *f);

/* Finishes a pending future with `value`. The future takes ownership of
 * `value`: `dtor` (may be NULL) is called with it when the future is freed.
 * Schedules the done-callbacks in registration order.
 * Errors (nothing changes; `value` stays the caller's): IL_EINVAL (NULL),
 * IL_EINVALSTATE (already done), IL_EWRONGTHREAD. */
IL_EXTERN int il_future_set_result(il_future_t *f, void *value,
                                   il_destructor_fn dtor);

/* Finishes a pending future with an error: `code` is a negative IL_E* code
 * other than IL_ECANCELED (use il_future_cancel), `message` (may be NULL) is
 * copied. Errors: IL_EINVAL (NULL, code >= 0 or IL_ECANCELED),
 * IL_EINVALSTATE (already done), IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_future_set_error(il_future_t *f, int code,
                                  const char *message);

/* Cancels the future. A plain pending future becomes cancelled at once
 * (`reason`, may be NULL, is copied) and its done-callbacks are scheduled.
 * A task is asked to cancel (see il_task_cancel in task.h); a combinator's
 * future passes the cancellation to its children. Returns 1 if the request
 * was taken, 0 if the future is already done (nothing changes), or
 * IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int il_future_cancel(il_future_t *f, const char *reason);

/* ---- state ----------------------------------------------------------------
 */

/* 1 if the future is done (finished or cancelled), 0 if pending or NULL. */
IL_EXTERN int il_future_done(const il_future_t *f);

/* 1 if the future was cancelled, 0 otherwise (or NULL). */
IL_EXTERN int il_future_cancelled(const il_future_t *f);

/* Reads the result of a done future. Returns 0 and stores the value in
 * *value (may be NULL; the value stays owned by the future), or the
 * future's error code (IL_ECANCELED if cancelled), which counts as having
 * retrieved the error. Errors: IL_EINVAL (NULL f), IL_EINVALSTATE (pending),
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_future_result(il_future_t *f, void **value);

/* The error of a done future: 0 if it finished with a result, its code if
 * it failed, IL_ECANCELED if cancelled. *message (may be NULL) receives the
 * message or the cancellation reason ("" if none), valid while the future
 * lives. Marks the error retrieved. Errors: IL_EINVAL, IL_EINVALSTATE
 * (pending), IL_EWRONGTHREAD. */
IL_EXTERN int il_future_error(il_future_t *f, const char **message);

/* The loop the future belongs to; NULL for NULL. Any thread. */
IL_EXTERN il_loop_t *il_future_loop(const il_future_t *f);

/* ---- done-callbacks ----------------------------------------------------- */

/* Arranges for cb(f, arg) to run through the loop once f is done — never
 * synchronously, also when f is already done (then it is scheduled now).
 * Callbacks run in the order they were added. Loop thread.
 * Errors: IL_EINVAL (NULL f or cb), IL_ECLOSED (f done and its loop closed:
 * nothing could run it), IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_future_add_done_callback(il_future_t *f, il_done_fn cb,
                                          void *arg);

/* Removes every registration of (cb, arg) not yet scheduled. Returns how
 * many it removed (0 if none), or IL_EINVAL, IL_EWRONGTHREAD. */
IL_EXTERN int il_future_remove_done_callback(il_future_t *f, il_done_fn cb,
                                             void *arg);

/* ---- running a loop until a future is done ------------------------------ */

/* Runs the loop (IL_RUN_DEFAULT) until f is done, then stops it, and
 * returns like il_future_result(f, value). Errors: IL_EINVAL, IL_ECLOSED,
 * IL_ERUNNING (the loop is already running; nothing runs),
 * IL_EINVALSTATE (f belongs to another loop), IL_EWRONGTHREAD, IL_ESTOPPED
 * (il_loop_stop() ended the run before f was done; f is untouched), or f's
 * error. */
IL_EXTERN int il_loop_run_until_complete(il_loop_t *loop, il_future_t *f,
                                         void **value);

/* ---- combinators ----------------------------------------------------------
 */

/* il_gather(): fail on the first child error (default) ... */
#define IL_GATHER_DEFAULT 0
/* ... or wait for every child and collect errors instead. */
#define IL_GATHER_COLLECT_ERRORS 1

/* A future that finishes when all `n` futures are done. Its result is an
 * array of n values in argument order (value i is child i's result, NULL for
 * a child that failed or was cancelled), owned by the gather future. By
 * default the first child to fail (or be cancelled) fails the gather with
 * that child's code; the other children go on running. With
 * IL_GATHER_COLLECT_ERRORS the gather always waits for every child and
 * finishes with the array; read each child's own state for its error.
 * Cancelling the gather cancels every child not yet done. The gather holds a
 * reference to each child until it is freed. n == 0 gives a finished future
 * with an empty (NULL) array. Loop thread. Errors: IL_EINVAL (NULL out,
 * NULL futures with n > 0, a NULL child, unknown flags), IL_EINVALSTATE (a
 * child of another loop), IL_ECLOSED, IL_ENOMEM, IL_EWRONGTHREAD. */
IL_EXTERN int il_gather(il_loop_t *loop, il_future_t *const *futures, size_t n,
                        int flags, il_future_t **out);

/* il_wait() modes. */
typedef enum il_wait_mode {
  IL_WAIT_FIRST_COMPLETED = 1, /* when any future is done */
  IL_WAIT_FIRST_ERROR = 2,     /* when any fails or is cancelled, or all done */
  IL_WAIT_ALL_COMPLETED = 3    /* when every future is done */
} il_wait_mode_t;

/* A future that finishes when the `mode` condition holds or `timeout`
 * seconds pass (timeout < 0: never). It never fails and never cancels the
 * futures it watches; its result is the number of them done, as
 * (void *)(uintptr_t)count — check each future's state for which. Cancelling
 * it only stops the watching. Loop thread. Errors: as il_gather, and
 * IL_EINVAL for an unknown mode or n == 0. */
IL_EXTERN int il_wait(il_loop_t *loop, il_future_t *const *futures, size_t n,
                      il_wait_mode_t mode, double timeout, il_future_t **out);

/* A future that mirrors `inner` (same result or error) but whose own
 * cancellation does not reach `inner`: cancelling the shield cancels only
 * the shield. Loop thread. Errors: IL_EINVAL, IL_ECLOSED, IL_ENOMEM,
 * IL_EWRONGTHREAD. */
IL_EXTERN int il_shield(il_future_t *inner, il_future_t **out);

IL_END_DECLS

#endif /* INTERLOOP_FUTURE_H */
